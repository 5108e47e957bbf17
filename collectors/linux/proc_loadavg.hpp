#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/loadavg: "0.20 0.18 0.12 1/80 11206". Linux recomputes the averages
// only every 5 s, so sampling faster shows steps, not noise.
struct LoadAvg {
  double load_1m = 0;
  double load_5m = 0;
  double load_15m = 0;
  std::uint32_t tasks_runnable = 0;
  std::uint32_t tasks_total = 0;
  std::uint32_t last_pid = 0;
};

// Exactly one line, ending in '\n' (else reported as truncated), all six
// fields present: every kernel since 2.6 prints the last pid.
Status parse_proc_loadavg(std::string_view text, LoadAvg& out);

// The source: load averages, also per CPU online (so rules work on any
// size of host), and the number of tasks.
void derive_proc_loadavg(const LoadAvg* previous, const LoadAvg& current, const DeriveContext& context,
                         SeriesWriter& out);
// node_exporter's node_load1, node_load5 and node_load15.
void expose_proc_loadavg(const LoadAvg& current, MetricWriter& out);
SourceDefinition proc_loadavg_source();

}  // namespace hostpulse
