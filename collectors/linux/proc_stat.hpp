#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The CPU time states of /proc/stat, in the kernel's column order.
// Note: the kernel already includes guest in user and guest_nice in nice.
enum class CpuState : std::uint8_t {
  user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice
};
inline constexpr std::size_t kCpuStateCount = 10;
inline constexpr std::array<std::string_view, kCpuStateCount> kCpuStateNames = {
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"};

// Ids above this are rejected as garbage (Linux's NR_CPUS tops out at 8192),
// so a corrupt file cannot make us allocate without bound.
inline constexpr std::uint32_t kMaxCpuId = 8191;

struct CpuTimes {
  // Cumulative USER_HZ ticks per state, indexed by CpuState. Columns an older
  // kernel does not report stay 0.
  std::array<std::uint64_t, kCpuStateCount> jiffies{};
  // How many columns the kernel reported (4 on 2.4, 7 on 2.6.0, 10 today),
  // capped at kCpuStateCount: columns a newer kernel adds are ignored.
  std::uint8_t columns = 0;

  [[nodiscard]] std::uint64_t operator[](CpuState s) const { return jiffies[static_cast<std::size_t>(s)]; }
};

struct CpuLine {
  std::uint32_t cpu = 0;  // the N of "cpuN"
  CpuTimes times;
};

struct ProcStat {
  CpuTimes total;               // the aggregate "cpu" line
  std::vector<CpuLine> cpus;    // online CPUs only, in file order; offline CPUs are absent
  std::uint64_t context_switches = 0;  // "ctxt"
  std::uint64_t processes_forked = 0;  // "processes"
  std::uint32_t procs_running = 0;     // "procs_running"
  std::uint32_t procs_blocked = 0;     // "procs_blocked"
  std::uint64_t boot_time_s = 0;       // "btime", seconds since the epoch
};

// Parses the text of /proc/stat into out, reusing out.cpus' capacity (no
// allocation once warmed up). Requires the aggregate "cpu" line with at least
// 4 columns; lines it does not know (intr, softirq, future ones) are skipped.
// Text must end with '\n', as procfs always does: without it the last number
// may have been cut short, so it is reported as truncated.
// On failure out is unspecified and the status names the line.
Status parse_proc_stat(std::string_view text, ProcStat& out);

// The source: CPU time shares (total and one set per online CPU, labelled
// cpu="N"), runnable and blocked tasks, context switches and forks per second.
// CPU percentages are shares of the jiffies that passed between the reads, so
// they sum to 100 over user..steal (guest and guest_nice are already inside
// user and nice). busy = 100 - idle - iowait. A single column that steps
// backwards (Linux's per-CPU iowait can) counts as zero rather than turning
// the whole CPU into a reset; all columns going backwards is a reset (NaN).
void derive_proc_stat(const ProcStat* previous, const ProcStat& current, const DeriveContext& context,
                      SeriesWriter& out);
// node_exporter's families from the current read: node_cpu_seconds_total
// {cpu,mode} (seconds, USER_HZ = 100), node_cpu_guest_seconds_total, boot
// time, context switches, forks, running and blocked processes.
void expose_proc_stat(const ProcStat& current, MetricWriter& out);
SourceDefinition proc_stat_source();

}  // namespace hostpulse
