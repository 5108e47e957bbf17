#include "collectors/linux/proc_file_nr.hpp"

#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

Status parse_count(std::string_view& rest, std::string_view what, std::uint64_t& value) {
  const std::string_view token = next_field(rest);
  if (const NumberError error = procfs_text::parse_unsigned(token, value); error != NumberError::none) {
    return Status::failure("file-nr: " + std::string(what) + ": " + procfs_text::describe(error, token));
  }
  return Status::success();
}

}  // namespace

Status parse_proc_file_nr(std::string_view text, FileNr& out) {
  if (Status complete = procfs_text::check_complete(text, "file-nr"); !complete.ok()) return complete;

  procfs_text::LineCursor lines(text);
  std::string_view rest;
  lines.next(rest);
  std::string_view after_first_line;
  if (lines.next(after_first_line)) return Status::failure("file-nr: expected one line, found more after line 1");

  if (Status status = parse_count(rest, "allocated handles", out.allocated); !status.ok()) return status;
  if (Status status = parse_count(rest, "unused handles", out.unused); !status.ok()) return status;
  if (Status status = parse_count(rest, "maximum", out.max); !status.ok()) return status;
  if (const std::string_view extra = next_field(rest); !extra.empty()) {
    return Status::failure("file-nr: unexpected " + quote(extra) + " after the maximum");
  }
  return Status::success();
}

namespace {

using derive_math::hundredths;

enum Spec : std::size_t { kOpen, kMax, kUsedPercent };

constexpr SeriesSpec kSeries[] = {
    {"files.open", "count", SeriesKind::gauge, "File handles open, host-wide", 0},
    {"files.max", "count", SeriesKind::gauge, "Most file handles the kernel will allocate (fs.file-max)", 0},
    {"files.used_pct", "percent", SeriesKind::gauge, "Open file handles, share of fs.file-max", 2},
};
static_assert(std::size(kSeries) == kUsedPercent + 1);

// node_exporter's filefd collector.
namespace metric {
enum : std::size_t { kAllocated, kMaximum };
}
constexpr MetricSpec kMetrics[] = {
    {"node_filefd_allocated", MetricType::gauge, "File descriptor statistics: allocated.", {}},
    {"node_filefd_maximum", MetricType::gauge, "File descriptor statistics: maximum.", {}},
};

constexpr SourceFunctions<FileNr> kFunctions{&parse_proc_file_nr, &derive_proc_file_nr, nullptr,
                                             &expose_proc_file_nr};

}  // namespace

void derive_proc_file_nr(const FileNr* /*previous*/, const FileNr& current, const DeriveContext& /*context*/,
                         SeriesWriter& out) {
  // Allocated minus unused; the second field has been 0 since 2.6, but an
  // inconsistent pair must not wrap around.
  const std::uint64_t open = current.allocated > current.unused ? current.allocated - current.unused : 0;
  out.set(kOpen, static_cast<double>(open));
  out.set(kMax, static_cast<double>(current.max));
  // A limit of 0 is no limit to measure against: no value.
  if (current.max > 0) {
    out.set(kUsedPercent, hundredths(100.0 * static_cast<double>(open) / static_cast<double>(current.max)));
  }
}

SourceDefinition proc_file_nr_source() {
  return {.name = "proc_file_nr", .procfs_path = "sys/fs/file-nr", .series = kSeries,
          .create = &create_source<FileNr, kFunctions>, .metrics = kMetrics};
}

void expose_proc_file_nr(const FileNr& current, MetricWriter& out) {
  // node_exporter reports the first field as it is (not minus the unused one).
  out.sample(metric::kAllocated, static_cast<double>(current.allocated));
  out.sample(metric::kMaximum, static_cast<double>(current.max));
}

}  // namespace hostpulse
