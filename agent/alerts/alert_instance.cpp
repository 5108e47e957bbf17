#include "agent/alerts/alert_instance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hostpulse {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// Plain decimals ("91.5", "17179869184"), at most two places (series are
// rounded to 0.01); exponents only for magnitudes decimals cannot show well.
std::string format_value(double value) {
  if (!std::isfinite(value)) return "no data";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e15 || (magnitude > 0 && magnitude < 0.01)) return fmt::format("{:.4g}", value);
  std::string text = fmt::format("{:.2f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string interpolate(std::string text, const AlertRule& rule, const std::string& series, double value,
                        const std::string& threshold) {
  replace_all(text, "{{value}}", format_value(value));
  replace_all(text, "{{series}}", series);
  replace_all(text, "{{threshold}}", threshold);
  replace_all(text, "{{rule}}", rule.name);
  return text;
}

}  // namespace

std::string interpolate_description(const AlertRule& rule, const std::string& series, double value,
                                    const std::string& threshold) {
  return interpolate(rule.description.empty() ? rule.name + " on " + series + ": {{value}}" : rule.description, rule,
                     series, value, threshold);
}

std::string interpolate_summary(const AlertRule& rule, const std::string& series, double value,
                                const std::string& threshold) {
  return rule.summary.empty() ? std::string() : interpolate(rule.summary, rule, series, value, threshold);
}

AlertInstance::AlertInstance(const AlertRule& rule, std::string series_name, std::uint32_t series_id,
                             std::int64_t created_t_ms, std::vector<SeriesLabel> series_labels)
    : rule_(&rule),
      series_name_(std::move(series_name)),
      series_id_(series_id),
      series_labels_(std::move(series_labels)),
      state_since_ms_(created_t_ms),
      last_data_ms_(created_t_ms) {}

double AlertInstance::reduce(std::int64_t t_ms, double sample) {
  const auto window = rule_->window.count();
  if (window == 0) return sample;
  window_.emplace_back(t_ms, sample);
  while (!window_.empty() && window_.front().first <= t_ms - window) window_.pop_front();
  double sum = 0, low = std::numeric_limits<double>::infinity(), high = -low, last = kNoValue;
  std::size_t count = 0;
  for (const auto& [t, v] : window_) {
    if (!std::isfinite(v)) continue;
    sum += v;
    low = std::min(low, v);
    high = std::max(high, v);
    last = v;
    ++count;
  }
  if (count == 0) return kNoValue;
  switch (rule_->reduce) {
    case Reducer::last: return last;
    case Reducer::avg: return sum / static_cast<double>(count);
    case Reducer::min: return low;
    case Reducer::max: return high;
  }
  return kNoValue;
}

AlertEvent AlertInstance::transition(AlertState to, std::int64_t t_ms, std::string threshold) {
  AlertEvent event;
  event.rule = rule_->name;
  event.instance = series_name_;
  event.from = state_;
  event.to = to;
  event.value = value_;
  event.threshold = std::move(threshold);
  event.t_ms = t_ms;
  const bool was_firing = state_ == AlertState::warning || state_ == AlertState::critical;
  const bool firing = to == AlertState::warning || to == AlertState::critical;
  if (firing && !was_firing) firing_since_ms_ = t_ms;
  if (was_firing && !firing) event.incident_ms = t_ms - firing_since_ms_;
  event.severity = rule_->severity.empty() ? std::string(state_name(firing ? to : (was_firing ? state_ : to)))
                                           : rule_->severity;
  event.description = interpolate_description(*rule_, series_name_, value_, event.threshold);
  event.summary = interpolate_summary(*rule_, series_name_, value_, event.threshold);
  event.series_labels = series_labels_;
  event.rule_labels = rule_->labels;
  state_ = to;
  state_since_ms_ = t_ms;
  return event;
}

std::optional<AlertEvent> AlertInstance::end_for_retirement(std::int64_t t_ms) {
  if (state_ == AlertState::ok) return std::nullopt;
  warn_since_.reset();
  crit_since_.reset();
  clear_since_.reset();
  level_ = AlertState::ok;
  AlertEvent event = transition(AlertState::ok, t_ms, {});
  event.reason = std::string(kReasonSeriesRetired);
  return event;
}

std::optional<AlertEvent> AlertInstance::observe(std::int64_t t_ms, double sample) {
  const AlertRule& rule = *rule_;
  value_ = reduce(t_ms, sample);

  if (!std::isfinite(value_)) {
    // Hold the state while data is merely late; NODATA once it is overdue.
    if (rule.nodata_after && state_ != AlertState::nodata && t_ms - last_data_ms_ >= rule.nodata_after->count()) {
      warn_since_.reset();
      crit_since_.reset();
      clear_since_.reset();
      level_ = AlertState::ok;
      return transition(AlertState::nodata, t_ms, {});
    }
    return std::nullopt;
  }
  last_data_ms_ = t_ms;
  if (state_ == AlertState::nodata) return transition(AlertState::ok, t_ms, {});

  const bool at_critical = level_ == AlertState::critical;
  const bool at_warning = at_critical || level_ == AlertState::warning;
  // A firing level stays active until its clear threshold matches.
  const auto active = [&](const std::optional<Threshold>& trigger, const std::optional<Threshold>& clear, bool firing) {
    if (!trigger) return false;
    if (!firing) return trigger->matches(value_);
    return clear ? !clear->matches(value_) : trigger->matches(value_);
  };
  const bool crit_active = active(rule.crit, rule.crit_clear, at_critical);
  const bool warn_active = crit_active || active(rule.warn, rule.warn_clear, at_warning);
  crit_since_ = crit_active ? std::optional(crit_since_.value_or(t_ms)) : std::nullopt;
  warn_since_ = warn_active ? std::optional(warn_since_.value_or(t_ms)) : std::nullopt;

  const auto held = [&](const std::optional<std::int64_t>& since) {
    return since && t_ms - *since >= rule.for_duration.count();
  };
  AlertState target = AlertState::ok;
  if (held(crit_since_)) {
    target = AlertState::critical;
  } else if (held(warn_since_)) {
    target = AlertState::warning;
  }

  AlertState next = state_;
  std::string threshold;
  if (target != AlertState::ok) {
    clear_since_.reset();
    next = target;
    const std::optional<Threshold>& crossed = rule.trigger_for(target);
    if (crossed) threshold = crossed->to_string();
  } else if (level_ != AlertState::ok) {
    // Cleared while firing: keep firing for keep_firing_for, then resolve.
    if (!clear_since_) clear_since_ = t_ms;
    if (t_ms - *clear_since_ >= rule.keep_firing_for.count()) {
      next = AlertState::ok;
      const std::optional<Threshold>& clear = level_ == AlertState::critical ? rule.crit_clear : rule.warn_clear;
      if (clear) threshold = clear->to_string();
    }
  } else if (crit_active || warn_active) {
    next = AlertState::pending;
    const std::optional<Threshold>& trigger = crit_active ? rule.crit : rule.warn;
    if (trigger) threshold = trigger->to_string();
  } else {
    next = AlertState::ok;
  }

  if (next == AlertState::warning || next == AlertState::critical) {
    level_ = next;
  } else if (next == AlertState::ok || next == AlertState::pending) {
    level_ = AlertState::ok;
  }
  if (next == state_) return std::nullopt;
  return transition(next, t_ms, std::move(threshold));
}

}  // namespace hostpulse
