#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The /proc/meminfo fields hostpulse uses, converted from kB to bytes.
struct MemInfo {
  std::uint64_t total_bytes = 0;             // MemTotal
  std::uint64_t free_bytes = 0;              // MemFree
  std::uint64_t available_bytes = 0;         // MemAvailable (estimated on kernels < 3.14)
  std::uint64_t buffers_bytes = 0;           // Buffers
  std::uint64_t cached_bytes = 0;            // Cached
  std::uint64_t shared_bytes = 0;            // Shmem
  std::uint64_t slab_reclaimable_bytes = 0;  // SReclaimable
  std::uint64_t swap_total_bytes = 0;        // SwapTotal
  std::uint64_t swap_free_bytes = 0;         // SwapFree
  std::uint64_t dirty_bytes = 0;             // Dirty
  // True when the kernel has no MemAvailable line and available_bytes is
  // free + buffers + cached + slab reclaimable (clamped to total).
  bool available_estimated = false;
};

// Parses the text of /proc/meminfo. MemTotal and MemFree are required; other
// missing fields are 0; unknown fields are ignored. Values larger than fit in
// 64-bit bytes are an error, as are malformed lines for the fields we read.
// Text not ending in '\n' is reported as truncated (see parse_proc_stat).
Status parse_proc_meminfo(std::string_view text, MemInfo& out);

// The source: memory and swap in bytes and as shares of the total.
void derive_proc_meminfo(const MemInfo* previous, const MemInfo& current, const DeriveContext& context,
                         SeriesWriter& out);
// node_exporter's node_memory_<field>_bytes for the fields read (MemAvailable
// only when the kernel has it).
void expose_proc_meminfo(const MemInfo& current, MetricWriter& out);
SourceDefinition proc_meminfo_source();

}  // namespace hostpulse
