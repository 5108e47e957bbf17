#pragma once

// Shared by the benchmarks: realistic consecutive reads built from the
// captured /proc fixtures, so the sources' derive and the encoders see numbers
// shaped like a real host's (percentages with two decimals, byte counts, rates).

#include <cstdint>
#include <string>
#include <vector>

#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"
#include "collectors/linux/proc_loadavg.hpp"
#include "collectors/linux/proc_meminfo.hpp"
#include "collectors/linux/proc_stat.hpp"
#include "collectors/linux/proc_uptime.hpp"

namespace hostpulse::bench {

// What the four Linux sources parse from one procfs, side by side, so a
// benchmark can make up the next second's reads.
struct HostReads {
  ProcStat stat;
  MemInfo memory;
  LoadAvg load;
  Uptime uptime;
};

// Parses every file of procfs_root (a fixture folder or /proc). Throws
// std::runtime_error naming the file when one fails.
HostReads load_reads(const std::string& procfs_root);

// A deterministic "one second later": every CPU accrues about 100 jiffies
// spread over its states, counters move, memory shifts a little. step varies
// the spread so successive points differ.
HostReads advance(const HostReads& previous, std::uint32_t step);

// The mirror image: reads "one second earlier" than current, so reads from a
// fixture can be the current side of a realistic derive.
HostReads previous_of(const HostReads& current, std::uint32_t step);

// The platform's series registry and the sources' derive functions, fed
// with HostReads instead of files: what the sampler does after reading.
class ReadsDeriver {
 public:
  ReadsDeriver();
  // One point from two reads (values indexed by series id, resized as needed).
  void derive(const HostReads& previous, const HostReads& current, double elapsed_s, std::vector<double>& values);
  [[nodiscard]] SchemaSnapshot schema() const { return registry_.schema(); }

 private:
  SeriesRegistry registry_;
  std::uint64_t seq_ = 0;
};

}  // namespace hostpulse::bench
