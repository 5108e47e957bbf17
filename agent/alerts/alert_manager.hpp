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

// Every rule applied to every live series it selects, fed once per tick from
// the sampler thread, following the schema as series appear (new instances)
// and retire (instances end); keeps a bounded log of recent events for REST
// and hands each event to a sink (the stream, the log). Thread-safe.
class AlertManager {
 public:
  // The REST event log keeps this many events (oldest dropped first).
  static constexpr std::size_t kDefaultEventLogCapacity = 1000;
  using EventSink = std::function<void(const AlertEvent&)>;

  AlertManager(const Schema& schema, std::vector<AlertRule> rules,
               std::size_t event_log_capacity = kDefaultEventLogCapacity);

  // Rules that select no series in the schema yet (reported at start-up and
  // on reload; such a rule gets instances when matching series appear).
  [[nodiscard]] std::vector<std::string> warnings() const;
  [[nodiscard]] std::size_t instance_count() const;

  void set_sink(EventSink sink);
  // A tick on which the schema changed, before its observe(): every enabled
  // rule gets an instance (state OK) on each added series it selects; each
  // instance on a retired series ends, with a resolve event (reason
  // kReasonSeriesRetired) if it was not OK, silently if it was.
  void apply_schema(const Schema& schema, const SchemaChange& change, std::int64_t t_ms);
  // One tick: values in schema order, t_ms the sample's wall-clock time.
  void observe(std::int64_t t_ms, std::span<const double> values);

  // Instances not OK (pending, warning, critical, nodata), most severe first.
  [[nodiscard]] std::vector<ActiveAlert> active() const;
  // Newest last.
  [[nodiscard]] std::vector<AlertEvent> recent_events() const;
  [[nodiscard]] std::vector<AlertRule> rules() const;
  [[nodiscard]] std::size_t rule_count() const;

  // SIGHUP: swaps in new rules, with instances on the live series of
  // `schema`. Instances of rules that did not change keep their state (a
  // firing alert stays firing, no repeated notification), also on a series
  // `schema` already shows retired (its apply_schema() ends it with an
  // event); instances of removed or changed rules are dropped silently.
  // Returns false and changes nothing when `schema` is older than the last
  // one applied (the sampler got a newer one meanwhile): take the current
  // schema and call again.
  bool replace_rules(const Schema& schema, std::vector<AlertRule> rules);

 private:
  void build_instances(const Schema& schema);
  void record(AlertEvent event, std::vector<AlertEvent>& events);
  static void deliver(const std::vector<AlertEvent>& events, const EventSink& sink);

  std::shared_ptr<const std::vector<AlertRule>> rules_;
  std::vector<std::string> warnings_;
  mutable std::mutex mutex_;
  std::vector<AlertInstance> instances_;
  std::deque<AlertEvent> events_;
  std::size_t event_log_capacity_;
  std::uint64_t schema_version_ = 0;  // of the newest schema built from or applied
  EventSink sink_;
};

}  // namespace hostpulse
