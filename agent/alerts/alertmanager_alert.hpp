#pragma once

// What hostpulse tells an Alertmanager, as pure functions: an alert event
// becomes an Alertmanager alert (labels identify it, annotations describe
// it), and a batch of those becomes the body of POST /api/v2/alerts.

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "agent/alerts/alert_instance.hpp"
#include "base/status.hpp"

namespace hostpulse {

// One alert as Alertmanager sees it. Alertmanager identifies an alert by its
// label set: the same labels in every send of one incident, or it sees two.
struct AlertmanagerAlert {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::int64_t starts_at_ms = 0;
  // 0 while firing (the sender sets endsAt a little ahead at each send);
  // the time it resolved otherwise.
  std::int64_t ends_at_ms = 0;

  [[nodiscard]] bool resolved() const { return ends_at_ms != 0; }
};

// Whether the event starts or updates an alert in Alertmanager (warning,
// critical, nodata) or ends one (back to OK from any of those).
bool alertmanager_firing(const AlertEvent& event);
bool alertmanager_resolve(const AlertEvent& event);

// labels: the series' labels, then the rule's labels, then alertname (the
// rule), instance (the series), host and severity, each replacing an earlier
// one of that name; names Alertmanager would refuse are made valid
// (label_name). annotations: description, summary (when the rule has one),
// value, threshold and state. starts_at_ms: the event's time; the caller
// keeps the first one of an incident.
AlertmanagerAlert alertmanager_alert(const AlertEvent& event, const std::string& host);

// Alertmanager accepts label names matching [a-zA-Z_][a-zA-Z0-9_]* and
// refuses the whole batch otherwise: other bytes become '_', a leading digit
// gets a '_' in front, and "__" (reserved) loses its second underscore.
std::string alertmanager_label_name(std::string_view name);

// "2026-12-01T17:04:02.123Z" (RFC 3339, UTC, milliseconds).
std::string format_rfc3339_ms(std::int64_t t_ms);

// The JSON array for POST /api/v2/alerts. A firing alert's endsAt is
// now_ms + valid_for: past it Alertmanager resolves the alert by itself, so
// a sender that dies does not leave it firing forever; each resend moves it on.
std::string encode_alertmanager_alerts(std::span<const AlertmanagerAlert> alerts, std::int64_t now_ms,
                                       std::chrono::milliseconds valid_for);

// Splits "http://host:port[/prefix]" into the client target and the path of
// the v2 alerts endpoint below it ("/prefix/api/v2/alerts"). The error names
// what is wrong.
Status parse_alertmanager_url(const std::string& url, std::string& scheme_host_port, std::string& alerts_path);

// "Basic <base64(user:password)>" (RFC 7617).
std::string basic_authorization(std::string_view user, std::string_view password);

}  // namespace hostpulse
