#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "agent/alerts/alert_instance.hpp"
#include "agent/alerts/alert_rule.hpp"
#include "agent/pipeline/schema.hpp"

namespace hostpulse {

struct ActiveAlert {
  std::string rule;
  std::string instance;
  AlertState state = AlertState::ok;
  double value = 0;
  std::int64_t since_ms = 0;
  std::string severity;
  std::string description;
};

// Every rule applied to every series it matches, fed once per tick from the
// sampler thread; keeps a bounded log of recent events for REST and hands
// each event to a sink (the stream, the log). Thread-safe.
class AlertManager {
 public:
  // The REST event log keeps this many events (oldest dropped first).
  static constexpr std::size_t kDefaultEventLogCapacity = 1000;
  using EventSink = std::function<void(const AlertEvent&)>;

  AlertManager(const Schema& schema, std::vector<AlertRule> rules,
               std::size_t event_log_capacity = kDefaultEventLogCapacity);

  // Rules whose series matches nothing in the schema (reported at start-up).
  [[nodiscard]] std::vector<std::string> warnings() const;
  [[nodiscard]] std::size_t instance_count() const;

  void set_sink(EventSink sink);
  // One tick: values in schema order, t_ms the sample's wall-clock time.
  void observe(std::int64_t t_ms, std::span<const double> values);

  // Instances not OK (pending, warning, critical, nodata), most severe first.
  [[nodiscard]] std::vector<ActiveAlert> active() const;
  // Newest last.
  [[nodiscard]] std::vector<AlertEvent> recent_events() const;
  [[nodiscard]] std::vector<AlertRule> rules() const;
  [[nodiscard]] std::size_t rule_count() const;

  // SIGHUP: swaps in new rules. Instances of rules that did not change keep
  // their state (a firing alert stays firing, no repeated notification);
  // instances of removed or changed rules are dropped silently.
  void replace_rules(const Schema& schema, std::vector<AlertRule> rules);

 private:
  void build_instances(const Schema& schema);

  std::shared_ptr<const std::vector<AlertRule>> rules_;
  std::vector<std::string> warnings_;
  mutable std::mutex mutex_;
  std::vector<AlertInstance> instances_;
  std::deque<AlertEvent> events_;
  std::size_t event_log_capacity_;
  EventSink sink_;
};

}  // namespace hostpulse
