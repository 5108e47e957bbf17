#include "agent/pipeline/metrics_store.hpp"

#include <utility>

namespace hostpulse {

std::string_view MetricSample::label(std::size_t index) const {
  std::string_view rest = labels;
  for (std::size_t i = 0; i < index; ++i) {
    const std::size_t end = rest.find('\0');
    if (end == std::string_view::npos) return {};
    rest.remove_prefix(end + 1);
  }
  return rest.substr(0, rest.find('\0'));
}

MetricsStore::MetricsStore(std::span<const SourceDefinition> sources) : sources_(sources) {
  writers_.reserve(sources.size());
  for (std::size_t index = 0; index < sources.size(); ++index) writers_.emplace_back(*this, index);
  building_.sources = sources;
  building_.samples.resize(sources.size());
  published_.sources = sources;
  published_.samples.resize(sources.size());
}

void MetricsStore::begin_tick() {
  for (Writer& writer : writers_) writer.count = 0;
}

MetricWriter& MetricsStore::writer(std::size_t source) { return writers_.at(source); }

namespace {

// Whether the '\0'-joined stored labels equal the values given.
bool same_labels(std::string_view stored, std::span<const std::string_view> values) {
  std::size_t position = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      if (position >= stored.size() || stored[position] != '\0') return false;
      ++position;
    }
    if (stored.compare(position, values[i].size(), values[i]) != 0) return false;
    position += values[i].size();
  }
  return position == stored.size();
}

}  // namespace

void MetricsStore::Writer::sample(std::size_t spec, std::span<const std::string_view> label_values, double value) {
  const std::span<const MetricSpec> specs = store_.sources_[source_].metrics;
  std::vector<MetricSample>& samples = store_.building_.samples[source_];
  if (spec >= specs.size() || label_values.size() != specs[spec].label_count() || count >= kMaxSamplesPerSource) {
    ++store_.refused_;
    return;
  }
  if (count == samples.size()) samples.emplace_back();
  MetricSample& slot = samples[count++];
  slot.value = value;
  if (slot.spec == spec && same_labels(slot.labels, label_values)) return;
  slot.spec = static_cast<std::uint32_t>(spec);
  slot.labels.clear();
  for (std::size_t i = 0; i < label_values.size(); ++i) {
    if (i > 0) slot.labels.push_back('\0');
    slot.labels.append(label_values[i]);
  }
}

void MetricsStore::publish(std::int64_t t_ms) {
  for (std::size_t index = 0; index < writers_.size(); ++index) {
    // resize() to a smaller size only destroys the tail: nothing allocates.
    building_.samples[index].resize(writers_[index].count);
  }
  building_.t_ms = t_ms;
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    ++skipped_;  // reported with the next publish
    return;
  }
  building_.ticks = published_.ticks + 1;
  std::swap(building_.samples, published_.samples);
  published_.t_ms = building_.t_ms;
  published_.ticks = building_.ticks;
  ++stats_.published;
  stats_.samples_refused = refused_;
  stats_.publish_skipped = skipped_;
}

MetricsStoreStats MetricsStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace hostpulse
