#include "agent/pipeline/derive.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

CpuTimes times(std::array<std::uint64_t, kCpuStateCount> jiffies) {
  CpuTimes t;
  t.jiffies = jiffies;
  t.columns = 10;
  return t;
}

RawSample sample_with_cpus(CpuTimes total, std::vector<CpuLine> cpus) {
  RawSample s;
  s.stat.total = total;
  s.stat.cpus = std::move(cpus);
  s.stat_ok = true;
  return s;
}

struct DeriveFixture : ::testing::Test {
  const std::vector<std::uint32_t> cpu_ids{0, 1};
  const Schema schema = Schema::canonical(cpu_ids);
  std::vector<double> out = std::vector<double>(schema.size());

  double value(std::string_view name) const {
    const auto id = schema.find(name);
    EXPECT_TRUE(id.has_value()) << name;
    return id ? out[*id] : std::numeric_limits<double>::quiet_NaN();
  }
};

TEST_F(DeriveFixture, CpuPercentagesAreSharesOfElapsedJiffies) {
  //                          user nice sys idle iowait irq softirq steal guest guest_nice
  const RawSample before = sample_with_cpus(times({100, 0, 50, 800, 10, 0, 0, 0, 0, 0}),
                                            {{0, times({50, 0, 25, 400, 5, 0, 0, 0, 0, 0})},
                                             {1, times({50, 0, 25, 400, 5, 0, 0, 0, 0, 0})}});
  // +200 jiffies: user 60, nice 10, system 20, idle 80, iowait 20, irq 4, softirq 4, steal 2; guest 30 (inside user).
  const RawSample after = sample_with_cpus(times({160, 10, 70, 880, 30, 4, 4, 2, 30, 0}),
                                           {{0, times({110, 0, 25, 435, 5, 0, 0, 0, 0, 0})},
                                            {1, times({50, 10, 45, 445, 25, 4, 4, 2, 0, 0})}});
  derive(schema, before, after, 1.0, out);
  EXPECT_DOUBLE_EQ(value("cpu.user_pct"), 30.0);
  EXPECT_DOUBLE_EQ(value("cpu.nice_pct"), 5.0);
  EXPECT_DOUBLE_EQ(value("cpu.system_pct"), 10.0);
  EXPECT_DOUBLE_EQ(value("cpu.idle_pct"), 40.0);
  EXPECT_DOUBLE_EQ(value("cpu.iowait_pct"), 10.0);
  EXPECT_DOUBLE_EQ(value("cpu.irq_pct"), 2.0);
  EXPECT_DOUBLE_EQ(value("cpu.softirq_pct"), 2.0);
  EXPECT_DOUBLE_EQ(value("cpu.steal_pct"), 1.0);
  EXPECT_DOUBLE_EQ(value("cpu.guest_pct"), 15.0);
  EXPECT_DOUBLE_EQ(value("cpu.busy_pct"), 50.0);  // 100 - idle - iowait
  // cpu0: +95 jiffies: user 60, idle 35.
  EXPECT_NEAR(value("cpu.0.user_pct"), 100.0 * 60 / 95, 0.005);
  EXPECT_NEAR(value("cpu.0.busy_pct"), 100.0 * 60 / 95, 0.005);
  // cpu1: +105: nice 10, system 20, idle 45, iowait 20, irq 4, softirq 4, steal 2.
  EXPECT_NEAR(value("cpu.1.iowait_pct"), 100.0 * 20 / 105, 0.005);
  EXPECT_NEAR(value("cpu.1.busy_pct"), 100.0 * 40 / 105, 0.005);
}

TEST_F(DeriveFixture, StatesSumToOneHundred) {
  const RawSample before = sample_with_cpus(times({1, 2, 3, 4, 5, 6, 7, 8, 0, 0}), {});
  const RawSample after = sample_with_cpus(times({17, 19, 31, 400, 9, 11, 13, 15, 5, 1}), {});
  derive(schema, before, after, 1.0, out);
  double sum = 0;
  for (std::string_view state : {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}) {
    sum += value("cpu." + std::string(state) + "_pct");
  }
  EXPECT_NEAR(sum, 100.0, 0.05);
}

TEST_F(DeriveFixture, CounterResetGivesNoValueInsteadOfASpike) {
  const RawSample before = sample_with_cpus(times({1000, 0, 500, 9000, 100, 0, 0, 0, 0, 0}),
                                            {{0, times({500, 0, 250, 4500, 50, 0, 0, 0, 0, 0})},
                                             {1, times({500, 0, 250, 4500, 50, 0, 0, 0, 0, 0})}});
  const RawSample after = sample_with_cpus(times({10, 0, 5, 90, 1, 0, 0, 0, 0, 0}),
                                           {{0, times({5, 0, 2, 45, 0, 0, 0, 0, 0, 0})},
                                            {1, times({600, 0, 250, 4600, 50, 0, 0, 0, 0, 0})}});
  derive(schema, before, after, 1.0, out);
  EXPECT_TRUE(std::isnan(value("cpu.busy_pct")));
  EXPECT_TRUE(std::isnan(value("cpu.user_pct")));
  EXPECT_TRUE(std::isnan(value("cpu.0.busy_pct")));
  EXPECT_DOUBLE_EQ(value("cpu.1.user_pct"), 50.0);  // the other core is unaffected
}

