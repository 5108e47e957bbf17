#pragma once

// A MetricWriter that records what a source's expose writes, by sample name
// and label pairs, so a test compares exact samples without the pipeline's
// metrics store. Refuses (and counts) what the store would refuse: a spec
// index out of range or a label count that does not match the spec.

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/source.hpp"

namespace hostpulse::testing_support {

struct RecordedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // (name, value) in the spec's order
  double value = 0;

  bool operator==(const RecordedSample&) const = default;
};

inline void PrintTo(const RecordedSample& sample, std::ostream* stream) {
  *stream << sample.name << '{';
  for (std::size_t i = 0; i < sample.labels.size(); ++i) {
    *stream << (i > 0 ? "," : "") << sample.labels[i].first << "=\"" << sample.labels[i].second << '"';
  }
  *stream << "} " << sample.value;
}

class RecordingMetricWriter final : public MetricWriter {
 public:
  explicit RecordingMetricWriter(std::span<const MetricSpec> specs) : specs_(specs) {}

  void sample(std::size_t spec, std::span<const std::string_view> label_values, double value) override {
    if (spec >= specs_.size() || label_values.size() != specs_[spec].label_count()) {
      ++refused;
      return;
    }
    RecordedSample recorded{.name = std::string(specs_[spec].name), .labels = {}, .value = value};
    for (std::size_t i = 0; i < label_values.size(); ++i) {
      recorded.labels.emplace_back(std::string(specs_[spec].labels[i]), std::string(label_values[i]));
    }
    samples.push_back(std::move(recorded));
  }
  using MetricWriter::sample;

  // The samples of one family (by sample name), in the order written.
  [[nodiscard]] std::vector<RecordedSample> named(std::string_view name) const {
    std::vector<RecordedSample> found;
    for (const RecordedSample& recorded : samples) {
      if (recorded.name == name) found.push_back(recorded);
    }
    return found;
  }

  // The value of the one sample of that name and label values (in the spec's
  // label order); empty when there is none. Two such samples are a test failure
  // for the caller to notice through count().
  [[nodiscard]] std::optional<double> value(std::string_view name,
                                            std::initializer_list<std::string_view> label_values = {}) const {
    for (const RecordedSample& recorded : samples) {
      if (recorded.name != name || recorded.labels.size() != label_values.size()) continue;
      bool same = true;
      std::size_t i = 0;
      for (const std::string_view label_value : label_values) same = same && recorded.labels[i++].second == label_value;
      if (same) return recorded.value;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::size_t count(std::string_view name) const { return named(name).size(); }

  std::vector<RecordedSample> samples;
  std::size_t refused = 0;

 private:
  std::span<const MetricSpec> specs_;
};

// A sample as a test writes it: RecordedSample{"node_load1", {}, 0.5}.
inline RecordedSample metric_sample(std::string name, std::vector<std::pair<std::string, std::string>> labels,
                                    double value) {
  return {.name = std::move(name), .labels = std::move(labels), .value = value};
}

}  // namespace hostpulse::testing_support
