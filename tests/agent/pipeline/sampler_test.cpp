#include "agent/pipeline/sampler.hpp"

#include "collectors/linux/proc_uptime.hpp"

#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
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
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"}, core_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 16);
  std::vector<std::uint64_t> seen;
  std::vector<bool> changed;
  Sampler sampler(collectors, registry, history, 1000ms, [&](const SampledPoint& point) {
    seen.push_back(point.seq);
    changed.push_back(point.change != nullptr);
    EXPECT_GT(point.t_ms, 0);
    EXPECT_EQ(point.values.size(), registry.schema()->size());
  });
  sampler.prime();
  // Priming registered the two CPUs; the ticks change nothing.
  const SchemaSnapshot schema = registry.schema();
  EXPECT_NE(schema->find("cpu.1.busy_pct"), std::nullopt);
  sampler.tick();
  sampler.tick();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(changed, (std::vector<bool>{false, false}));
  EXPECT_EQ(history.column_count(), schema->size());
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
  const std::uint32_t ids[] = {*schema->find("mem.total_bytes"), *schema->find("cpu.busy_pct")};
  const HistoryColumns latest = history.latest(ids);
  EXPECT_GT(latest.values[0][0], 0);
  EXPECT_TRUE(std::isnan(latest.values[1][0]));
}

TEST(SamplerTest, FailingCollectorsAreCountedAndDoNotStopTheTick) {
  CollectorSet collectors(HostPaths{fixture("garbage"), "/sys"}, core_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 4);
  Sampler sampler(collectors, registry, history, 1000ms);
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
  CollectorSet collectors(HostPaths{"/nonexistent/proc", "/nonexistent/sys"}, core_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 4);
  Sampler sampler(collectors, registry, history, 1000ms);
  sampler.prime();
  sampler.tick();
  for (const CollectorStats& c : sampler.stats().collectors) {
    EXPECT_FALSE(c.last_ok);
    EXPECT_NE(c.last_error.find("/nonexistent/proc"), std::string::npos) << c.last_error;
  }
}

