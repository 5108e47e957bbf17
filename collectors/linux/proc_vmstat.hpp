#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/vmstat: one "name value" pair per line, a couple of hundred of them
// (which ones depends on the kernel version and config). We keep seven; each
// has a flag, so a kernel without it (oom_kill before 4.13) gives no value
// rather than a zero.
struct VmStatCounter {
  bool present = false;
  std::uint64_t value = 0;
};

struct VmStat {
  VmStatCounter pages_in_kib;   // pgpgin: the kernel counts it in KiB, not pages
  VmStatCounter pages_out_kib;  // pgpgout
  VmStatCounter swap_ins;       // pswpin: pages
  VmStatCounter swap_outs;      // pswpout
  VmStatCounter faults{};       // pgfault: minor and major
  VmStatCounter major_faults;   // pgmajfault
  VmStatCounter oom_kills;      // oom_kill (4.13+)
};

// Unknown names are ignored, even malformed ones (nothing is read from
// them). A name we keep must have exactly one whole unsigned 64-bit value
// and appear once. Text without any of the seven names is not vmstat: an
// error. Must end with '\n'.
Status parse_proc_vmstat(std::string_view text, VmStat& out);

// The source: paging, swapping and major-fault rates and the OOM-kill count.
void derive_proc_vmstat(const VmStat* previous, const VmStat& current, const DeriveContext& context,
                        SeriesWriter& out);
// node_exporter's node_vmstat_<name> (untyped) for the counters kept, which
// are the ones its default field filter keeps.
void expose_proc_vmstat(const VmStat& current, MetricWriter& out);
SourceDefinition proc_vmstat_source();

}  // namespace hostpulse
