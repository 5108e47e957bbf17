#include "agent/alerts/alert_manager.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "base/log.hpp"
#include "agent/pipeline/series_match.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {
namespace {
constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
}  // namespace
namespace {

int severity_rank(AlertState state) {
  switch (state) {
    case AlertState::critical: return 0;
    case AlertState::warning: return 1;
    case AlertState::nodata: return 2;
    case AlertState::pending: return 3;
    case AlertState::ok: return 4;
  }
  return 5;
}

}  // namespace

AlertManager::AlertManager(const Schema& schema, std::vector<AlertRule> rules, std::size_t event_log_capacity)
    : rules_(std::make_shared<const std::vector<AlertRule>>(std::move(rules))), event_log_capacity_(event_log_capacity) {
  build_instances(schema);
}

void AlertManager::build_instances(const Schema& schema) {
  const std::int64_t now = wall_clock_ms();
  instances_.clear();
  warnings_.clear();
  for (const AlertRule& rule : *rules_) {
    if (!rule.enabled) continue;
    std::vector<std::uint32_t> ids;
    const std::string patterns[] = {rule.series};
    if (!resolve_series(schema, patterns, ids).ok()) {
      warnings_.push_back("alert '" + rule.name + "' (" + rule.source + ":" + std::to_string(rule.line) +
                          "): series '" + rule.series + "' matches no series on this host");
      continue;
    }
    for (std::uint32_t id : ids) instances_.emplace_back(rule, schema[id].name, id, now);
  }
}

void AlertManager::replace_rules(const Schema& schema, std::vector<AlertRule> rules) {
  std::lock_guard lock(mutex_);
  std::vector<AlertInstance> old = std::move(instances_);
  auto old_rules = rules_;  // keeps the old rule objects alive while comparing
  rules_ = std::make_shared<const std::vector<AlertRule>>(std::move(rules));
  build_instances(schema);
  for (AlertInstance& fresh : instances_) {
    for (AlertInstance& previous : old) {
      if (previous.series_id() == fresh.series_id() && previous.rule().same_behaviour(fresh.rule())) {
        const AlertRule& rule = fresh.rule();
        fresh = std::move(previous);
        fresh.rebind(rule);
        break;
      }
    }
  }
}

std::vector<AlertRule> AlertManager::rules() const {
  std::lock_guard lock(mutex_);
  return *rules_;
}

std::size_t AlertManager::rule_count() const {
  std::lock_guard lock(mutex_);
  return rules_->size();
}

std::vector<std::string> AlertManager::warnings() const {
  std::lock_guard lock(mutex_);
  return warnings_;
}

std::size_t AlertManager::instance_count() const {
  std::lock_guard lock(mutex_);
  return instances_.size();
}

void AlertManager::set_sink(EventSink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void AlertManager::observe(std::int64_t t_ms, std::span<const double> values) {
  std::vector<AlertEvent> events;
  EventSink sink;
  {
    std::lock_guard lock(mutex_);
    for (AlertInstance& instance : instances_) {
      // A point shorter than the schema has no value for the rest: missing data, not 0.
      const double sample = instance.series_id() < values.size() ? values[instance.series_id()] : kMissing;
      if (auto event = instance.observe(t_ms, sample)) {
        events_.push_back(*event);
        if (events_.size() > event_log_capacity_) events_.pop_front();
        events.push_back(std::move(*event));
      }
    }
    sink = sink_;
  }
  // Outside the lock: the sink may take its time (it must not block, though).
  for (const AlertEvent& event : events) {
    if (event.to == AlertState::warning || event.to == AlertState::critical) {
      spdlog::warn("alert {} {} -> {} on {}: {}", event.rule, state_name(event.from), state_name(event.to),
                   event.instance, event.description);
    } else {
      spdlog::info("alert {} {} -> {} on {}: {}", event.rule, state_name(event.from), state_name(event.to),
                   event.instance, event.description);
    }
    if (sink) sink(event);
  }
}

std::vector<ActiveAlert> AlertManager::active() const {
  std::vector<ActiveAlert> result;
  std::lock_guard lock(mutex_);
  for (const AlertInstance& instance : instances_) {
    if (instance.state() == AlertState::ok) continue;
    const AlertRule& rule = instance.rule();
    // The threshold of the level it is at (pending: the one it is heading for).
    std::string threshold;
    const std::optional<Threshold>& level_threshold = rule.trigger_for(instance.state());
    if (instance.state() != AlertState::nodata && level_threshold) threshold = level_threshold->to_string();
    result.push_back(ActiveAlert{rule.name, instance.series_name(), instance.state(), instance.value(),
                                 instance.state_since_ms(),
                                 rule.severity.empty() ? std::string(state_name(instance.state())) : rule.severity,
                                 interpolate_description(rule, instance.series_name(), instance.value(), threshold)});
  }
  std::stable_sort(result.begin(), result.end(), [](const ActiveAlert& a, const ActiveAlert& b) {
    return severity_rank(a.state) < severity_rank(b.state);
  });
  return result;
}

std::vector<AlertEvent> AlertManager::recent_events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

}  // namespace hostpulse
