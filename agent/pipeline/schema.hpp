#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hostpulse {

// A series is one named number per tick. Its id is its index in the schema,
// stable for the life of the process; names are the canonical public ones the
// stream, REST API, alerts and dashboard all use.
struct SeriesInfo {
  std::uint32_t id = 0;
  std::string name;         // e.g. "cpu.3.busy_pct"
  std::string_view unit;    // "percent", "bytes", "load", "count", "per_second", "seconds"
  std::string_view kind;    // "gauge" (a level) or "rate" (derived from a counter)
  std::string_view description;
};

// The fixed order of the aggregate and per-core CPU series: busy first, then
// the kernel's states in /proc/stat column order.
inline constexpr std::size_t kCpuSeriesPerCore = 11;
inline constexpr std::string_view kCpuSeriesSuffixes[kCpuSeriesPerCore] = {
    "busy_pct", "user_pct", "nice_pct",  "system_pct", "idle_pct",      "iowait_pct",
    "irq_pct",  "softirq_pct", "steal_pct", "guest_pct", "guest_nice_pct"};

class Schema {
 public:
  // Builds the canonical series set for a host whose online CPUs at start-up
  // have these ids (ascending). CPUs that come online later are not added:
  // the schema, like history memory, is fixed at start-up.
  static Schema canonical(std::span<const std::uint32_t> cpu_ids);

  [[nodiscard]] std::size_t size() const { return series_.size(); }
  [[nodiscard]] const SeriesInfo& operator[](std::size_t id) const { return series_[id]; }
  [[nodiscard]] std::span<const SeriesInfo> series() const { return series_; }
  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name) const;

  [[nodiscard]] std::span<const std::uint32_t> cpu_ids() const { return cpu_ids_; }

  // Positions the derive step writes to.
  struct Layout {
    std::uint32_t cpu_total = 0;       // first of kCpuSeriesPerCore aggregate series
    std::uint32_t cpu_per_core = 0;    // first per-core series; core i at cpu_per_core + i*kCpuSeriesPerCore
    std::uint32_t memory_total = 0, memory_used = 0, memory_available = 0, memory_free = 0,
                  memory_cached = 0, memory_buffers = 0, memory_shared = 0,
                  memory_slab_reclaimable = 0, memory_dirty = 0;
    std::uint32_t memory_used_percent = 0, memory_available_percent = 0;
    std::uint32_t swap_total = 0, swap_used = 0, swap_free = 0, swap_used_percent = 0;
    std::uint32_t load_1m = 0, load_5m = 0, load_15m = 0;
    std::uint32_t load_1m_per_cpu = 0, load_5m_per_cpu = 0, load_15m_per_cpu = 0;
    std::uint32_t procs_running = 0, procs_blocked = 0, procs_total = 0;
    std::uint32_t context_switches = 0, forks = 0, uptime = 0;
  };
  [[nodiscard]] const Layout& layout() const { return layout_; }

 private:
  std::uint32_t add(std::string name, std::string_view unit, std::string_view kind,
                    std::string_view description);

  std::vector<SeriesInfo> series_;
  std::vector<std::uint32_t> cpu_ids_;
  Layout layout_;
};

}  // namespace hostpulse
