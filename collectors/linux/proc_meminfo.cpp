#include "collectors/linux/proc_meminfo.hpp"

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