TEST_F(DeriveFixture, IowaitSteppingBackwardsCountsAsZero) {
  // Linux's per-CPU iowait can decrease; that must not produce a negative share.
  const RawSample before = sample_with_cpus(times({100, 0, 0, 100, 50, 0, 0, 0, 0, 0}), {});
  const RawSample after = sample_with_cpus(times({150, 0, 0, 150, 45, 0, 0, 0, 0, 0}), {});
  derive(schema, before, after, 1.0, out);
  EXPECT_DOUBLE_EQ(value("cpu.iowait_pct"), 0.0);
  EXPECT_DOUBLE_EQ(value("cpu.user_pct"), 50.0);
  EXPECT_DOUBLE_EQ(value("cpu.busy_pct"), 50.0);
}

TEST_F(DeriveFixture, CpuOfflineInEitherSampleHasNoValue) {
  const auto busy = times({10, 0, 0, 10, 0, 0, 0, 0, 0, 0});
  const auto later = times({20, 0, 0, 20, 0, 0, 0, 0, 0, 0});
  RawSample before = sample_with_cpus(busy, {{0, busy}, {1, busy}});
  RawSample after = sample_with_cpus(later, {{0, later}});  // cpu1 went offline
  derive(schema, before, after, 1.0, out);
  EXPECT_DOUBLE_EQ(value("cpu.0.busy_pct"), 50.0);
  EXPECT_TRUE(std::isnan(value("cpu.1.busy_pct")));

  // Back online: no value for the tick where it was missing before.
  RawSample again = sample_with_cpus(times({30, 0, 0, 30, 0, 0, 0, 0, 0, 0}),
                                     {{0, times({30, 0, 0, 30, 0, 0, 0, 0, 0, 0})}, {1, times({15, 0, 0, 15, 0, 0, 0, 0, 0, 0})}});
  derive(schema, after, again, 1.0, out);
  EXPECT_TRUE(std::isnan(value("cpu.1.busy_pct")));
  RawSample steady = sample_with_cpus(times({40, 0, 0, 40, 0, 0, 0, 0, 0, 0}),
                                      {{0, times({40, 0, 0, 40, 0, 0, 0, 0, 0, 0})}, {1, times({25, 0, 0, 15, 0, 0, 0, 0, 0, 0})}});
  derive(schema, again, steady, 1.0, out);
  EXPECT_DOUBLE_EQ(value("cpu.1.busy_pct"), 100.0);
}

TEST_F(DeriveFixture, CpuAppearingAfterStartIsIgnoredNotMisfiled) {
  const auto t = times({10, 0, 0, 10, 0, 0, 0, 0, 0, 0});
  const auto u = times({20, 0, 0, 20, 0, 0, 0, 0, 0, 0});
  const auto w = times({40, 0, 0, 20, 0, 0, 0, 0, 0, 0});
  // cpu7 is not in the schema (0, 1); it must not land in cpu.1's slot.
  derive(schema, sample_with_cpus(t, {{0, t}, {7, t}}), sample_with_cpus(u, {{0, u}, {7, w}}), 1.0, out);
  EXPECT_DOUBLE_EQ(value("cpu.0.busy_pct"), 50.0);
  EXPECT_TRUE(std::isnan(value("cpu.1.busy_pct")));
}

TEST_F(DeriveFixture, NoElapsedJiffiesGivesNoValue) {
  const auto t = times({10, 0, 0, 10, 0, 0, 0, 0, 0, 0});
  derive(schema, sample_with_cpus(t, {}), sample_with_cpus(t, {}), 1.0, out);
  EXPECT_TRUE(std::isnan(value("cpu.busy_pct")));
}

