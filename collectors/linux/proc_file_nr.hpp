#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/sys/fs/file-nr: "1234\t0\t9223372036854775807": file handles
// allocated, allocated but unused (always 0 since 2.6: the kernel frees
// them at once), and the limit (fs.file-max; LONG_MAX when unlimited).
struct FileNr {
  std::uint64_t allocated = 0;
  std::uint64_t unused = 0;
  std::uint64_t max = 0;
};

// Exactly one line of three whole unsigned 64-bit numbers, ending in '\n'.
Status parse_proc_file_nr(std::string_view text, FileNr& out);

// The source: open file handles, the limit and the share of it in use.
void derive_proc_file_nr(const FileNr* previous, const FileNr& current, const DeriveContext& context,
                         SeriesWriter& out);
// node_exporter's node_filefd_allocated and node_filefd_maximum.
void expose_proc_file_nr(const FileNr& current, MetricWriter& out);
SourceDefinition proc_file_nr_source();

}  // namespace hostpulse
