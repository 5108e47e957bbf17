// AlertManager: every rule applied to every series it matches (one instance
// per series), fed one tick of values in schema order; the active list, the
// bounded event log and the sink. The per-instance state machine itself is
// covered by alert_instance_test.cpp.

#include "agent/alerts/alert_manager.hpp"
#include "agent/alerts/alert_json.hpp"
#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"
#include "tests/support/platform_schema.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Threshold th(const char* text) {
  Threshold t;
  EXPECT_TRUE(parse_threshold(text, t).ok()) << text;
  return t;
}

AlertRule make_rule(std::string name, std::string series, const char* warn, const char* crit = nullptr) {
  AlertRule rule;
  rule.name = std::move(name);
  rule.series = std::move(series);
  if (warn != nullptr) rule.warn = th(warn);
  if (crit != nullptr) rule.crit = th(crit);
  rule.source = "test.toml";
  rule.line = 7;
  return rule;
}

// Instances start their clocks (for nodata) at the wall-clock time the
// manager is built, and the sampler feeds wall-clock sample times: so do we.
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AlertManagerTest : public ::testing::Test {
 protected:
  AlertManagerTest()
      : snapshot_(testing_support::platform_schema(kCpus)), schema_(*snapshot_), values_(schema_.size(), 10.0),
        t_(wall_ms()) {
    // The manager logs every transition; keep the test output readable.
    spdlog::set_level(spdlog::level::off);
  }
  ~AlertManagerTest() override { spdlog::set_level(saved_level_); }

  std::uint32_t id(std::string_view name) const {
    const auto found = schema_.find(name);
    EXPECT_TRUE(found.has_value()) << name;
    return found.value_or(0);
  }
  void set(std::string_view name, double value) { values_[id(name)] = value; }
  // One tick, one second after the previous one.
  void tick(AlertManager& manager) {
    t_ += 1000;
    manager.observe(t_, values_);
  }

  static constexpr std::uint32_t kCpus[] = {0, 1, 2, 3};
  spdlog::level::level_enum saved_level_ = spdlog::get_level();
  SchemaSnapshot snapshot_;
  const Schema& schema_;
  std::vector<double> values_;
  std::int64_t t_;
};

std::vector<std::string> instances(const std::vector<ActiveAlert>& active) {
  std::vector<std::string> names;
  for (const ActiveAlert& alert : active) names.push_back(alert.rule + "/" + alert.instance);
  return names;
}

TEST_F(AlertManagerTest, GlobRuleGetsOneInstancePerMatchingSeries) {
  AlertManager manager(schema_, {make_rule("core_busy", "cpu.*.busy_pct", "> 80")});
  EXPECT_EQ(manager.instance_count(), 4u);
  EXPECT_TRUE(manager.warnings().empty());
  ASSERT_EQ(manager.rules().size(), 1u);
  EXPECT_EQ(manager.rules()[0].name, "core_busy");

  // A plain name gets one; rules add up.
  AlertManager two(schema_, {make_rule("core_busy", "cpu.*.busy_pct", "> 80"), make_rule("load", "load.1m", "> 5"),
                             make_rule("all_load", "load.*", "> 5")});
  EXPECT_EQ(two.instance_count(), 4u + 1u + 6u);
}

TEST_F(AlertManagerTest, InstancesAreDrivenIndependently) {
  AlertManager manager(schema_, {make_rule("core_busy", "cpu.*.busy_pct", "> 80", "> 95")});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });

  tick(manager);
  EXPECT_TRUE(manager.active().empty());
  EXPECT_TRUE(sunk.empty());

  // Only core 2 is busy, and the aggregate (not matched by the glob) too.
  set("cpu.2.busy_pct", 90);
  set("cpu.busy_pct", 99);
  tick(manager);
  auto active = manager.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].rule, "core_busy");
  EXPECT_EQ(active[0].instance, "cpu.2.busy_pct");
  EXPECT_EQ(active[0].state, AlertState::warning);
  EXPECT_EQ(active[0].value, 90.0);
  EXPECT_EQ(active[0].since_ms, t_);
  EXPECT_EQ(active[0].severity, "warning");
  EXPECT_EQ(active[0].description, "core_busy on cpu.2.busy_pct: 90");
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].instance, "cpu.2.busy_pct");

  // Core 0 goes critical while core 2 stays at warning.
  set("cpu.0.busy_pct", 97);
  tick(manager);
  active = manager.active();
  EXPECT_EQ(instances(active), (std::vector<std::string>{"core_busy/cpu.0.busy_pct", "core_busy/cpu.2.busy_pct"}));
  EXPECT_EQ(active[0].state, AlertState::critical);
  EXPECT_EQ(active[1].state, AlertState::warning);
  ASSERT_EQ(sunk.size(), 2u);
  EXPECT_EQ(sunk[1].instance, "cpu.0.busy_pct");
  EXPECT_EQ(sunk[1].to, AlertState::critical);

  // Core 2 recovers; core 0 keeps firing.
  set("cpu.2.busy_pct", 20);
  tick(manager);
  EXPECT_EQ(instances(manager.active()), (std::vector<std::string>{"core_busy/cpu.0.busy_pct"}));
  ASSERT_EQ(sunk.size(), 3u);
  EXPECT_EQ(sunk[2].instance, "cpu.2.busy_pct");
  EXPECT_EQ(sunk[2].to, AlertState::ok);
}

