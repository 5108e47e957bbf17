#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/metrics_store.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"

namespace hostpulse {

using SteadyClock = std::chrono::steady_clock;

// Tick scheduling on absolute deadlines (STYLE rule 7): the next deadline is
// the previous one plus the period, so small delays never accumulate into
// drift. When the sampler wakes more than a whole period late, the ticks it
// slept through are skipped (not run in a burst) and counted.
struct NextTick {
  SteadyClock::time_point deadline;
  std::uint64_t missed = 0;
};
NextTick next_tick(SteadyClock::time_point previous_deadline, SteadyClock::time_point now,
                   SteadyClock::duration period);

struct CollectorStats {
  std::string name;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  bool last_ok = false;
  std::string last_error{};        // empty when the collector has never failed
  std::int64_t last_error_t_ms = 0;
  std::uint64_t last_duration_us = 0;
  std::uint64_t max_duration_us = 0;
  // False while the host has no such data (no PSI, no battery): the source
  // is then neither ok nor failing, and unavailable_reason says why.
  bool available = true;
  std::string unavailable_reason{};
};

struct SamplerStats {
  std::uint64_t ticks = 0;
  std::uint64_t missed_ticks = 0;
  std::int64_t last_tick_t_ms = 0;
  std::uint64_t last_tick_duration_us = 0;  // collect + derive + append
  // True from start() until the thread has been stopped and joined.
  bool running = false;
  // When the thread last completed a tick (or started, before its first).
  // Written only when a tick ends, so a thread stuck inside a tick leaves it
  // behind and a reader comparing it with now sees the stall.
  SteadyClock::time_point last_progress{};
  // The collector being read right now, if any: where a stalled tick hangs.
  std::optional<std::size_t> busy_collector;
  std::vector<CollectorStats> collectors;
};

// A running sampler that has not completed a tick for stall_after(interval)
// is stalled: health reports it as degraded. Three intervals, so one slow
// tick on a loaded host is not a stall; at least kMinStallAfter, so a short
// interval does not flag a host that is merely busy (a 100 ms interval would
// otherwise call 300 ms of CPU starvation a stall).
inline constexpr int kStallIntervals = 3;
inline constexpr std::chrono::milliseconds kMinStallAfter{5000};
std::chrono::milliseconds stall_after(std::chrono::milliseconds interval);
// How long since the sampler last made progress; zero when it is not running.
std::chrono::milliseconds time_since_progress(const SamplerStats& stats, SteadyClock::time_point now);
bool is_stalled(const SamplerStats& stats, SteadyClock::time_point now, std::chrono::milliseconds interval);

// One point as the sampler hands it on, after storing it in history.
struct SampledPoint {
  std::uint64_t seq = 0;
  std::int64_t t_ms = 0;
  std::span<const double> values;  // by series id
  // Set only when series appeared or retired this tick: the change and the
  // schema after it. Consumers apply it before the values.
  const SchemaChange* change = nullptr;
  SchemaSnapshot schema;
};

// Called on the sampler thread after each point is stored. Must not block.
using PointCallback = std::function<void(const SampledPoint& point)>;

// Reads every source once and registers the entities it finds, so the
// schema knows them and the first tick has a previous read to compute rates
// from. What Sampler::start() does first unless this was called.
void prime_sources(CollectorSet& collectors, SeriesRegistry& registry, History& history);

// Runs the collectors on a timer, derives a point and appends it to history.
// One thread; the rest of the agent reads history and stats().
class Sampler {
 public:
  Sampler(CollectorSet& collectors, SeriesRegistry& registry, History& history,
          std::chrono::milliseconds interval, PointCallback on_point = {});
  // Joins the thread without a bound (destroying what it uses would be
  // worse): call stop() first and handle its timeout.
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // prime_sources() with this sampler's parts and timing; start() does it on
  // the sampler thread unless it was called (or primed_already() was).
  void prime();
  // The caller primed the sources itself (prime_sources()).
  void primed_already();

  // Starts the thread; it primes first unless prime() was called, so a
  // collector that hangs at start-up hangs the sampler thread, not the caller.
  void start();
  // Wakes the thread and waits up to `timeout` for it to finish: true once
  // it has finished and been joined (normally within one collector pass),
  // false if it is still inside a tick, e.g. a read() that never returns.
  // Then the thread still uses this object: call stop() again later, or end
  // the process without destroying the sampler (what the agent does).
  bool stop(SteadyClock::duration timeout = kStopTimeout);
  // How long the agent waits for the sampler thread at shutdown: several
  // ticks' worth of collector work on any real host, and still well inside
  // systemd's stop timeout.
  static constexpr std::chrono::milliseconds kStopTimeout{2000};

  // Each tick also writes the sources' Prometheus samples to store (for
  // /metrics). Call before start(); null (the default): none are kept.
  void expose_to(MetricsStore* store) { metrics_ = store; }

  // One tick now, on the calling thread (tests and the thread's loop).
  void tick();

  [[nodiscard]] SamplerStats stats() const;

 private:
  void run();
  void collect();
  void join();

  CollectorSet& collectors_;
  SeriesRegistry& registry_;
  History& history_;
  const std::chrono::milliseconds interval_;
  PointCallback on_point_;
  MetricsStore* metrics_ = nullptr;

  SteadyClock::time_point previous_time_{};
  std::vector<double> values_;
  bool primed_ = false;

  mutable std::mutex stats_mutex_;
  SamplerStats stats_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool thread_finished_ = false;  // set by the thread as its last act
  std::thread thread_;
};

}  // namespace hostpulse
