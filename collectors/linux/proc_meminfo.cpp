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

// The field table for node_exporter's families: the kernel's key, whether it
// is printed in kB, and the family, in the order fs/proc/meminfo.c prints
// them (so the next field is found at the hint, without a search).
struct KnownField {
  std::string_view key;
  bool kibibytes = true;  // printed with "kB" (else a count without a unit: HugePages_Total)
  MetricSpec metric;
};

constexpr std::array<KnownField, kMemInfoKnownFields> kKnownFields = {{
    {"MemTotal", true,
     {"node_memory_MemTotal_bytes", MetricType::gauge, "Memory information field MemTotal_bytes.", {}}},
    {"MemFree", true, {"node_memory_MemFree_bytes", MetricType::gauge, "Memory information field MemFree_bytes.", {}}},
    {"MemAvailable", true,
     {"node_memory_MemAvailable_bytes", MetricType::gauge, "Memory information field MemAvailable_bytes.", {}}},
    {"Buffers", true, {"node_memory_Buffers_bytes", MetricType::gauge, "Memory information field Buffers_bytes.", {}}},
    {"Cached", true, {"node_memory_Cached_bytes", MetricType::gauge, "Memory information field Cached_bytes.", {}}},
    {"SwapCached", true,
     {"node_memory_SwapCached_bytes", MetricType::gauge, "Memory information field SwapCached_bytes.", {}}},
    {"Active", true, {"node_memory_Active_bytes", MetricType::gauge, "Memory information field Active_bytes.", {}}},
    {"Inactive", true,
     {"node_memory_Inactive_bytes", MetricType::gauge, "Memory information field Inactive_bytes.", {}}},
    {"Active(anon)", true,
     {"node_memory_Active_anon_bytes", MetricType::gauge, "Memory information field Active_anon_bytes.", {}}},
    {"Inactive(anon)", true,
     {"node_memory_Inactive_anon_bytes", MetricType::gauge, "Memory information field Inactive_anon_bytes.", {}}},
    {"Active(file)", true,
     {"node_memory_Active_file_bytes", MetricType::gauge, "Memory information field Active_file_bytes.", {}}},
    {"Inactive(file)", true,
     {"node_memory_Inactive_file_bytes", MetricType::gauge, "Memory information field Inactive_file_bytes.", {}}},
    {"Unevictable", true,
     {"node_memory_Unevictable_bytes", MetricType::gauge, "Memory information field Unevictable_bytes.", {}}},
    {"Mlocked", true, {"node_memory_Mlocked_bytes", MetricType::gauge, "Memory information field Mlocked_bytes.", {}}},
    {"HighTotal", true,
     {"node_memory_HighTotal_bytes", MetricType::gauge, "Memory information field HighTotal_bytes.", {}}},
    {"HighFree", true,
     {"node_memory_HighFree_bytes", MetricType::gauge, "Memory information field HighFree_bytes.", {}}},
    {"LowTotal", true,
     {"node_memory_LowTotal_bytes", MetricType::gauge, "Memory information field LowTotal_bytes.", {}}},
    {"LowFree", true, {"node_memory_LowFree_bytes", MetricType::gauge, "Memory information field LowFree_bytes.", {}}},
    {"MmapCopy", true,
     {"node_memory_MmapCopy_bytes", MetricType::gauge, "Memory information field MmapCopy_bytes.", {}}},
    {"SwapTotal", true,
     {"node_memory_SwapTotal_bytes", MetricType::gauge, "Memory information field SwapTotal_bytes.", {}}},
    {"SwapFree", true,
     {"node_memory_SwapFree_bytes", MetricType::gauge, "Memory information field SwapFree_bytes.", {}}},
    {"Zswap", true, {"node_memory_Zswap_bytes", MetricType::gauge, "Memory information field Zswap_bytes.", {}}},
    {"Zswapped", true,
     {"node_memory_Zswapped_bytes", MetricType::gauge, "Memory information field Zswapped_bytes.", {}}},
    {"Dirty", true, {"node_memory_Dirty_bytes", MetricType::gauge, "Memory information field Dirty_bytes.", {}}},
    {"Writeback", true,
     {"node_memory_Writeback_bytes", MetricType::gauge, "Memory information field Writeback_bytes.", {}}},
    {"AnonPages", true,
     {"node_memory_AnonPages_bytes", MetricType::gauge, "Memory information field AnonPages_bytes.", {}}},
    {"Mapped", true, {"node_memory_Mapped_bytes", MetricType::gauge, "Memory information field Mapped_bytes.", {}}},
    {"Shmem", true, {"node_memory_Shmem_bytes", MetricType::gauge, "Memory information field Shmem_bytes.", {}}},
    {"KReclaimable", true,
     {"node_memory_KReclaimable_bytes", MetricType::gauge, "Memory information field KReclaimable_bytes.", {}}},
    {"Slab", true, {"node_memory_Slab_bytes", MetricType::gauge, "Memory information field Slab_bytes.", {}}},
    {"SReclaimable", true,
     {"node_memory_SReclaimable_bytes", MetricType::gauge, "Memory information field SReclaimable_bytes.", {}}},
    {"SUnreclaim", true,
     {"node_memory_SUnreclaim_bytes", MetricType::gauge, "Memory information field SUnreclaim_bytes.", {}}},
    {"KernelStack", true,
     {"node_memory_KernelStack_bytes", MetricType::gauge, "Memory information field KernelStack_bytes.", {}}},
    {"ShadowCallStack", true,
     {"node_memory_ShadowCallStack_bytes", MetricType::gauge, "Memory information field ShadowCallStack_bytes.", {}}},
    {"PageTables", true,
     {"node_memory_PageTables_bytes", MetricType::gauge, "Memory information field PageTables_bytes.", {}}},
    {"SecPageTables", true,
     {"node_memory_SecPageTables_bytes", MetricType::gauge, "Memory information field SecPageTables_bytes.", {}}},
    {"NFS_Unstable", true,
     {"node_memory_NFS_Unstable_bytes", MetricType::gauge, "Memory information field NFS_Unstable_bytes.", {}}},
    {"Bounce", true, {"node_memory_Bounce_bytes", MetricType::gauge, "Memory information field Bounce_bytes.", {}}},
    {"WritebackTmp", true,
     {"node_memory_WritebackTmp_bytes", MetricType::gauge, "Memory information field WritebackTmp_bytes.", {}}},
    {"CommitLimit", true,
     {"node_memory_CommitLimit_bytes", MetricType::gauge, "Memory information field CommitLimit_bytes.", {}}},
    {"Committed_AS", true,
     {"node_memory_Committed_AS_bytes", MetricType::gauge, "Memory information field Committed_AS_bytes.", {}}},
    {"VmallocTotal", true,
     {"node_memory_VmallocTotal_bytes", MetricType::gauge, "Memory information field VmallocTotal_bytes.", {}}},
    {"VmallocUsed", true,
     {"node_memory_VmallocUsed_bytes", MetricType::gauge, "Memory information field VmallocUsed_bytes.", {}}},
    {"VmallocChunk", true,
     {"node_memory_VmallocChunk_bytes", MetricType::gauge, "Memory information field VmallocChunk_bytes.", {}}},
    {"Percpu", true, {"node_memory_Percpu_bytes", MetricType::gauge, "Memory information field Percpu_bytes.", {}}},
    {"HardwareCorrupted", true,
     {"node_memory_HardwareCorrupted_bytes", MetricType::gauge, "Memory information field HardwareCorrupted_bytes.", {}}},
    {"AnonHugePages", true,
     {"node_memory_AnonHugePages_bytes", MetricType::gauge, "Memory information field AnonHugePages_bytes.", {}}},
    {"ShmemHugePages", true,
     {"node_memory_ShmemHugePages_bytes", MetricType::gauge, "Memory information field ShmemHugePages_bytes.", {}}},
    {"ShmemPmdMapped", true,
     {"node_memory_ShmemPmdMapped_bytes", MetricType::gauge, "Memory information field ShmemPmdMapped_bytes.", {}}},
    {"FileHugePages", true,
     {"node_memory_FileHugePages_bytes", MetricType::gauge, "Memory information field FileHugePages_bytes.", {}}},
    {"FilePmdMapped", true,
     {"node_memory_FilePmdMapped_bytes", MetricType::gauge, "Memory information field FilePmdMapped_bytes.", {}}},
    {"CmaTotal", true,
     {"node_memory_CmaTotal_bytes", MetricType::gauge, "Memory information field CmaTotal_bytes.", {}}},
    {"CmaFree", true, {"node_memory_CmaFree_bytes", MetricType::gauge, "Memory information field CmaFree_bytes.", {}}},
    {"Unaccepted", true,
     {"node_memory_Unaccepted_bytes", MetricType::gauge, "Memory information field Unaccepted_bytes.", {}}},
    {"Balloon", true, {"node_memory_Balloon_bytes", MetricType::gauge, "Memory information field Balloon_bytes.", {}}},
    {"HugePages_Total", false,
     {"node_memory_HugePages_Total", MetricType::gauge, "Memory information field HugePages_Total.", {}}},
    {"HugePages_Free", false,
     {"node_memory_HugePages_Free", MetricType::gauge, "Memory information field HugePages_Free.", {}}},
    {"HugePages_Rsvd", false,
     {"node_memory_HugePages_Rsvd", MetricType::gauge, "Memory information field HugePages_Rsvd.", {}}},
    {"HugePages_Surp", false,
     {"node_memory_HugePages_Surp", MetricType::gauge, "Memory information field HugePages_Surp.", {}}},
    {"Hugepagesize", true,
     {"node_memory_Hugepagesize_bytes", MetricType::gauge, "Memory information field Hugepagesize_bytes.", {}}},
    {"Hugetlb", true, {"node_memory_Hugetlb_bytes", MetricType::gauge, "Memory information field Hugetlb_bytes.", {}}},
    {"DirectMap4k", true,
     {"node_memory_DirectMap4k_bytes", MetricType::gauge, "Memory information field DirectMap4k_bytes.", {}}},
    {"DirectMap2M", true,
     {"node_memory_DirectMap2M_bytes", MetricType::gauge, "Memory information field DirectMap2M_bytes.", {}}},
    {"DirectMap4M", true,
     {"node_memory_DirectMap4M_bytes", MetricType::gauge, "Memory information field DirectMap4M_bytes.", {}}},
    {"DirectMap1G", true,
     {"node_memory_DirectMap1G_bytes", MetricType::gauge, "Memory information field DirectMap1G_bytes.", {}}},
    // s390 maps its memory in 1 MiB and 2 GiB pages.
    {"DirectMap1M", true,
     {"node_memory_DirectMap1M_bytes", MetricType::gauge, "Memory information field DirectMap1M_bytes.", {}}},
    {"DirectMap2G", true,
     {"node_memory_DirectMap2G_bytes", MetricType::gauge, "Memory information field DirectMap2G_bytes.", {}}},
    // Kernels 2.6.28 to 3.x with quicklists (ia64, sh).
    {"Quicklists", true,
     {"node_memory_Quicklists_bytes", MetricType::gauge, "Memory information field Quicklists_bytes.", {}}},
}};

