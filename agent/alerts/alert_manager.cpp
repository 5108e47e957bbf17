#include "agent/alerts/alert_manager.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "base/log.hpp"
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
  schema_version_ = schema.version();
  for (const AlertRule& rule : *rules_) {
    if (!rule.enabled) continue;
    bool matched = false;
    for (const SeriesInfo& info : schema.series()) {
      if (!info.live || !rule.selects(info)) continue;  // retired: no values to give
      instances_.emplace_back(rule, info.name, info.id, now, info.labels);
      matched = true;
    }
    if (!matched) {
      warnings_.push_back("alert '" + rule.name + "' (" + rule.source + ":" + std::to_string(rule.line) +
                          "): " + rule.selector_text() +
                          " matches no series yet (it gets instances when matching series appear)");
    }
  }
}

bool AlertManager::replace_rules(const Schema& schema, std::vector<AlertRule> rules) {
  std::lock_guard lock(mutex_);
  // Building from a schema older than one already applied would miss the
  // series added since and never end those retired since.
  if (schema.version() < schema_version_) return false;
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
  // An unchanged rule's instance on a series this schema shows retired is
  // kept: the sampler has yet to apply that retirement, which ends it with
  // its event (a firing alert must not vanish without a resolve).
  for (AlertInstance& previous : old) {
    const std::uint32_t id = previous.series_id();
    if (id >= schema.size() || schema[id].live) continue;
    for (const AlertRule& rule : *rules_) {
      if (rule.enabled && previous.rule().same_behaviour(rule)) {
        previous.rebind(rule);
        instances_.push_back(std::move(previous));
        break;
      }
    }
  }
  return true;
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

void AlertManager::record(AlertEvent event, std::vector<AlertEvent>& events) {
  events_.push_back(event);
  if (events_.size() > event_log_capacity_) events_.pop_front();
  events.push_back(std::move(event));
}

void AlertManager::deliver(const std::vector<AlertEvent>& events, const EventSink& sink) {
  for (const AlertEvent& event : events) {
    if (event.to == AlertState::warning || event.to == AlertState::critical) {
      spdlog::warn("alert {} {} -> {} on {}: {}", event.rule, state_name(event.from), state_name(event.to),
                   event.instance, event.description);
    } else {
      spdlog::info("alert {} {} -> {} on {}: {}{}", event.rule, state_name(event.from), state_name(event.to),
                   event.instance, event.description, event.reason.empty() ? std::string() : " (" + event.reason + ")");
    }
    if (sink) sink(event);
  }
}

void AlertManager::apply_schema(const Schema& schema, const SchemaChange& change, std::int64_t t_ms) {
  std::vector<AlertEvent> events;
  EventSink sink;
  {
    std::lock_guard lock(mutex_);
    // A reload may have built from this schema or a newer one already: the
    // checks below make applying it again harmless.
    schema_version_ = std::max(schema_version_, schema.version());
    if (!change.retired.empty()) {
      const auto retired = [&](std::uint32_t id) {
        return std::binary_search(change.retired.begin(), change.retired.end(), id);
      };
      std::erase_if(instances_, [&](AlertInstance& instance) {
        if (!retired(instance.series_id())) return false;
        if (auto event = instance.end_for_retirement(t_ms)) record(std::move(*event), events);
        return true;
      });
    }
    for (const std::uint32_t id : change.added) {
      if (id >= schema.size() || !schema[id].live) continue;
      const SeriesInfo& info = schema[id];
      for (const AlertRule& rule : *rules_) {
        if (!rule.enabled || !rule.selects(info)) continue;
        const bool exists = std::any_of(instances_.begin(), instances_.end(), [&](const AlertInstance& instance) {
          return instance.series_id() == id && &instance.rule() == &rule;
        });
        if (!exists) instances_.emplace_back(rule, info.name, id, t_ms, info.labels);
      }
    }
    sink = sink_;
  }
  // Outside the lock: the sink may take its time (it must not block, though).
  deliver(events, sink);
}

void AlertManager::observe(std::int64_t t_ms, std::span<const double> values) {
  std::vector<AlertEvent> events;
  EventSink sink;
  {
    std::lock_guard lock(mutex_);
    for (AlertInstance& instance : instances_) {
      // A point shorter than the schema has no value for the rest: missing data, not 0.
      const double sample = instance.series_id() < values.size() ? values[instance.series_id()] : kMissing;
      if (auto event = instance.observe(t_ms, sample)) record(std::move(*event), events);
    }
    sink = sink_;
  }
  // Outside the lock: the sink may take its time (it must not block, though).
  deliver(events, sink);
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
