#include "collectors/collector_table.hpp"

#include <array>

namespace hostpulse {
namespace {

Status parse_stat_into(std::string_view text, RawSample& sample) {
  return parse_proc_stat(text, sample.stat);
}

Status parse_meminfo_into(std::string_view text, RawSample& sample) {
  return parse_proc_meminfo(text, sample.memory);
}

Status parse_loadavg_into(std::string_view text, RawSample& sample) {
  return parse_proc_loadavg(text, sample.load);
}

Status parse_uptime_into(std::string_view text, RawSample& sample) {
  return parse_proc_uptime(text, sample.uptime);
}

// Every Linux collector, in the order the sampler runs them. Adding a source
// means adding a line here (STYLE rule 1), not a static registrar.
constexpr std::array<CollectorDefinition, 4> kLinuxCollectors = {{
    {"proc_stat", "stat", &parse_stat_into, &RawSample::stat_ok},
    {"proc_meminfo", "meminfo", &parse_meminfo_into, &RawSample::memory_ok},
    {"proc_loadavg", "loadavg", &parse_loadavg_into, &RawSample::load_ok},
    {"proc_uptime", "uptime", &parse_uptime_into, &RawSample::uptime_ok},
}};

}  // namespace

std::span<const CollectorDefinition> platform_collectors() { return kLinuxCollectors; }

}  // namespace hostpulse