TEST_F(AlertManagerTest, ActiveIsOrderedCriticalWarningNodataPending) {
  AlertRule pending = make_rule("a_pending", "mem.used_pct", "> 50");
  pending.for_duration = 1h;
  AlertRule nodata = make_rule("b_nodata", "swap.used_pct", "> 50");
  nodata.nodata_after = 1s;
  AlertRule warning = make_rule("c_warning", "load.5m", "> 5", "> 50");
  AlertRule critical = make_rule("d_critical", "load.1m", "> 5", "> 50");
  AlertRule quiet = make_rule("e_quiet", "load.15m", "> 5");
  // Two warnings of one glob rule keep schema order among themselves.
  AlertRule cores = make_rule("f_cores", "cpu.*.busy_pct", "> 80");
  AlertManager manager(schema_, {pending, nodata, cores, warning, critical, quiet});

  set("mem.used_pct", 60);
  set("swap.used_pct", kNaN);
  set("load.5m", 6);
  set("load.1m", 60);
  set("load.15m", 1);
  set("cpu.3.busy_pct", 85);
  set("cpu.1.busy_pct", 85);
  tick(manager);
  tick(manager);
  const auto active = manager.active();
  EXPECT_EQ(instances(active),
            (std::vector<std::string>{"d_critical/load.1m", "f_cores/cpu.1.busy_pct", "f_cores/cpu.3.busy_pct",
                                      "c_warning/load.5m", "b_nodata/swap.used_pct", "a_pending/mem.used_pct"}));
  std::vector<AlertState> states;
  for (const ActiveAlert& alert : active) states.push_back(alert.state);
  EXPECT_EQ(states, (std::vector<AlertState>{AlertState::critical, AlertState::warning, AlertState::warning,
                                             AlertState::warning, AlertState::nodata, AlertState::pending}));
  // The severity of an active alert is its state unless the rule names one.
  EXPECT_EQ(active[0].severity, "critical");
  EXPECT_EQ(active[4].severity, "nodata");
  EXPECT_EQ(active[5].severity, "pending");
  EXPECT_TRUE(std::isnan(active[4].value));
}

TEST_F(AlertManagerTest, RuleSeverityAndDescriptionAreUsed) {
  AlertRule rule = make_rule("load", "load.1m", "> 5");
  rule.severity = "page";
  rule.description = "{{rule}}: load {{value}} on {{series}}";
  AlertManager manager(schema_, {rule});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("load.1m", 7.5);
  tick(manager);
  const auto active = manager.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].severity, "page");
  EXPECT_EQ(active[0].description, "load: load 7.5 on load.1m");
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].severity, "page");
  EXPECT_EQ(sunk[0].description, "load: load 7.5 on load.1m");
  EXPECT_EQ(sunk[0].threshold, "> 5");
}

// The description of an active alert is the one its event had: every
// placeholder (docs/alerts.md: {{value}} {{series}} {{threshold}} {{rule}})
// filled in, {{threshold}} with the threshold crossed.
TEST_F(AlertManagerTest, ActiveDescriptionInterpolatesTheThreshold) {
  AlertRule rule = make_rule("load", "load.1m", "> 5", "> 10");
  rule.description = "load {{value}} crossed {{threshold}}";
  AlertManager manager(schema_, {rule});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("load.1m", 7.5);
  tick(manager);
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].description, "load 7.5 crossed > 5");
  const auto active = manager.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].description, sunk[0].description);

  // Critical: the crit threshold.
  set("load.1m", 12);
  tick(manager);
  ASSERT_EQ(manager.active().size(), 1u);
  EXPECT_EQ(manager.active()[0].description, "load 12 crossed > 10");
}

