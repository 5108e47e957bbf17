#pragma once

// The schema the agent builds for a host with these CPUs online, made the way
// the agent makes it (the platform's sources through the series registry),
// for tests that need a realistic schema without reading a procfs.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"

namespace hostpulse::testing_support {

inline SchemaSnapshot platform_schema(std::span<const std::uint32_t> cpu_ids) {
  const std::span<const SourceDefinition> sources = core_sources();
  SeriesRegistry registry(sources);
  std::vector<double> values;
  registry.begin_tick(1, values);
  for (std::size_t index = 0; index < sources.size(); ++index) {
    if (sources[index].name != "proc_stat") continue;
    for (const std::uint32_t cpu : cpu_ids) registry.writer(index).entity("cpu", std::to_string(cpu));
  }
  const std::unique_ptr<bool[]> read_ok = std::make_unique<bool[]>(sources.size());
  std::fill_n(read_ok.get(), sources.size(), true);
  registry.end_tick(std::span<const bool>(read_ok.get(), sources.size()));
  return registry.schema();
}

inline SchemaSnapshot platform_schema(std::initializer_list<std::uint32_t> cpu_ids) {
  const std::vector<std::uint32_t> ids(cpu_ids);
  return platform_schema(std::span<const std::uint32_t>(ids));
}

}  // namespace hostpulse::testing_support
