#pragma once

// A SeriesWriter that records what a source's derive writes, by the series
// name it would get (the template with the entity's key in its placeholder,
// unescaped): the way to test a source without the pipeline.

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector_table.hpp"
#include "collectors/source.hpp"

namespace hostpulse::testing_support {

class RecordingSeriesWriter final : public SeriesWriter {
 public:
  explicit RecordingSeriesWriter(std::span<const SeriesSpec> specs) : specs_(specs) {}

  void set(std::size_t spec, double value) override {
    if (spec < specs_.size()) values[std::string(specs_[spec].name)] = value;
  }
  EntityHandle entity(std::string_view label, std::string_view key) override {
    entities.push_back({std::string(label), std::string(key)});
    return EntityHandle{static_cast<std::uint32_t>(entities.size() - 1)};
  }
  void set(EntityHandle entity, std::size_t spec, double value) override {
    if (!entity.valid() || entity.index >= entities.size() || spec >= specs_.size()) return;
    std::string name(specs_[spec].name);
    const std::string placeholder = "{" + entities[entity.index].first + "}";
    if (const auto at = name.find(placeholder); at != std::string::npos) {
      name.replace(at, placeholder.size(), entities[entity.index].second);
    }
    values[name] = value;
  }

  std::map<std::string, double> values;                       // by name
  std::vector<std::pair<std::string, std::string>> entities;  // (label, key) as seen

 private:
  std::span<const SeriesSpec> specs_;
};

// Derives every source of `collectors` into one recorder per source, merged.
inline std::map<std::string, double> derive_to_map(const CollectorSet& collectors, double elapsed_s,
                                                   std::vector<std::pair<std::string, std::string>>* entities = nullptr) {
  std::vector<RecordingSeriesWriter> writers;
  writers.reserve(collectors.size());
  for (std::size_t i = 0; i < collectors.size(); ++i) writers.emplace_back(collectors.definition(i).series);
  collectors.derive_all(elapsed_s, [&writers](std::size_t index) -> SeriesWriter& { return writers[index]; });
  std::map<std::string, double> merged;
  for (const RecordingSeriesWriter& writer : writers) {
    merged.insert(writer.values.begin(), writer.values.end());
    if (entities != nullptr) entities->insert(entities->end(), writer.entities.begin(), writer.entities.end());
  }
  return merged;
}

}  // namespace hostpulse::testing_support