TEST_F(AlertManagerTest, EventLogIsBoundedOldestDroppedFirst) {
  AlertManager manager(schema_, {make_rule("load", "load.1m", "> 5")}, 3);
  // Five transitions: ok->warning, warning->ok, ok->warning, warning->ok, ok->warning.
  for (int i = 0; i < 5; ++i) {
    set("load.1m", i % 2 == 0 ? 9.0 : 1.0);
    tick(manager);
  }
  const auto events = manager.recent_events();
  ASSERT_EQ(events.size(), 3u);
  // Newest last: the third, fourth and fifth transitions.
  EXPECT_EQ(events[0].from, AlertState::ok);
  EXPECT_EQ(events[0].to, AlertState::warning);
  EXPECT_EQ(events[0].t_ms, t_ - 2000);
  EXPECT_EQ(events[1].to, AlertState::ok);
  EXPECT_EQ(events[1].t_ms, t_ - 1000);
  EXPECT_EQ(events[2].to, AlertState::warning);
  EXPECT_EQ(events[2].t_ms, t_);

  // The default capacity.
  AlertManager unbounded(schema_, {make_rule("load", "load.1m", "> 5")});
  for (std::size_t i = 0; i < AlertManager::kDefaultEventLogCapacity + 10; ++i) {
    set("load.1m", i % 2 == 0 ? 9.0 : 1.0);
    tick(unbounded);
  }
  const auto kept = unbounded.recent_events();
  ASSERT_EQ(kept.size(), AlertManager::kDefaultEventLogCapacity);
  EXPECT_EQ(kept.back().t_ms, t_);
}

TEST_F(AlertManagerTest, SinkReceivesExactlyTheTransitions) {
  AlertRule rule = make_rule("load", "load.1m", "> 5", "> 10");
  rule.for_duration = 2s;
  AlertManager manager(schema_, {rule, make_rule("mem", "mem.available_pct", "< 10")});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });

  const double load[] = {1, 6, 6, 6, 12, 12, 12, 12, 1, 1};
  for (double value : load) {
    set("load.1m", value);
    tick(manager);
  }
  std::vector<std::pair<AlertState, AlertState>> transitions;
  for (const AlertEvent& event : sunk) transitions.emplace_back(event.from, event.to);
  // 6 at t2: pending; held 2 s at t4: warning; 12 at t5 (crit pending, warning held);
  // crit held 2 s at t7: critical; 1 at t9: ok.
  EXPECT_EQ(transitions, (std::vector<std::pair<AlertState, AlertState>>{{AlertState::ok, AlertState::pending},
                                                                         {AlertState::pending, AlertState::warning},
                                                                         {AlertState::warning, AlertState::critical},
                                                                         {AlertState::critical, AlertState::ok}}));
  // The sink and the event log see the same events, in the same order.
  const auto logged = manager.recent_events();
  ASSERT_EQ(logged.size(), sunk.size());
  for (std::size_t i = 0; i < sunk.size(); ++i) {
    EXPECT_EQ(logged[i].rule, sunk[i].rule);
    EXPECT_EQ(logged[i].instance, sunk[i].instance);
    EXPECT_EQ(logged[i].to, sunk[i].to);
    EXPECT_EQ(logged[i].t_ms, sunk[i].t_ms);
  }
  ASSERT_EQ(sunk.size(), 4u);
  EXPECT_EQ(sunk[2].threshold, "> 10");
  EXPECT_EQ(sunk[2].value, 12.0);
  EXPECT_EQ(sunk[3].incident_ms, 5000);  // warning at t4 until ok at t9
  EXPECT_EQ(sunk[3].from, AlertState::critical);
  for (const AlertEvent& event : sunk) EXPECT_EQ(event.rule, "load");

  // A sink set later gets only later events; none when nothing changes.
  std::vector<AlertEvent> later;
  manager.set_sink([&](const AlertEvent& event) { later.push_back(event); });
  tick(manager);
  tick(manager);
  EXPECT_TRUE(later.empty());
  set("mem.available_pct", 5);
  tick(manager);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].rule, "mem");
  EXPECT_EQ(sunk.size(), 4u);
}

