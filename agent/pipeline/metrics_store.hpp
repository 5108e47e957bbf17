#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector_table.hpp"

namespace hostpulse {

// One sample a source exposed: its spec (index into the source's metrics),
// its label values joined by '\0' (raw, escaped only when rendered) and the
// value.
struct MetricSample {
  std::uint32_t spec = 0;
  std::string labels;
  double value = 0;

  // The i-th label value of labels.
  [[nodiscard]] std::string_view label(std::size_t index) const;
};

// What a scrape renders: the samples of every source at the newest tick.
struct MetricsSnapshot {
  std::span<const SourceDefinition> sources;
  std::vector<std::vector<MetricSample>> samples;  // by source index
  std::int64_t t_ms = 0;                           // when they were read; 0: never
  std::uint64_t ticks = 0;                         // ticks published so far
};

struct MetricsStoreStats {
  std::uint64_t published = 0;
  // Ticks whose samples were not published because a scrape was rendering
  // the previous ones at that moment (the sampler never waits for a scrape).
  std::uint64_t publish_skipped = 0;
  std::uint64_t samples_refused = 0;  // bad label count or over the cap
};

// Keeps the Prometheus samples of the newest tick for /metrics, so a scrape
// never reads /proc: the sampler thread writes each source's samples after
// its derive, then publishes them; a scrape reads the published ones.
//
// Steady ticks allocate nothing: a source writes its samples in the same
// order each tick, so each one overwrites the sample at the same position
// (its label string keeps its capacity). Publishing swaps two buffers under
// a lock the sampler only tries: while a scrape is rendering, the sampler
// keeps its buffer and publishes on a later tick.
class MetricsStore {
 public:
  explicit MetricsStore(std::span<const SourceDefinition> sources);
  MetricsStore(const MetricsStore&) = delete;
  MetricsStore& operator=(const MetricsStore&) = delete;

  // Samples one source may write per tick: a hostile or huge host (a
  // thousand mounts with ten families each) must not grow the store without
  // bound; 100,000 is ten times the series cap.
  static constexpr std::size_t kMaxSamplesPerSource = 100'000;

  // Sampler thread: begin, one writer per source, then publish.
  void begin_tick();
  MetricWriter& writer(std::size_t source);
  void publish(std::int64_t t_ms);

  // Any thread: calls f(const MetricsSnapshot&) with the published samples,
  // holding them for the duration of the call.
  template <class F>
  void read(F&& f) const {
    std::lock_guard lock(mutex_);
    f(published_);
  }

  [[nodiscard]] MetricsStoreStats stats() const;

 private:
  class Writer final : public MetricWriter {
   public:
    Writer(MetricsStore& store, std::size_t source) : store_(store), source_(source) {}
    void sample(std::size_t spec, std::span<const std::string_view> label_values, double value) override;
    using MetricWriter::sample;
    std::size_t count = 0;  // written this tick

   private:
    MetricsStore& store_;
    std::size_t source_;
  };

  std::span<const SourceDefinition> sources_;
  std::vector<Writer> writers_;
  MetricsSnapshot building_;
  std::uint64_t refused_ = 0;  // sampler thread only; copied to stats_ when publishing
  std::uint64_t skipped_ = 0;

  mutable std::mutex mutex_;  // guards published_ and stats_
  MetricsSnapshot published_;
  MetricsStoreStats stats_;
};

}  // namespace hostpulse
