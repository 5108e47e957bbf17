#include "agent/pipeline/derive.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace hostpulse {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// Percentages and rates are kept to 0.01: a 1 s tick on one CPU sees only
// ~100 jiffies, so more digits would be noise, and shorter numbers make
// smaller frames.
double hundredths(double value) { return std::isfinite(value) ? std::round(value * 100.0) / 100.0 : value; }

// Columns user..steal partition the CPU's time; guest columns are subsets.
constexpr std::size_t kPartitionColumns = 8;

std::uint64_t partition_sum(const CpuTimes& times) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kPartitionColumns; ++i) sum += times.jiffies[i];
  return sum;
}

void write_no_cpu(std::span<double> out, std::size_t first) {
  for (std::size_t i = 0; i < kCpuSeriesPerCore; ++i) out[first + i] = kNoValue;
}

void derive_cpu(const CpuTimes& previous, const CpuTimes& current, std::span<double> out,
                std::size_t first) {
  if (partition_sum(current) < partition_sum(previous)) {  // counters reset (e.g. CPU replaced)
    write_no_cpu(out, first);
    return;
  }
  std::array<double, kCpuStateCount> delta{};
  double total = 0;
  for (std::size_t i = 0; i < kCpuStateCount; ++i) {
    const std::uint64_t before = previous.jiffies[i];
    const std::uint64_t after = current.jiffies[i];
    delta[i] = after > before ? static_cast<double>(after - before) : 0.0;
    if (i < kPartitionColumns) total += delta[i];
  }
  if (total <= 0) {
    write_no_cpu(out, first);
    return;
  }
  for (std::size_t i = 0; i < kCpuStateCount; ++i) {
    out[first + 1 + i] = hundredths(std::min(100.0, 100.0 * delta[i] / total));
  }
  const double idle = 100.0 * delta[static_cast<std::size_t>(CpuState::idle)] / total;
  const double iowait = 100.0 * delta[static_cast<std::size_t>(CpuState::iowait)] / total;
  out[first] = hundredths(std::clamp(100.0 - idle - iowait, 0.0, 100.0));
}

const CpuLine* find_cpu(const std::vector<CpuLine>& cpus, std::uint32_t id, std::size_t hint) {
  // The kernel lists CPUs in ascending order, so the hint almost always hits.
  if (hint < cpus.size() && cpus[hint].cpu == id) return &cpus[hint];
  for (const CpuLine& line : cpus) {
    if (line.cpu == id) return &line;
  }
  return nullptr;
}

double rate(std::uint64_t before, std::uint64_t after, double elapsed_s) {
  if (after < before || !(elapsed_s > 0)) return kNoValue;
  return hundredths(static_cast<double>(after - before) / elapsed_s);
}

double bytes(std::uint64_t value) { return static_cast<double>(value); }


}  // namespace

void derive(const Schema& schema, const RawSample& previous, const RawSample& current,
            double elapsed_s, std::span<double> out) {
  assert(out.size() == schema.size());
  std::fill(out.begin(), out.end(), kNoValue);
  const Schema::Layout& l = schema.layout();

  if (previous.stat_ok && current.stat_ok) {
    derive_cpu(previous.stat.total, current.stat.total, out, l.cpu_total);
    const auto cpu_ids = schema.cpu_ids();
    for (std::size_t i = 0; i < cpu_ids.size(); ++i) {
      const CpuLine* before = find_cpu(previous.stat.cpus, cpu_ids[i], i);
      const CpuLine* after = find_cpu(current.stat.cpus, cpu_ids[i], i);
      if (before != nullptr && after != nullptr) {
        derive_cpu(before->times, after->times, out, l.cpu_per_core + i * kCpuSeriesPerCore);
      }
    }
    out[l.context_switches] = rate(previous.stat.context_switches, current.stat.context_switches, elapsed_s);
    out[l.forks] = rate(previous.stat.processes_forked, current.stat.processes_forked, elapsed_s);
  }
  if (current.stat_ok) {
    out[l.procs_running] = current.stat.procs_running;
    out[l.procs_blocked] = current.stat.procs_blocked;
  }
  if (current.memory_ok) {
    const MemInfo& m = current.memory;
    out[l.memory_total] = bytes(m.total_bytes);
    out[l.memory_available] = bytes(m.available_bytes);
    out[l.memory_used] = bytes(m.total_bytes > m.available_bytes ? m.total_bytes - m.available_bytes : 0);
    out[l.memory_free] = bytes(m.free_bytes);
    out[l.memory_cached] = bytes(m.cached_bytes);
    out[l.memory_buffers] = bytes(m.buffers_bytes);
    out[l.memory_shared] = bytes(m.shared_bytes);
    out[l.memory_slab_reclaimable] = bytes(m.slab_reclaimable_bytes);
    out[l.memory_dirty] = bytes(m.dirty_bytes);
    out[l.swap_total] = bytes(m.swap_total_bytes);
    out[l.swap_free] = bytes(m.swap_free_bytes);
    out[l.swap_used] = bytes(m.swap_total_bytes > m.swap_free_bytes ? m.swap_total_bytes - m.swap_free_bytes : 0);
    if (m.total_bytes > 0) {
      out[l.memory_used_percent] = hundredths(100.0 * out[l.memory_used] / bytes(m.total_bytes));
      out[l.memory_available_percent] =
          hundredths(std::min(100.0, 100.0 * bytes(m.available_bytes) / bytes(m.total_bytes)));
    }
    // No swap configured is "none in use", not "no data": rules on it stay quiet.
    out[l.swap_used_percent] = m.swap_total_bytes > 0 ? hundredths(100.0 * out[l.swap_used] / bytes(m.swap_total_bytes)) : 0.0;
  }
  if (current.load_ok) {
    out[l.load_1m] = current.load.load_1m;
    out[l.load_5m] = current.load.load_5m;
    out[l.load_15m] = current.load.load_15m;
    out[l.procs_total] = current.load.tasks_total;
    // Per CPU online now (from this tick's /proc/stat), so rules work on any size of host.
    const std::size_t cpus = current.stat_ok ? current.stat.cpus.size() : 0;
    if (cpus > 0) {
      const double n = static_cast<double>(cpus);
      out[l.load_1m_per_cpu] = hundredths(current.load.load_1m / n);
      out[l.load_5m_per_cpu] = hundredths(current.load.load_5m / n);
      out[l.load_15m_per_cpu] = hundredths(current.load.load_15m / n);
    }
  }
  if (current.uptime_ok) out[l.uptime] = hundredths(current.uptime.uptime_s);
}

}  // namespace hostpulse