TEST_F(AlertManagerTest, DisabledRulesMakeNoInstances) {
  AlertRule disabled = make_rule("off", "cpu.*.busy_pct", "> 0");
  disabled.enabled = false;
  AlertRule disabled_unknown = make_rule("off_unknown", "gpu.*", "> 0");
  disabled_unknown.enabled = false;
  AlertManager manager(schema_, {disabled, disabled_unknown, make_rule("load", "load.1m", "> 5")});
  EXPECT_EQ(manager.instance_count(), 1u);
  EXPECT_TRUE(manager.warnings().empty()) << "a disabled rule is not checked against the schema";
  EXPECT_EQ(manager.rules().size(), 3u);  // still listed as configured
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("load.1m", 1);
  tick(manager);
  EXPECT_TRUE(manager.active().empty());
  EXPECT_TRUE(sunk.empty());
}

TEST_F(AlertManagerTest, RuleMatchingNothingIsAWarningNamingIt) {
  AlertManager manager(schema_, {make_rule("gpu_hot", "gpu.*.temp", "> 90"), make_rule("load", "load.1m", "> 5"),
                                 make_rule("core_9", "cpu.9.busy_pct", "> 90")});
  ASSERT_EQ(manager.warnings().size(), 2u);
  // Not an error: series come and go, and a matching one may appear later.
  EXPECT_EQ(manager.warnings()[0],
            "alert 'gpu_hot' (test.toml:7): series 'gpu.*.temp' matches no series yet (it gets instances when "
            "matching series appear)");
  EXPECT_NE(manager.warnings()[1].find("alert 'core_9'"), std::string::npos) << manager.warnings()[1];
  EXPECT_NE(manager.warnings()[1].find("'cpu.9.busy_pct'"), std::string::npos) << manager.warnings()[1];
  EXPECT_EQ(manager.instance_count(), 1u);
  set("load.1m", 1);
  tick(manager);
  EXPECT_TRUE(manager.active().empty());
}

TEST_F(AlertManagerTest, OfflineCoreGoesNodataAfterNodataAfter) {
  AlertRule rule = make_rule("core_busy", "cpu.*.busy_pct", "> 80");
  rule.nodata_after = 3s;
  AlertManager manager(schema_, {rule});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  tick(manager);  // t+1s: all cores report
  // Core 3 goes offline: its values are NaN (null in samples).
  set("cpu.3.busy_pct", kNaN);
  tick(manager);  // t+2s: 1 s without data
  tick(manager);  // t+3s
  EXPECT_TRUE(manager.active().empty()) << "late data holds the state";
  tick(manager);  // t+4s: 3 s since the last value
  auto active = manager.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].instance, "cpu.3.busy_pct");
  EXPECT_EQ(active[0].state, AlertState::nodata);
  EXPECT_EQ(active[0].since_ms, t_);
  EXPECT_TRUE(std::isnan(active[0].value));
  EXPECT_EQ(active[0].description, "core_busy on cpu.3.busy_pct: no data");
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].from, AlertState::ok);
  EXPECT_EQ(sunk[0].to, AlertState::nodata);
  EXPECT_TRUE(sunk[0].threshold.empty());
  EXPECT_TRUE(std::isnan(sunk[0].value));
  tick(manager);
  EXPECT_EQ(sunk.size(), 1u) << "nodata is reported once";

  // Back online: back to ok.
  set("cpu.3.busy_pct", 5);
  tick(manager);
  EXPECT_TRUE(manager.active().empty());
  ASSERT_EQ(sunk.size(), 2u);
  EXPECT_EQ(sunk[1].from, AlertState::nodata);
  EXPECT_EQ(sunk[1].to, AlertState::ok);

  // Without nodata_after an offline core just holds its state.
  AlertManager plain(schema_, {make_rule("core_busy", "cpu.*.busy_pct", "> 80")});
  set("cpu.3.busy_pct", kNaN);
  for (int i = 0; i < 10; ++i) tick(plain);
  EXPECT_TRUE(plain.active().empty());
}

