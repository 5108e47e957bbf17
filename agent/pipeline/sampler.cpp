#include "agent/pipeline/sampler.hpp"

#include <exception>

#include "base/log.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {
namespace {

std::uint64_t micros(SteadyClock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

std::chrono::milliseconds stall_after(std::chrono::milliseconds interval) {
  const std::chrono::milliseconds intervals = kStallIntervals * interval;
  return intervals > kMinStallAfter ? intervals : kMinStallAfter;
}

std::chrono::milliseconds time_since_progress(const SamplerStats& stats, SteadyClock::time_point now) {
  if (!stats.running || now <= stats.last_progress) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - stats.last_progress);
}

bool is_stalled(const SamplerStats& stats, SteadyClock::time_point now, std::chrono::milliseconds interval) {
  return stats.running && time_since_progress(stats, now) > stall_after(interval);
}

NextTick next_tick(SteadyClock::time_point previous_deadline, SteadyClock::time_point now,
                   SteadyClock::duration period) {
  NextTick next{previous_deadline + period, 0};
  if (now >= next.deadline + period) {
    // Woke at least one whole period late: skip to the first deadline after now.
    const auto late = now - next.deadline;
    const auto skipped = late / period;
    next.deadline += skipped * period;
    next.missed = static_cast<std::uint64_t>(skipped);
    if (next.deadline <= now) {
      next.deadline += period;
      ++next.missed;
    }
  }
  return next;
}

namespace {

// New series join history with their declared scale, which lets it store
// their values as integers.
void add_to_history(History& history, const SchemaChange& change, const SeriesRegistry& registry) {
  if (change.added.empty()) return;
  const SchemaSnapshot schema = registry.schema();
  std::vector<int> decimals;
  decimals.reserve(change.added.size());
  for (const std::uint32_t id : change.added) {
    decimals.push_back(id < schema->size() ? (*schema)[id].decimals : kFloatDecimals);
  }
  history.add_series(change.added, decimals);
}

// After a first read: registers what it found and makes it the previous read.
void register_first_read(CollectorSet& collectors, SeriesRegistry& registry, History& history) {
  std::vector<double> values;
  registry.begin_tick(history.last_seq() + 1, values);
  // No previous read: only gauges get values, and those are discarded; what
  // matters is that every entity seen registers its series.
  collectors.derive_all(0.0, [&registry](std::size_t index) -> SeriesWriter& { return registry.writer(index); });
  const SchemaChange change = registry.end_tick(collectors);
  add_to_history(history, change, registry);
  collectors.advance_all();
}

}  // namespace

void prime_sources(CollectorSet& collectors, SeriesRegistry& registry, History& history) {
  collectors.collect_all();
  register_first_read(collectors, registry, history);
}

Sampler::Sampler(CollectorSet& collectors, SeriesRegistry& registry, History& history,
                 std::chrono::milliseconds interval, PointCallback on_point)
    : collectors_(collectors),
      registry_(registry),
      history_(history),
      interval_(interval),
      on_point_(std::move(on_point)) {
  // Room for every series known now, so a steady tick does not allocate.
  values_.reserve(registry_.schema()->size());
  stats_.collectors.resize(collectors_.size());
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    stats_.collectors[i].name = std::string(collectors_.definition(i).name);
  }
}

Sampler::~Sampler() { join(); }

void Sampler::prime() {
  collect();
  register_first_read(collectors_, registry_, history_);
  primed_already();
}

void Sampler::primed_already() {
  previous_time_ = SteadyClock::now();
  primed_ = true;
}

