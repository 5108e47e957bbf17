#include "collectors/linux/proc_meminfo.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

struct UsedField {
  std::string_view key;
  std::uint64_t MemInfo::*bytes;
};

constexpr std::size_t kTotalField = 0;
constexpr std::size_t kFreeField = 1;
constexpr std::size_t kAvailableField = 2;
// Ordered as the kernel prints them, so the common case matches early.
constexpr std::array<UsedField, 10> kFields = {{
    {"MemTotal", &MemInfo::total_bytes},
    {"MemFree", &MemInfo::free_bytes},
    {"MemAvailable", &MemInfo::available_bytes},
    {"Buffers", &MemInfo::buffers_bytes},
    {"Cached", &MemInfo::cached_bytes},
    {"SwapTotal", &MemInfo::swap_total_bytes},
    {"SwapFree", &MemInfo::swap_free_bytes},
    {"Dirty", &MemInfo::dirty_bytes},
    {"Shmem", &MemInfo::shared_bytes},
    {"SReclaimable", &MemInfo::slab_reclaimable_bytes},
}};

constexpr std::uint64_t kBytesPerKibibyte = 1024;

std::string line_prefix(std::size_t line_number, std::string_view key) {
  return "meminfo line " + std::to_string(line_number) + ": " + std::string(key) + ": ";
}

// "   24684084 kB": every field we read is in kB (the kernel's kibibytes).
Status parse_kibibytes_as_bytes(std::string_view rest, std::string_view key, std::size_t line_number,
                                std::uint64_t& bytes) {
  const std::string_view value_token = next_field(rest);
  std::uint64_t kibibytes = 0;
  if (const NumberError error = procfs_text::parse_unsigned(value_token, kibibytes);
      error != NumberError::none) {
    return Status::failure(line_prefix(line_number, key) + procfs_text::describe(error, value_token));
  }
  const std::string_view unit = next_field(rest);
  if (unit != "kB") {
    return Status::failure(line_prefix(line_number, key) + "expected unit 'kB', got " +
                           (unit.empty() ? std::string("nothing") : quote(unit)));
  }
  if (const std::string_view extra = next_field(rest); !extra.empty()) {
    return Status::failure(line_prefix(line_number, key) + "unexpected " + quote(extra) + " after the unit");
  }
  if (kibibytes > std::numeric_limits<std::uint64_t>::max() / kBytesPerKibibyte) {
    return Status::failure(line_prefix(line_number, key) + std::to_string(kibibytes) +
                           " kB does not fit in 64-bit bytes");
  }
  bytes = kibibytes * kBytesPerKibibyte;
  return Status::success();
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t sum = a + b;
  return sum < a ? std::numeric_limits<std::uint64_t>::max() : sum;
}

}  // namespace

Status parse_proc_meminfo(std::string_view text, MemInfo& out) {
  if (Status complete = procfs_text::check_complete(text, "meminfo"); !complete.ok()) return complete;

  out = MemInfo{};
  // Line each field was found on, 0 if not yet: detects duplicates and
  // missing required fields without allocating.
  std::array<std::size_t, kFields.size()> found_on_line{};

  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a field line; nothing we read
    const std::string_view key = line.substr(0, colon);

    std::size_t field = 0;
    while (field < kFields.size() && kFields[field].key != key) ++field;
    if (field == kFields.size()) continue;  // a field we do not use, possibly malformed

    const std::size_t line_number = lines.line_number();
    if (found_on_line[field] != 0) {
      return Status::failure(line_prefix(line_number, key) + "appears twice (first on line " +
                             std::to_string(found_on_line[field]) + ")");
    }
    found_on_line[field] = line_number;
    if (Status status = parse_kibibytes_as_bytes(line.substr(colon + 1), key, line_number,
                                                 out.*kFields[field].bytes);
        !status.ok()) {
      return status;
    }
  }

  if (found_on_line[kTotalField] == 0) return Status::failure("meminfo: MemTotal missing");
  if (found_on_line[kFreeField] == 0) return Status::failure("meminfo: MemFree missing");

  // Kernels before 3.14 have no MemAvailable; this is the usual approximation
  // of memory that is free or quickly reclaimable.
  if (found_on_line[kAvailableField] == 0) {
    std::uint64_t estimate = saturating_add(out.free_bytes, out.buffers_bytes);
    estimate = saturating_add(estimate, out.cached_bytes);
    estimate = saturating_add(estimate, out.slab_reclaimable_bytes);
    out.available_bytes = estimate < out.total_bytes ? estimate : out.total_bytes;
    out.available_estimated = true;
  }
  return Status::success();
}

}  // namespace hostpulse

