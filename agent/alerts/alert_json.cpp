#include "agent/alerts/alert_json.hpp"

#include <cmath>

namespace hostpulse {

using json = nlohmann::ordered_json;

namespace {
json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }
}  // namespace

json alert_event_json(const AlertEvent& event) {
  json body = {{"type", "alert"},
               {"rule", event.rule},
               {"instance", event.instance},
               {"from", state_name(event.from)},
               {"to", state_name(event.to)},
               {"value", number_or_null(event.value)},
               {"threshold", event.threshold.empty() ? json(nullptr) : json(event.threshold)},
               {"t", event.t_ms},
               {"severity", event.severity},
               {"description", event.description}};
  if (event.incident_ms > 0) body["incident_ms"] = event.incident_ms;
  if (!event.reason.empty()) body["reason"] = event.reason;
  return body;
}

json active_alert_json(const ActiveAlert& alert) {
  return json{{"rule", alert.rule},
              {"instance", alert.instance},
              {"state", state_name(alert.state)},
              {"value", number_or_null(alert.value)},
              {"since", alert.since_ms},
              {"severity", alert.severity},
              {"description", alert.description}};
}

std::string encode_active_alerts_message(const std::vector<ActiveAlert>& active) {
  json list = json::array();
  for (const ActiveAlert& alert : active) list.push_back(active_alert_json(alert));
  return json{{"type", "alerts"}, {"active", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace hostpulse
