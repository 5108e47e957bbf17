#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/alerts/alert_rule.hpp"

namespace hostpulse {

// A state change of one alert instance: what the log, the stream, the REST
// event list and webhooks receive.
struct AlertEvent {
  std::string rule;
  std::string instance;      // the series name
  AlertState from = AlertState::ok;
  AlertState to = AlertState::ok;
  double value = 0;          // the reduced value that caused it (NaN for nodata)
  std::string threshold;     // the threshold crossed, e.g. "> 80" (empty for nodata)
  std::int64_t t_ms = 0;
  std::int64_t incident_ms = 0;  // on resolve: how long it fired
  std::string severity;
  std::string description;   // interpolated
  std::string summary;       // interpolated; empty when the rule has none
  // For receivers that identify an alert by its labels (Alertmanager): the
  // series' labels (e.g. cpu="3") and the rule's own labels.
  std::vector<SeriesLabel> series_labels;
  std::vector<std::pair<std::string, std::string>> rule_labels;
  // Why it resolved when its thresholds did not decide it (kReasonSeriesRetired);
  // empty for every ordinary transition.
  std::string reason;
};

// The reason of the resolve an instance emits when its series retires.
inline constexpr std::string_view kReasonSeriesRetired = "series_retired";

// One rule applied to one series: a pure state machine fed one sample per
// tick. OK -> PENDING (condition holds, `for` not yet elapsed) -> WARNING /
// CRITICAL -> OK once the clear threshold holds for keep_firing_for; NODATA
// when the series has no value for nodata_after (back to OK when data returns).
// Hysteresis: once firing at a level, the level stays active until its clear
// threshold matches (by default: until the trigger no longer matches).
class AlertInstance {
 public:
  AlertInstance(const AlertRule& rule, std::string series_name, std::uint32_t series_id, std::int64_t created_t_ms,
                std::vector<SeriesLabel> series_labels = {});

  // Feeds the sample at t_ms (NaN: no value). Returns the transition, if any.
  std::optional<AlertEvent> observe(std::int64_t t_ms, double sample);

  [[nodiscard]] AlertState state() const { return state_; }
  [[nodiscard]] std::int64_t state_since_ms() const { return state_since_ms_; }
  [[nodiscard]] double value() const { return value_; }
  [[nodiscard]] const AlertRule& rule() const { return *rule_; }
  [[nodiscard]] const std::string& series_name() const { return series_name_; }
  [[nodiscard]] std::uint32_t series_id() const { return series_id_; }
  // Its series retired: the instance ends. Not OK (pending, firing, nodata):
  // the resolve to OK with reason kReasonSeriesRetired, so receivers see the
  // incident end; OK: nothing to say.
  std::optional<AlertEvent> end_for_retirement(std::int64_t t_ms);
  // After a reload with an unchanged rule: keep the state, use the new rule object.
  void rebind(const AlertRule& rule) { rule_ = &rule; }

 private:
  double reduce(std::int64_t t_ms, double sample);
  AlertEvent transition(AlertState to, std::int64_t t_ms, std::string threshold);

  const AlertRule* rule_;
  std::string series_name_;
  std::uint32_t series_id_;
  std::vector<SeriesLabel> series_labels_;
  std::deque<std::pair<std::int64_t, double>> window_;
  AlertState state_ = AlertState::ok;
  AlertState level_ = AlertState::ok;  // the firing level (ok when not firing)
  std::int64_t state_since_ms_;
  std::optional<std::int64_t> warn_since_, crit_since_, clear_since_;
  std::int64_t firing_since_ms_ = 0;
  std::int64_t last_data_ms_;
  double value_ = 0;
};

std::string interpolate_description(const AlertRule& rule, const std::string& series, double value,
                                    const std::string& threshold);
// The rule's summary with the same fields; empty when the rule has none.
std::string interpolate_summary(const AlertRule& rule, const std::string& series, double value,
                                const std::string& threshold);

}  // namespace hostpulse