TEST_F(DeriveFixture, MemorySwapLoadAndRates) {
  RawSample before, after;
  before.stat_ok = after.stat_ok = true;
  before.stat.context_switches = 1000;
  after.stat.context_switches = 3000;
  before.stat.processes_forked = 10;
  after.stat.processes_forked = 30;
  after.stat.procs_running = 3;
  after.stat.procs_blocked = 1;
  after.memory_ok = true;
  after.memory.total_bytes = 8000;
  after.memory.available_bytes = 3000;
  after.memory.free_bytes = 1000;
  after.memory.cached_bytes = 1500;
  after.memory.swap_total_bytes = 4000;
  after.memory.swap_free_bytes = 3000;
  after.load_ok = true;
  after.load = LoadAvg{0.5, 1.25, 2.0, 2, 300, 1234};
  after.uptime_ok = true;
  after.uptime.uptime_s = 42.5;
  derive(schema, before, after, 2.0, out);
  EXPECT_DOUBLE_EQ(value("mem.total_bytes"), 8000);
  EXPECT_DOUBLE_EQ(value("mem.used_bytes"), 5000);
  EXPECT_DOUBLE_EQ(value("mem.available_bytes"), 3000);
  EXPECT_DOUBLE_EQ(value("mem.cached_bytes"), 1500);
  EXPECT_DOUBLE_EQ(value("swap.used_bytes"), 1000);
  EXPECT_DOUBLE_EQ(value("swap.total_bytes"), 4000);
  EXPECT_DOUBLE_EQ(value("load.1m"), 0.5);
  EXPECT_DOUBLE_EQ(value("load.5m"), 1.25);
  EXPECT_DOUBLE_EQ(value("load.15m"), 2.0);
  EXPECT_DOUBLE_EQ(value("procs.running"), 3);
  EXPECT_DOUBLE_EQ(value("procs.blocked"), 1);
  EXPECT_DOUBLE_EQ(value("procs.total"), 300);
  EXPECT_DOUBLE_EQ(value("system.context_switches_per_s"), 1000);
  EXPECT_DOUBLE_EQ(value("system.forks_per_s"), 10);
  EXPECT_DOUBLE_EQ(value("system.uptime_s"), 42.5);
  EXPECT_DOUBLE_EQ(value("mem.used_pct"), 62.5);
  EXPECT_DOUBLE_EQ(value("mem.available_pct"), 37.5);
  EXPECT_DOUBLE_EQ(value("swap.used_pct"), 25.0);
  // No per-CPU lines in this sample: no per-CPU load.
  EXPECT_TRUE(std::isnan(value("load.1m_per_cpu")));
}

TEST_F(DeriveFixture, LoadPerCpuAndNoSwap) {
  RawSample before, after;
  after.stat_ok = true;
  after.stat.cpus = {{0, {}}, {1, {}}, {2, {}}, {3, {}}};
  after.load_ok = true;
  after.load = LoadAvg{2.0, 1.0, 0.5, 1, 100, 1};
  after.memory_ok = true;
  after.memory.total_bytes = 100;
  after.memory.available_bytes = 100;
  derive(schema, before, after, 1.0, out);
  EXPECT_DOUBLE_EQ(value("load.1m_per_cpu"), 0.5);
  EXPECT_DOUBLE_EQ(value("load.5m_per_cpu"), 0.25);
  EXPECT_DOUBLE_EQ(value("load.15m_per_cpu"), 0.13);  // 0.125 rounded to hundredths
  EXPECT_DOUBLE_EQ(value("swap.used_pct"), 0.0);
  EXPECT_DOUBLE_EQ(value("mem.used_pct"), 0.0);
}

TEST_F(DeriveFixture, AvailableAboveTotalNeverGivesNegativeUsed) {
  RawSample before, after;
  after.memory_ok = true;
  after.memory.total_bytes = 1000;
  after.memory.available_bytes = 1200;
  after.memory.swap_total_bytes = 10;
  after.memory.swap_free_bytes = 20;
  derive(schema, before, after, 1.0, out);
  EXPECT_DOUBLE_EQ(value("mem.used_bytes"), 0);
  EXPECT_DOUBLE_EQ(value("swap.used_bytes"), 0);
}

TEST_F(DeriveFixture, FailedSourcesGiveNoValues) {
  RawSample before, after;  // every *_ok false
  derive(schema, before, after, 1.0, out);
  for (double v : out) EXPECT_TRUE(std::isnan(v));
}

TEST_F(DeriveFixture, CountersGoingBackwardsGiveNoRate) {
  RawSample before, after;
  before.stat_ok = after.stat_ok = true;
  before.stat.context_switches = 5000;
  after.stat.context_switches = 10;
  derive(schema, before, after, 1.0, out);
  EXPECT_TRUE(std::isnan(value("system.context_switches_per_s")));
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

TEST(DeriveRoundingTest, PercentagesAndRatesAreKeptToHundredths) {
  const std::uint32_t cpus[] = {0};
  const Schema schema = Schema::canonical(cpus);
  std::vector<double> out(schema.size());
  RawSample before, after;
  before.stat_ok = after.stat_ok = true;
  before.stat.total.jiffies = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  after.stat.total.jiffies = {1, 0, 0, 2, 0, 0, 0, 0, 0, 0};  // user 33.333...%
  after.stat.context_switches = 10;
  derive(schema, before, after, 3.0, out);
  EXPECT_DOUBLE_EQ(out[*schema.find("cpu.user_pct")], 33.33);
  EXPECT_DOUBLE_EQ(out[*schema.find("cpu.idle_pct")], 66.67);
  EXPECT_DOUBLE_EQ(out[*schema.find("system.context_switches_per_s")], 3.33);
}

}  // namespace
}  // namespace hostpulse