TEST_F(AlertManagerTest, NodataCountsFromStartWhenASeriesNeverHasData) {
  AlertRule rule = make_rule("swap", "swap.used_pct", "> 50");
  rule.nodata_after = 2s;
  AlertManager manager(schema_, {rule});
  set("swap.used_pct", kNaN);
  tick(manager);
  EXPECT_TRUE(manager.active().empty());
  tick(manager);
  tick(manager);
  ASSERT_EQ(manager.active().size(), 1u);
  EXPECT_EQ(manager.active()[0].state, AlertState::nodata);
}

// A point shorter than the schema: the missing values are no data (NODATA
// after nodata_after), never zeros that would trip a "< x" rule.
TEST_F(AlertManagerTest, ShortPointReadsAsNoDataNotZero) {
  AlertRule rule = make_rule("mem_low", "mem.available_pct", "< 5");
  rule.nodata_after = 2s;
  AlertManager manager(schema_, {rule});
  const std::vector<double> short_point(id("mem.available_pct"), 50.0);  // stops just before the series
  for (int i = 0; i < 4; ++i) {
    t_ += 1000;
    manager.observe(t_, short_point);
  }
  const auto active = manager.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].state, AlertState::nodata) << "a missing value must not read as 0 (< 5 would fire)";
}

// The agent's series registry over the platform's sources, ticked by hand
// with the CPUs online in each tick; a CPU absent from one read retires (the
// agent waits a minute), so a test sees series appear and retire in a few
// ticks. Feeds the manager what the sampler feeds it: the schema change,
// then the values.
class DynamicSchemaTest : public ::testing::Test {
 protected:
  DynamicSchemaTest() : registry_(core_sources(), SeriesRegistryOptions{.retire_after_reads = 1}), t_(wall_ms()) {
    spdlog::set_level(spdlog::level::off);
    next_schema({0, 1});
  }
  ~DynamicSchemaTest() override { spdlog::set_level(saved_level_); }

  SchemaChange next_schema(std::initializer_list<std::uint32_t> cpus) {
    std::vector<double> scratch;
    registry_.begin_tick(++seq_, scratch);
    const std::span<const SourceDefinition> sources = core_sources();
    for (std::size_t index = 0; index < sources.size(); ++index) {
      if (sources[index].name != "proc_stat") continue;
      for (const std::uint32_t cpu : cpus) registry_.writer(index).entity("cpu", std::to_string(cpu));
    }
    const std::unique_ptr<bool[]> ok = std::make_unique<bool[]>(sources.size());
    std::fill_n(ok.get(), sources.size(), true);
    SchemaChange change = registry_.end_tick(std::span<const bool>(ok.get(), sources.size()));
    values_.resize(registry_.schema()->size(), 10.0);
    return change;
  }
  // One tick one second later with these CPUs online: the schema change (if
  // any) first, as the sampler does, then the values.
  void tick(AlertManager& manager, std::initializer_list<std::uint32_t> cpus) {
    t_ += 1000;
    const SchemaChange change = next_schema(cpus);
    if (!change.empty()) manager.apply_schema(*registry_.schema(), change, t_);
    manager.observe(t_, values_);
  }
  void set(std::string_view name, double value) {
    const auto found = registry_.schema()->find(name);
    ASSERT_TRUE(found.has_value()) << name;
    values_[*found] = value;
  }
  const Schema& schema() const { return *registry_.schema(); }

  spdlog::level::level_enum saved_level_ = spdlog::get_level();
  SeriesRegistry registry_;
  std::uint64_t seq_ = 0;
  std::vector<double> values_;
  std::int64_t t_;
};

TEST_F(DynamicSchemaTest, GlobRuleGetsAnInstanceWhenAMatchingSeriesAppearsAndFiresOnIt) {
  AlertManager manager(schema(), {make_rule("core_busy", "cpu.*.busy_pct", "> 80"), make_rule("load", "load.1m", "> 50")});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  EXPECT_EQ(manager.instance_count(), 2u + 1u);

  tick(manager, {0, 1, 2});  // CPU 2 comes online
  EXPECT_EQ(manager.instance_count(), 3u + 1u) << "one new instance, for core_busy only";
  EXPECT_TRUE(sunk.empty()) << "a new instance starts OK, without an event";

  set("cpu.2.busy_pct", 95);
  tick(manager, {0, 1, 2});
  EXPECT_EQ(instances(manager.active()), (std::vector<std::string>{"core_busy/cpu.2.busy_pct"}));
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].instance, "cpu.2.busy_pct");
  EXPECT_EQ(sunk[0].to, AlertState::warning);
  EXPECT_TRUE(sunk[0].reason.empty()) << "ordinary transitions carry no reason";
  EXPECT_FALSE(alert_event_json(sunk[0]).contains("reason"));

  // The same change applied again (a reload built from the newer schema first) adds nothing.
  SchemaChange again;
  again.added.push_back(*schema().find("cpu.2.busy_pct"));
  manager.apply_schema(schema(), again, t_);
  EXPECT_EQ(manager.instance_count(), 3u + 1u);
}