void Sampler::collect() {
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    // Unavailable and not due to be asked again: its stats stay as they are.
    // Only once the stats say so: priming reads every source before the
    // first tick without recording stats, and a source it found unavailable
    // would otherwise rest through its first minute looking "not ok" (and
    // health "degraded") instead of unavailable. Only this thread writes
    // stats_, so reading them here needs no lock.
    if (!stats_.collectors[i].available && collectors_.resting(i)) continue;
    {
      std::lock_guard lock(stats_mutex_);
      stats_.busy_collector = i;
    }
    const auto started = SteadyClock::now();
    Status status = collectors_.collect_one(i);
    const auto duration_us = micros(SteadyClock::now() - started);
    std::lock_guard lock(stats_mutex_);
    stats_.busy_collector.reset();
    CollectorStats& s = stats_.collectors[i];
    s.last_duration_us = duration_us;
    if (duration_us > s.max_duration_us) s.max_duration_us = duration_us;
    if (status.ok()) {
      ++s.successes;
      s.last_ok = true;
      s.available = true;
      s.unavailable_reason.clear();
    } else if (status.unavailable) {
      // The host has no such data: said once, in health and the log, and
      // neither a failure nor a reason for "degraded".
      if (s.available || s.unavailable_reason != status.error) {
        spdlog::info("collector {} unavailable: {}", s.name, status.error);
      }
      s.last_ok = false;
      s.available = false;
      s.unavailable_reason = std::move(status.error);
    } else {
      s.available = true;
      ++s.failures;
      // Log the first failure and every change of reason, not every tick.
      if (s.last_ok || s.last_error != status.error) {
        spdlog::warn("collector {} failed: {}", s.name, status.error);
      }
      s.last_ok = false;
      s.last_error = std::move(status.error);
      s.last_error_t_ms = wall_clock_ms();
    }
  }
}

void Sampler::tick() {
  const auto started = SteadyClock::now();
  collect();
  const auto now = SteadyClock::now();
  const double elapsed_s = std::chrono::duration<double>(now - previous_time_).count();
  registry_.begin_tick(history_.last_seq() + 1, values_);
  collectors_.derive_all(elapsed_s, [this](std::size_t index) -> SeriesWriter& { return registry_.writer(index); });
  const SchemaChange change = registry_.end_tick(collectors_);
  // History first learns of new and retired series, then stores the point.
  add_to_history(history_, change, registry_);
  for (const std::uint32_t id : change.retired) history_.retire_series(id);
  const std::int64_t t_ms = wall_clock_ms();
  const std::uint64_t seq = history_.append(t_ms, values_);
  if (metrics_ != nullptr) {
    metrics_->begin_tick();
    collectors_.expose_all([this](std::size_t index) -> MetricWriter& { return metrics_->writer(index); });
    metrics_->publish(t_ms);
  }
  collectors_.advance_all();
  previous_time_ = now;
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.ticks;
    stats_.last_tick_t_ms = t_ms;
    stats_.last_progress = now;
    stats_.last_tick_duration_us = micros(SteadyClock::now() - started);
  }
  if (on_point_) {
    SampledPoint point{.seq = seq, .t_ms = t_ms, .values = values_, .change = nullptr, .schema = nullptr};
    if (!change.empty()) {
      point.change = &change;
      point.schema = registry_.schema();
    }
    on_point_(point);
  }
}

void Sampler::start() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = false;
    thread_finished_ = false;
  }
  {
    std::lock_guard lock(stats_mutex_);
    stats_.running = true;
    stats_.last_progress = SteadyClock::now();
  }
  thread_ = std::thread([this] {
    try {
      run();
    } catch (const std::exception& e) {  // exceptions never escape a thread
      spdlog::error("sampler thread failed: {}", e.what());
    }
    {
      std::lock_guard lock(wake_mutex_);
      thread_finished_ = true;
    }
    wake_.notify_all();
  });
}

bool Sampler::stop(SteadyClock::duration timeout) {
  {
    std::unique_lock lock(wake_mutex_);
    stopping_ = true;
    wake_.notify_all();
    if (!thread_.joinable()) return true;
    if (!wake_.wait_for(lock, timeout, [this] { return thread_finished_; })) return false;
  }
  join();
  return true;
}

void Sampler::join() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(stats_mutex_);
  stats_.running = false;
}

void Sampler::run() {
  if (!primed_) prime();
  auto deadline = SteadyClock::now() + interval_;
  for (;;) {
    {
      std::unique_lock lock(wake_mutex_);
      if (wake_.wait_until(lock, deadline, [this] { return stopping_; })) return;
    }
    try {
      tick();
    } catch (const std::exception& e) {  // exceptions never escape a thread (STYLE rule 6)
      spdlog::error("sampler tick failed: {}", e.what());
    }
    const NextTick next = next_tick(deadline, SteadyClock::now(), interval_);
    if (next.missed > 0) {
      std::lock_guard lock(stats_mutex_);
      stats_.missed_ticks += next.missed;
    }
    deadline = next.deadline;
  }
}

SamplerStats Sampler::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

}  // namespace hostpulse