namespace hostpulse {
namespace {

using derive_math::bytes;
using derive_math::hundredths;

enum Spec : std::size_t {
  kTotal, kUsed, kAvailable, kFree, kCached, kBuffers, kShared, kSlabReclaimable, kDirty,
  kUsedPercent, kAvailablePercent, kSwapTotal, kSwapUsed, kSwapFree, kSwapUsedPercent,
};

constexpr SeriesSpec kSeries[] = {
    {"mem.total_bytes", "bytes", SeriesKind::gauge, "Physical memory", 0},
    {"mem.used_bytes", "bytes", SeriesKind::gauge, "Memory in use (total - available)", 0},
    {"mem.available_bytes", "bytes", SeriesKind::gauge, "Memory available for new work without swapping", 0},
    {"mem.free_bytes", "bytes", SeriesKind::gauge, "Memory not used at all", 0},
    {"mem.cached_bytes", "bytes", SeriesKind::gauge, "Page cache", 0},
    {"mem.buffers_bytes", "bytes", SeriesKind::gauge, "Block device buffers", 0},
    {"mem.shared_bytes", "bytes", SeriesKind::gauge, "Shared memory (tmpfs, shm)", 0},
    {"mem.slab_reclaimable_bytes", "bytes", SeriesKind::gauge, "Kernel slab memory that can be reclaimed", 0},
    {"mem.dirty_bytes", "bytes", SeriesKind::gauge, "Memory waiting to be written back to disk", 0},
    {"mem.used_pct", "percent", SeriesKind::gauge, "Memory in use, share of total", 2},
    {"mem.available_pct", "percent", SeriesKind::gauge, "Memory available, share of total", 2},
    {"swap.total_bytes", "bytes", SeriesKind::gauge, "Swap space", 0},
    {"swap.used_bytes", "bytes", SeriesKind::gauge, "Swap space in use", 0},
    {"swap.free_bytes", "bytes", SeriesKind::gauge, "Swap space free", 0},
    {"swap.used_pct", "percent", SeriesKind::gauge, "Swap in use, share of swap space (0 without swap)", 2},
};
static_assert(std::size(kSeries) == kSwapUsedPercent + 1);

// node_exporter's meminfo collector: node_memory_<field>_bytes.
namespace metric {
enum : std::size_t { kTotal, kFree, kAvailable, kBuffers, kCached, kSwapTotal, kSwapFree, kDirty, kShmem, kSReclaimable };
}
constexpr MetricSpec kMetrics[] = {
    {"node_memory_MemTotal_bytes", MetricType::gauge, "Memory information field MemTotal_bytes.", {}},
    {"node_memory_MemFree_bytes", MetricType::gauge, "Memory information field MemFree_bytes.", {}},
    {"node_memory_MemAvailable_bytes", MetricType::gauge, "Memory information field MemAvailable_bytes.", {}},
    {"node_memory_Buffers_bytes", MetricType::gauge, "Memory information field Buffers_bytes.", {}},
    {"node_memory_Cached_bytes", MetricType::gauge, "Memory information field Cached_bytes.", {}},
    {"node_memory_SwapTotal_bytes", MetricType::gauge, "Memory information field SwapTotal_bytes.", {}},
    {"node_memory_SwapFree_bytes", MetricType::gauge, "Memory information field SwapFree_bytes.", {}},
    {"node_memory_Dirty_bytes", MetricType::gauge, "Memory information field Dirty_bytes.", {}},
    {"node_memory_Shmem_bytes", MetricType::gauge, "Memory information field Shmem_bytes.", {}},
    {"node_memory_SReclaimable_bytes", MetricType::gauge, "Memory information field SReclaimable_bytes.", {}},
};

constexpr SourceFunctions<MemInfo> kFunctions{&parse_proc_meminfo, &derive_proc_meminfo, nullptr, &expose_proc_meminfo};

}  // namespace

void derive_proc_meminfo(const MemInfo* /*previous*/, const MemInfo& m, const DeriveContext& /*context*/,
                         SeriesWriter& out) {
  const std::uint64_t used = m.total_bytes > m.available_bytes ? m.total_bytes - m.available_bytes : 0;
  const std::uint64_t swap_used = m.swap_total_bytes > m.swap_free_bytes ? m.swap_total_bytes - m.swap_free_bytes : 0;
  out.set(kTotal, bytes(m.total_bytes));
  out.set(kAvailable, bytes(m.available_bytes));
  out.set(kUsed, bytes(used));
  out.set(kFree, bytes(m.free_bytes));
  out.set(kCached, bytes(m.cached_bytes));
  out.set(kBuffers, bytes(m.buffers_bytes));
  out.set(kShared, bytes(m.shared_bytes));
  out.set(kSlabReclaimable, bytes(m.slab_reclaimable_bytes));
  out.set(kDirty, bytes(m.dirty_bytes));
  out.set(kSwapTotal, bytes(m.swap_total_bytes));
  out.set(kSwapFree, bytes(m.swap_free_bytes));
  out.set(kSwapUsed, bytes(swap_used));
  if (m.total_bytes > 0) {
    out.set(kUsedPercent, hundredths(100.0 * bytes(used) / bytes(m.total_bytes)));
    out.set(kAvailablePercent, hundredths(std::min(100.0, 100.0 * bytes(m.available_bytes) / bytes(m.total_bytes))));
  }
  // No swap configured is "none in use", not "no data": rules on it stay quiet.
  out.set(kSwapUsedPercent,
          m.swap_total_bytes > 0 ? hundredths(100.0 * bytes(swap_used) / bytes(m.swap_total_bytes)) : 0.0);
}

SourceDefinition proc_meminfo_source() {
  return {.name = "proc_meminfo", .procfs_path = "meminfo", .series = kSeries,
          .create = &create_source<MemInfo, kFunctions>, .required = true, .metrics = kMetrics};
}

void expose_proc_meminfo(const MemInfo& current, MetricWriter& out) {
  out.sample(metric::kTotal, bytes(current.total_bytes));
  out.sample(metric::kFree, bytes(current.free_bytes));
  // node_exporter exposes the kernel's fields only, never an estimate.
  if (!current.available_estimated) out.sample(metric::kAvailable, bytes(current.available_bytes));
  out.sample(metric::kBuffers, bytes(current.buffers_bytes));
  out.sample(metric::kCached, bytes(current.cached_bytes));
  out.sample(metric::kSwapTotal, bytes(current.swap_total_bytes));
  out.sample(metric::kSwapFree, bytes(current.swap_free_bytes));
  out.sample(metric::kDirty, bytes(current.dirty_bytes));
  out.sample(metric::kShmem, bytes(current.shared_bytes));
  out.sample(metric::kSReclaimable, bytes(current.slab_reclaimable_bytes));
}

}  // namespace hostpulse