TEST_F(DynamicSchemaTest, RuleMatchingNothingAtStartGetsInstancesLater) {
  AlertManager manager(schema(), {make_rule("core_5", "cpu.5.busy_pct", "> 80")});
  ASSERT_EQ(manager.warnings().size(), 1u);
  EXPECT_NE(manager.warnings()[0].find("matches no series yet"), std::string::npos) << manager.warnings()[0];
  EXPECT_EQ(manager.instance_count(), 0u);
  tick(manager, {0, 1, 5});
  EXPECT_EQ(manager.instance_count(), 1u);
  set("cpu.5.busy_pct", 90);
  tick(manager, {0, 1, 5});
  EXPECT_EQ(instances(manager.active()), (std::vector<std::string>{"core_5/cpu.5.busy_pct"}));
}

TEST_F(DynamicSchemaTest, FiringInstanceWhoseSeriesRetiresResolvesOnceWithTheReason) {
  AlertRule rule = make_rule("core_busy", "cpu.*.busy_pct", "> 80");
  rule.description = "core {{series}} at {{value}}";
  AlertManager manager(schema(), {rule});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("cpu.1.busy_pct", 90);
  tick(manager, {0, 1});
  ASSERT_EQ(sunk.size(), 1u);
  const std::int64_t fired_at = t_;

  tick(manager, {0});  // CPU 1 goes offline and (grace period of one read) retires
  EXPECT_TRUE(manager.active().empty()) << "an ended instance is not active";
  EXPECT_EQ(manager.instance_count(), 1u);
  ASSERT_EQ(sunk.size(), 2u);
  const AlertEvent& resolved = sunk[1];
  EXPECT_EQ(resolved.rule, "core_busy");
  EXPECT_EQ(resolved.instance, "cpu.1.busy_pct");
  EXPECT_EQ(resolved.from, AlertState::warning);
  EXPECT_EQ(resolved.to, AlertState::ok);
  EXPECT_EQ(resolved.reason, "series_retired");
  EXPECT_EQ(resolved.t_ms, t_);
  EXPECT_EQ(resolved.incident_ms, t_ - fired_at);
  EXPECT_EQ(resolved.severity, "warning");
  EXPECT_EQ(alert_event_json(resolved)["reason"], "series_retired");
  ASSERT_FALSE(manager.recent_events().empty());
  EXPECT_EQ(manager.recent_events().back().reason, "series_retired");

  // Later ticks say nothing more about it, and its old id's values are ignored.
  for (int i = 0; i < 3; ++i) tick(manager, {0});
  EXPECT_EQ(sunk.size(), 2u);
  EXPECT_TRUE(manager.active().empty());

  // The CPU comes back: a new series (new id), a fresh instance.
  tick(manager, {0, 1});
  EXPECT_EQ(manager.instance_count(), 2u);
  EXPECT_TRUE(manager.active().empty());
}

TEST_F(DynamicSchemaTest, PendingAndNodataInstancesAlsoResolveWhenTheirSeriesRetires) {
  AlertRule slow = make_rule("slow", "cpu.*.busy_pct", "> 80");
  slow.for_duration = 1h;
  AlertRule quiet = make_rule("quiet", "cpu.*.idle_pct", "< 0");
  quiet.nodata_after = 1s;
  AlertManager manager(schema(), {slow, quiet});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("cpu.1.busy_pct", 90);
  set("cpu.1.idle_pct", kNaN);
  tick(manager, {0, 1});
  tick(manager, {0, 1});
  ASSERT_EQ(manager.active().size(), 2u);
  sunk.clear();
  tick(manager, {0});
  EXPECT_TRUE(manager.active().empty());
  ASSERT_EQ(sunk.size(), 2u);
  for (const AlertEvent& event : sunk) {
    EXPECT_EQ(event.instance.substr(0, 6), "cpu.1.");
    EXPECT_EQ(event.to, AlertState::ok);
    EXPECT_EQ(event.reason, "series_retired");
  }
}