// The known field of this key, looked for from hint on (the next field in
// the kernel's order), then from the start; kKnownFields.size() if none.
std::size_t find_known_field(std::string_view key, std::size_t& hint) {
  for (std::size_t step = 0; step < kKnownFields.size(); ++step) {
    const std::size_t index = (hint + step) % kKnownFields.size();
    if (kKnownFields[index].key == key) {
      hint = index + 1;
      return index;
    }
  }
  return kKnownFields.size();
}

// Keeps a known field's value for the Prometheus families: leniently, the
// first of a duplicate, no value for anything malformed. Every line of the
// file passes here each tick, so the number is read in one pass rather than
// through the general field splitter (a third of the parse's cost).
void keep_known_field(std::string_view key, std::string_view rest, std::size_t& hint, MemInfo& out) {
  const std::size_t index = find_known_field(key, hint);
  if (index == kKnownFields.size() || out.fields[index].present) return;
  std::size_t at = 0;
  while (at < rest.size() && procfs_text::is_field_separator(rest[at])) ++at;
  const std::size_t digits = at;
  std::uint64_t value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (; at < rest.size() && rest[at] >= '0' && rest[at] <= '9'; ++at) {
    const auto digit = static_cast<std::uint64_t>(rest[at] - '0');
    if (value > (kMax - digit) / 10) return;  // does not fit in 64 bits
    value = value * 10 + digit;
  }
  if (at == digits || (at < rest.size() && !procfs_text::is_field_separator(rest[at]))) return;
  std::string_view unit = rest.substr(at);
  while (!unit.empty() && procfs_text::is_field_separator(unit.front())) unit.remove_prefix(1);
  while (!unit.empty() && procfs_text::is_field_separator(unit.back())) unit.remove_suffix(1);
  if (kKnownFields[index].kibibytes) {
    if (unit != "kB" || value > kMax / kBytesPerKibibyte) return;
    value *= kBytesPerKibibyte;
  } else if (!unit.empty()) {
    return;
  }
  out.fields[index] = {.present = true, .value = value};
}

constexpr std::array<MetricSpec, kMemInfoKnownFields> metric_specs() {
  std::array<MetricSpec, kMemInfoKnownFields> specs{};
  for (std::size_t index = 0; index < kKnownFields.size(); ++index) specs[index] = kKnownFields[index].metric;
  return specs;
}
constexpr std::array<MetricSpec, kMemInfoKnownFields> kMetrics = metric_specs();

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

  std::size_t known_hint = 0;

  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a field line; nothing we read
    const std::string_view key = line.substr(0, colon);
    keep_known_field(key, line.substr(colon + 1), known_hint, out);

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
  for (std::size_t index = 0; index < current.fields.size(); ++index) {
    if (current.fields[index].present) out.sample(index, static_cast<double>(current.fields[index].value));
  }
}

}  // namespace hostpulse