TEST(SamplerTest, ThreadTicksOnScheduleAndStopsPromptly) {
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"}, core_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 64);
  Sampler sampler(collectors, registry, history, 100ms);
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

TEST(StallAfterTest, IsThreeIntervalsButNeverUnderTheMinimum) {
  EXPECT_EQ(stall_after(100ms), kMinStallAfter);
  EXPECT_EQ(stall_after(1000ms), kMinStallAfter);
  EXPECT_EQ(stall_after(2000ms), 6000ms);
  EXPECT_EQ(stall_after(60'000ms), 180'000ms);
}

TEST(StallAfterTest, OnlyARunningSamplerPastTheThresholdIsStalled) {
  const Clock::time_point start{std::chrono::hours(1)};
  SamplerStats stats;
  stats.last_progress = start;
  EXPECT_FALSE(is_stalled(stats, start + 1h, 100ms)) << "not running: nothing to be stalled";
  stats.running = true;
  EXPECT_FALSE(is_stalled(stats, start + kMinStallAfter, 100ms));
  EXPECT_TRUE(is_stalled(stats, start + kMinStallAfter + 1ms, 100ms));
  EXPECT_EQ(time_since_progress(stats, start + 1234ms), 1234ms);
  EXPECT_EQ(time_since_progress(stats, start - 1s), 0ms) << "a clock read before the tick is no age";
}

// A collector whose parser blocks while the gate is closed: the stand-in for
// a read() on a hung filesystem, which no timeout inside the tick can end.
class Gate {
 public:
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Called by the collector: waits while the gate is closed.
  void pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  bool wait_until_blocked(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int waiting_ = 0;
};

Gate blocking_gate;

struct Nothing {};
Status parse_through_gate(std::string_view, Nothing&) {
  blocking_gate.pass();
  return Status::success();
}
void derive_nothing(const Nothing*, const Nothing&, const DeriveContext&, SeriesWriter&) {}
constexpr SourceFunctions<Nothing> kThroughGate{&parse_through_gate, &derive_nothing};

// A real source first, so a tick has something to do before it blocks.
std::span<const SourceDefinition> blocking_sources() {
  static const SourceDefinition sources[] = {
      proc_uptime_source(),
      {.name = "blocking", .procfs_path = "loadavg", .series = {}, .create = &create_source<Nothing, kThroughGate>},
  };
  return sources;
}

// Opens the gate when the test ends, however it ends: the sampler's
// destructor joins its thread, which must be let out first.
struct OpenGateOnExit {
  ~OpenGateOnExit() { blocking_gate.open(); }
};

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(SamplerStallTest, BlockedCollectorShowsAsStalledAndStopReturnsWithinItsBound) {
  blocking_gate.open();
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"}, blocking_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 16);
  constexpr auto kInterval = 100ms;
  Sampler sampler(collectors, registry, history, kInterval);
  const OpenGateOnExit open_gate_on_exit;
  sampler.start();
  ASSERT_TRUE(poll_until([&] { return sampler.stats().ticks >= 2; }, 5s)) << "the sampler never ticked";

  blocking_gate.close();
  ASSERT_TRUE(blocking_gate.wait_until_blocked(5s));
  const SamplerStats stuck = sampler.stats();
  EXPECT_TRUE(stuck.running);
  ASSERT_TRUE(stuck.busy_collector.has_value());
  EXPECT_EQ(*stuck.busy_collector, 1u) << "the stats should name the collector the tick hangs in";
  // The tick never ends, so its counters stand still; the age of the last
  // completed tick is what grows. Judged at a later "now" instead of waiting.
  EXPECT_FALSE(is_stalled(stuck, stuck.last_progress + stall_after(kInterval), kInterval));
  EXPECT_TRUE(is_stalled(stuck, stuck.last_progress + stall_after(kInterval) + 1ms, kInterval));
  const std::uint64_t ticks = stuck.ticks;

  constexpr auto kBound = 300ms;
  const auto stop_started = Clock::now();
  EXPECT_FALSE(sampler.stop(kBound)) << "a thread blocked in a collector cannot have finished";
  const auto stop_took = Clock::now() - stop_started;
  EXPECT_GE(stop_took, kBound);
  EXPECT_LT(stop_took, kBound + 1s) << "stop() must give up at its bound";
  EXPECT_EQ(sampler.stats().ticks, ticks);
  EXPECT_TRUE(sampler.stats().running);

  // Unblocked, the thread sees the stop request and a second stop() joins it.
  blocking_gate.open();
  EXPECT_TRUE(sampler.stop(5s));
  EXPECT_FALSE(sampler.stats().running);
  EXPECT_FALSE(is_stalled(sampler.stats(), Clock::now() + 1h, kInterval));
}

// Priming runs on the sampler thread: a collector that hangs at start-up
// hangs that thread, not the caller of start(), and shows as a stall with no
// tick at all.
TEST(SamplerStallTest, CollectorBlockedBeforeTheFirstTickIsAStallToo) {
  blocking_gate.close();
  CollectorSet collectors(HostPaths{fixture("linux6_2cpu"), "/sys"}, blocking_sources());
  SeriesRegistry registry(collectors.definitions());
  History history(0, 16);
  Sampler sampler(collectors, registry, history, 100ms);
  const OpenGateOnExit open_gate_on_exit;
  const auto start_called = Clock::now();
  sampler.start();
  EXPECT_LT(Clock::now() - start_called, 1s) << "start() must not run the collectors itself";
  ASSERT_TRUE(blocking_gate.wait_until_blocked(5s));
  const SamplerStats stuck = sampler.stats();
  EXPECT_EQ(stuck.ticks, 0u);
  EXPECT_TRUE(is_stalled(stuck, stuck.last_progress + stall_after(100ms) + 1ms, 100ms));
  EXPECT_FALSE(sampler.stop(50ms));
  blocking_gate.open();
  EXPECT_TRUE(sampler.stop(5s));
}

}  // namespace
}  // namespace hostpulse
