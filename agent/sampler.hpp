#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/history.hpp"
#include "agent/schema.hpp"
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
  std::string last_error;          // empty when the collector has never failed
  std::int64_t last_error_t_ms = 0;
  std::uint64_t last_duration_us = 0;
  std::uint64_t max_duration_us = 0;
};

struct SamplerStats {
  std::uint64_t ticks = 0;
  std::uint64_t missed_ticks = 0;
  std::int64_t last_tick_t_ms = 0;
  std::uint64_t last_tick_duration_us = 0;  // collect + derive + append
  std::vector<CollectorStats> collectors;
};

// Called on the sampler thread after each point is stored. Must not block.
using PointCallback = std::function<void(std::uint64_t seq, std::int64_t t_ms, std::span<const double> values)>;

// Runs the collectors on a timer, derives a point and appends it to history.
// One thread; the rest of the agent reads history and stats().
class Sampler {
 public:
  Sampler(CollectorSet& collectors, const Schema& schema, History& history,
          std::chrono::milliseconds interval, PointCallback on_point = {});
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Reads every collector once so the first tick has a previous sample to
  // compute rates from. Returns the sample, which also tells the CPUs online.
  const RawSample& prime();

  void start();
  // Wakes the thread and joins it; returns within one collector pass.
  void stop();

  // One tick now, on the calling thread (tests and the thread's loop).
  void tick();

  [[nodiscard]] SamplerStats stats() const;

 private:
  void run();
  void collect(RawSample& sample);

  CollectorSet& collectors_;
  const Schema& schema_;
  History& history_;
  const std::chrono::milliseconds interval_;
  PointCallback on_point_;

  RawSample previous_;
  RawSample current_;
  SteadyClock::time_point previous_time_{};
  std::vector<double> values_;

  mutable std::mutex stats_mutex_;
  SamplerStats stats_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hostpulse
