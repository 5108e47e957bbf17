#include "agent/pipeline/schema.hpp"

#include <algorithm>

namespace hostpulse {
namespace {

constexpr std::string_view kCpuDescriptions[kCpuSeriesPerCore] = {
    "CPU time not idle and not waiting for I/O (100 - idle - iowait)",
    "CPU time in user mode (includes guest)",
    "CPU time in user mode at low priority (includes guest_nice)",
    "CPU time in the kernel",
    "CPU time idle",
    "CPU time idle while I/O was outstanding",
    "CPU time servicing hardware interrupts",
    "CPU time servicing software interrupts",
    "CPU time stolen by the hypervisor",
    "CPU time running guests",
    "CPU time running low-priority guests"};

}  // namespace

std::uint32_t Schema::add(std::string name, std::string_view unit, std::string_view kind,
                          std::string_view description) {
  const auto id = static_cast<std::uint32_t>(series_.size());
  series_.push_back(SeriesInfo{id, std::move(name), unit, kind, description});
  return id;
}

Schema Schema::canonical(std::span<const std::uint32_t> cpu_ids) {
  Schema schema;
  schema.cpu_ids_.assign(cpu_ids.begin(), cpu_ids.end());
  std::sort(schema.cpu_ids_.begin(), schema.cpu_ids_.end());
  schema.cpu_ids_.erase(std::unique(schema.cpu_ids_.begin(), schema.cpu_ids_.end()),
                        schema.cpu_ids_.end());
  Layout& l = schema.layout_;

  l.cpu_total = static_cast<std::uint32_t>(schema.series_.size());
  for (std::size_t i = 0; i < kCpuSeriesPerCore; ++i) {
    schema.add("cpu." + std::string(kCpuSeriesSuffixes[i]), "percent", "gauge", kCpuDescriptions[i]);
  }
  l.memory_total = schema.add("mem.total_bytes", "bytes", "gauge", "Physical memory");
  l.memory_used = schema.add("mem.used_bytes", "bytes", "gauge", "Memory in use (total - available)");
  l.memory_available = schema.add("mem.available_bytes", "bytes", "gauge", "Memory available for new work without swapping");
  l.memory_free = schema.add("mem.free_bytes", "bytes", "gauge", "Memory not used at all");
  l.memory_cached = schema.add("mem.cached_bytes", "bytes", "gauge", "Page cache");
  l.memory_buffers = schema.add("mem.buffers_bytes", "bytes", "gauge", "Block device buffers");
  l.memory_shared = schema.add("mem.shared_bytes", "bytes", "gauge", "Shared memory (tmpfs, shm)");
  l.memory_slab_reclaimable = schema.add("mem.slab_reclaimable_bytes", "bytes", "gauge", "Kernel slab memory that can be reclaimed");
  l.memory_dirty = schema.add("mem.dirty_bytes", "bytes", "gauge", "Memory waiting to be written back to disk");
  l.memory_used_percent = schema.add("mem.used_pct", "percent", "gauge", "Memory in use, share of total");
  l.memory_available_percent = schema.add("mem.available_pct", "percent", "gauge", "Memory available, share of total");
  l.swap_total = schema.add("swap.total_bytes", "bytes", "gauge", "Swap space");
  l.swap_used = schema.add("swap.used_bytes", "bytes", "gauge", "Swap space in use");
  l.swap_free = schema.add("swap.free_bytes", "bytes", "gauge", "Swap space free");
  l.swap_used_percent = schema.add("swap.used_pct", "percent", "gauge", "Swap in use, share of swap space (0 without swap)");
  l.load_1m = schema.add("load.1m", "load", "gauge", "Load average over 1 minute");
  l.load_5m = schema.add("load.5m", "load", "gauge", "Load average over 5 minutes");
  l.load_15m = schema.add("load.15m", "load", "gauge", "Load average over 15 minutes");
  l.load_1m_per_cpu = schema.add("load.1m_per_cpu", "load", "gauge", "1-minute load divided by the CPUs online");
  l.load_5m_per_cpu = schema.add("load.5m_per_cpu", "load", "gauge", "5-minute load divided by the CPUs online");
  l.load_15m_per_cpu = schema.add("load.15m_per_cpu", "load", "gauge", "15-minute load divided by the CPUs online");
  l.procs_running = schema.add("procs.running", "count", "gauge", "Runnable tasks");
  l.procs_blocked = schema.add("procs.blocked", "count", "gauge", "Tasks blocked on I/O");
  l.procs_total = schema.add("procs.total", "count", "gauge", "Tasks in existence");
  l.context_switches = schema.add("system.context_switches_per_s", "per_second", "rate", "Context switches per second");
  l.forks = schema.add("system.forks_per_s", "per_second", "rate", "Processes created per second");
  l.uptime = schema.add("system.uptime_s", "seconds", "gauge", "Time since boot");

  l.cpu_per_core = static_cast<std::uint32_t>(schema.series_.size());
  for (std::uint32_t cpu : schema.cpu_ids_) {
    const std::string prefix = "cpu." + std::to_string(cpu) + ".";
    for (std::size_t i = 0; i < kCpuSeriesPerCore; ++i) {
      schema.add(prefix + std::string(kCpuSeriesSuffixes[i]), "percent", "gauge", kCpuDescriptions[i]);
    }
  }
  return schema;
}

std::optional<std::uint32_t> Schema::find(std::string_view name) const {
  for (const SeriesInfo& info : series_) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

}  // namespace hostpulse
