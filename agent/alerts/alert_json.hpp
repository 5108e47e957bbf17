#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/alerts/alert_manager.hpp"

namespace hostpulse {

// One shape for an event everywhere: the stream's {"type":"alert",...}
// message, the REST event log and webhook bodies.
nlohmann::ordered_json alert_event_json(const AlertEvent& event);
nlohmann::ordered_json active_alert_json(const ActiveAlert& alert);
// {"type":"alerts","active":[...]}: what a stream client gets on connect.
std::string encode_active_alerts_message(const std::vector<ActiveAlert>& active);

}  // namespace hostpulse
