#include "agent/alerts/alertmanager_alert.hpp"

#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/alerts/webhook_notifier.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kAlertsEndpoint = "/api/v2/alerts";

bool firing_state(AlertState state) {
  return state == AlertState::warning || state == AlertState::critical || state == AlertState::nodata;
}

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

bool alertmanager_firing(const AlertEvent& event) { return firing_state(event.to); }

bool alertmanager_resolve(const AlertEvent& event) { return event.to == AlertState::ok && firing_state(event.from); }

std::string alertmanager_label_name(std::string_view name) {
  std::string valid;
  valid.reserve(name.size() + 1);
  if (name.empty() || !name_start(name.front())) valid.push_back('_');
  for (const char c : name) valid.push_back(name_char(c) ? c : '_');
  // "__" starts Alertmanager's (and Prometheus's) internal labels.
  while (valid.size() > 1 && valid[0] == '_' && valid[1] == '_') valid.erase(0, 1);
  return valid;
}

AlertmanagerAlert alertmanager_alert(const AlertEvent& event, const std::string& host) {
  AlertmanagerAlert alert;
  for (const SeriesLabel& label : event.series_labels) alert.labels[alertmanager_label_name(label.name)] = label.value;
  for (const auto& [name, value] : event.rule_labels) alert.labels[alertmanager_label_name(name)] = value;
  alert.labels["alertname"] = event.rule;
  alert.labels["instance"] = event.instance;
  alert.labels["host"] = host;
  alert.labels["severity"] = event.severity;
  alert.annotations["description"] = event.description;
  if (!event.summary.empty()) alert.annotations["summary"] = event.summary;
  if (std::isfinite(event.value)) alert.annotations["value"] = fmt::format("{}", event.value);
  if (!event.threshold.empty()) alert.annotations["threshold"] = event.threshold;
  alert.annotations["state"] = std::string(state_name(alertmanager_resolve(event) ? event.from : event.to));
  alert.starts_at_ms = event.t_ms;
  return alert;
}

std::string format_rfc3339_ms(std::int64_t t_ms) {
  const std::int64_t seconds = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
  const auto millis = static_cast<int>(t_ms - seconds * 1000);
  const auto as_time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&as_time, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

std::string encode_alertmanager_alerts(std::span<const AlertmanagerAlert> alerts, std::int64_t now_ms,
                                       std::chrono::milliseconds valid_for) {
  json list = json::array();
  for (const AlertmanagerAlert& alert : alerts) {
    json labels = json::object();
    for (const auto& [name, value] : alert.labels) labels[name] = value;
    json annotations = json::object();
    for (const auto& [name, value] : alert.annotations) annotations[name] = value;
    const std::int64_t ends_at = alert.resolved() ? alert.ends_at_ms : now_ms + valid_for.count();
    list.push_back(json{{"labels", std::move(labels)},
                        {"annotations", std::move(annotations)},
                        {"startsAt", format_rfc3339_ms(alert.starts_at_ms)},
                        {"endsAt", format_rfc3339_ms(ends_at)}});
  }
  // Label values come from the host (interface names, mount points): bytes
  // that are not UTF-8 become U+FFFD rather than failing the batch.
  return list.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status parse_alertmanager_url(const std::string& url, std::string& scheme_host_port, std::string& alerts_path) {
  std::string prefix;
  std::string problem = http_url_problem(url, scheme_host_port, prefix);
  if (problem.empty() && prefix.find_first_of("?#") != std::string::npos) {
    problem = "no query or fragment (" + std::string(kAlertsEndpoint) + " is appended to the path)";
  }
  if (!problem.empty()) {
    return Status::failure("invalid Alertmanager url " + quote(url) + ": " + problem +
                           " (expected http://HOST:PORT[/PREFIX], e.g. http://127.0.0.1:9093)");
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  alerts_path = prefix + std::string(kAlertsEndpoint);
  return Status::success();
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string encoded;
  encoded.reserve((plain.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < plain.size(); i += 3) {
    const std::size_t left = plain.size() - i;
    std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(plain[i])) << 16;
    if (left > 1) chunk |= static_cast<std::uint32_t>(static_cast<unsigned char>(plain[i + 1])) << 8;
    if (left > 2) chunk |= static_cast<unsigned char>(plain[i + 2]);
    encoded.push_back(kAlphabet[(chunk >> 18) & 63]);
    encoded.push_back(kAlphabet[(chunk >> 12) & 63]);
    encoded.push_back(left > 1 ? kAlphabet[(chunk >> 6) & 63] : '=');
    encoded.push_back(left > 2 ? kAlphabet[chunk & 63] : '=');
  }
  return "Basic " + encoded;
}

}  // namespace hostpulse