TEST_F(DynamicSchemaTest, OkInstanceWhoseSeriesRetiresEndsSilently) {
  AlertManager manager(schema(), {make_rule("core_busy", "cpu.*.busy_pct", "> 80")});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  tick(manager, {0, 1});
  EXPECT_EQ(manager.instance_count(), 2u);
  tick(manager, {0});
  EXPECT_EQ(manager.instance_count(), 1u);
  EXPECT_TRUE(sunk.empty());
  EXPECT_TRUE(manager.recent_events().empty());
  EXPECT_TRUE(manager.active().empty());
}

TEST_F(DynamicSchemaTest, LabelMatcherRuleSelectsByFamilyAndLabelsAsSeriesAppear) {
  AlertRule per_core = make_rule("per_core", "", "> 80");
  per_core.family = "cpu.busy_pct";
  per_core.match_labels = {{"cpu", "*"}};
  AlertRule core_1x = make_rule("core_1x", "", "> 80");
  core_1x.family = "cpu.busy_pct";
  core_1x.match_labels = {{"cpu", "1*"}};
  AlertRule whole_family = make_rule("whole_family", "", "> 80");
  whole_family.family = "cpu.busy_pct";
  AlertRule both = make_rule("both", "cpu.1*", "> 80");  // series glob and family: both must hold
  both.family = "cpu.iowait_pct";
  both.match_labels = {{"cpu", "*"}};
  AlertManager manager(schema(), {per_core, core_1x, whole_family, both});
  // cpus 0 and 1: per_core 2, core_1x 1, whole_family 3 (host-wide too), both 1 (cpu.1.iowait_pct).
  EXPECT_EQ(manager.instance_count(), 2u + 1u + 3u + 1u);
  EXPECT_TRUE(manager.warnings().empty());

  tick(manager, {0, 1, 12});
  EXPECT_EQ(manager.instance_count(), 3u + 2u + 4u + 2u);
  set("cpu.12.busy_pct", 99);
  set("cpu.12.iowait_pct", 99);
  tick(manager, {0, 1, 12});
  EXPECT_EQ(instances(manager.active()),
            (std::vector<std::string>{"per_core/cpu.12.busy_pct", "core_1x/cpu.12.busy_pct",
                                      "whole_family/cpu.12.busy_pct", "both/cpu.12.iowait_pct"}));
}

// A reload builds from the schema it is given, and keeps an unchanged rule's
// firing instance on a series that schema already shows retired, so the
// retirement the sampler applies next still ends it with its event.
TEST_F(DynamicSchemaTest, ReloadBuildsFromTheCurrentSchemaAndKeepsRetirementEvents) {
  const AlertRule rule = make_rule("core_busy", "cpu.*.busy_pct", "> 80");
  AlertManager manager(schema(), {rule});
  std::vector<AlertEvent> sunk;
  manager.set_sink([&](const AlertEvent& event) { sunk.push_back(event); });
  set("cpu.1.busy_pct", 90);
  tick(manager, {0, 1});
  ASSERT_EQ(sunk.size(), 1u);

  // CPU 3 appears and CPU 1 retires in the registry; the reload sees that
  // schema before the sampler hands the change to the manager.
  t_ += 1000;
  const SchemaChange change = next_schema({0, 3});
  ASSERT_TRUE(manager.replace_rules(schema(), {rule}));
  EXPECT_EQ(manager.instance_count(), 2u + 1u) << "cpu.0, cpu.3, and cpu.1's still firing instance";
  manager.apply_schema(schema(), change, t_);
  EXPECT_EQ(manager.instance_count(), 2u) << "no duplicate for cpu.3";
  ASSERT_EQ(sunk.size(), 2u);
  EXPECT_EQ(sunk[1].instance, "cpu.1.busy_pct");
  EXPECT_EQ(sunk[1].reason, "series_retired");

  // A schema older than the one applied is refused (the agent retries with the current one).
  const SchemaSnapshot old = testing_support::platform_schema({0, 1});
  ASSERT_LT(old->version(), schema().version());
  EXPECT_FALSE(manager.replace_rules(*old, {rule}));
  EXPECT_EQ(manager.instance_count(), 2u);
}

}  // namespace
}  // namespace hostpulse
