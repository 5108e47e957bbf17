#include "agent/sampler.hpp"

#include <cmath>
#include <thread>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
using Clock = SteadyClock;

TEST(NextTickTest, AdvancesByOnePeriodFromTheDeadlineNotFromNow) {
  const Clock::time_point start{};
  // Woke 30 ms late: the next deadline still is start + 2 periods (no drift).
  const NextTick next = next_tick(start + 100ms, start + 130ms, 100ms);
  EXPECT_EQ(next.deadline, start + 200ms);
  EXPECT_EQ(next.missed, 0u);
}

TEST(NextTickTest, SkipsAndCountsWholeMissedPeriods) {
  const Clock::time_point start{};
  // Tick for deadline 100 ms finished at 450 ms: deadlines 200, 300, 400 were missed.
  const NextTick next = next_tick(start + 100ms, start + 450ms, 100ms);
  EXPECT_EQ(next.deadline, start + 500ms);
  EXPECT_EQ(next.missed, 3u);
  // Exactly on a later deadline: that one is missed too, the next is in the future.
  const NextTick exact = next_tick(start + 100ms, start + 300ms, 100ms);
  EXPECT_GT(exact.deadline, start + 300ms);
  EXPECT_EQ(exact.deadline, start + 400ms);
  EXPECT_EQ(exact.missed, 2u);
}

std::string fixture(const char* name) { return std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/" + name; }

TEST(SamplerTest, TicksAppendPointsAndCountCollectors) {
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"});
  RawSample probe;
  ASSERT_EQ(collectors.collect_all(probe), 0u);
  std::vector<std::uint32_t> cpus;
  for (const CpuLine& line : probe.stat.cpus) cpus.push_back(line.cpu);
  const Schema schema = Schema::canonical(cpus);
  History history(schema.size(), 16);
  std::vector<std::uint64_t> seen;
  Sampler sampler(collectors, schema, history, 1000ms,
                  [&](std::uint64_t seq, std::int64_t t_ms, std::span<const double> values) {
                    seen.push_back(seq);
                    EXPECT_GT(t_ms, 0);
                    EXPECT_EQ(values.size(), schema.size());
                  });
  sampler.prime();
  sampler.tick();
  sampler.tick();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(history.last_seq(), 2u);
  const SamplerStats stats = sampler.stats();
  EXPECT_EQ(stats.ticks, 2u);
  ASSERT_EQ(stats.collectors.size(), collectors.size());
  for (const CollectorStats& c : stats.collectors) {
    EXPECT_EQ(c.successes, 3u) << c.name;  // prime + 2 ticks
    EXPECT_EQ(c.failures, 0u) << c.name;
    EXPECT_TRUE(c.last_ok);
  }
  // Same files twice: memory is there, CPU has no elapsed jiffies so no value.
  const std::uint32_t ids[] = {*schema.find("mem.total_bytes"), *schema.find("cpu.busy_pct")};
  const HistoryColumns latest = history.latest(ids);
  EXPECT_GT(latest.values[0][0], 0);
  EXPECT_TRUE(std::isnan(latest.values[1][0]));
}

TEST(SamplerTest, FailingCollectorsAreCountedAndDoNotStopTheTick) {
  CollectorSet collectors(HostPaths{fixture("garbage"), "/sys"});
  const Schema schema = Schema::canonical({});
  History history(schema.size(), 4);
  Sampler sampler(collectors, schema, history, 1000ms);
  sampler.prime();
  sampler.tick();
  EXPECT_EQ(history.last_seq(), 1u);
  const SamplerStats stats = sampler.stats();
  std::size_t failing = 0;
  for (const CollectorStats& c : stats.collectors) {
    if (!c.last_ok) {
      ++failing;
      EXPECT_FALSE(c.last_error.empty()) << c.name;
      EXPECT_GT(c.last_error_t_ms, 0);
    }
  }
  EXPECT_GT(failing, 0u);
}

TEST(SamplerTest, MissingProcfsIsAFailureNotACrash) {
  CollectorSet collectors(HostPaths{"/nonexistent/proc", "/nonexistent/sys"});
  const Schema schema = Schema::canonical({});
  History history(schema.size(), 4);
  Sampler sampler(collectors, schema, history, 1000ms);
  sampler.prime();
  sampler.tick();
  for (const CollectorStats& c : sampler.stats().collectors) {
    EXPECT_FALSE(c.last_ok);
    EXPECT_NE(c.last_error.find("/nonexistent/proc"), std::string::npos) << c.last_error;
  }
}

TEST(SamplerTest, ThreadTicksOnScheduleAndStopsPromptly) {
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"});
  const Schema schema = Schema::canonical({});
  History history(schema.size(), 64);
  Sampler sampler(collectors, schema, history, 100ms);
  sampler.prime();
  sampler.start();
  std::this_thread::sleep_for(550ms);
  const auto stop_started = Clock::now();
  sampler.stop();
  EXPECT_LT(Clock::now() - stop_started, 200ms) << "stop() must not wait for the next deadline";
  const std::uint64_t ticks = sampler.stats().ticks;
  EXPECT_GE(ticks, 3u);
  EXPECT_LE(ticks, 6u);
}

}  // namespace
}  // namespace hostpulse
