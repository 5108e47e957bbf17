#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "collectors/host_paths.hpp"
#include "collectors/raw_sample.hpp"
#include "base/status.hpp"

namespace hostpulse {

// One kernel source: where it lives under procfs and how it fills a RawSample.
struct CollectorDefinition {
  std::string_view name;           // e.g. "proc_stat"; shown in /api/v1/health
  std::string_view procfs_path;    // relative to HostPaths::proc, e.g. "stat"
  Status (*parse_into)(std::string_view text, RawSample& sample);
  bool RawSample::*ok_flag;        // set to whether this source succeeded this tick
};

// The platform's explicit collector table (STYLE rule 1: no self-registration).
// Defined in collectors/<platform>/collector_table.cpp, picked by CMake.
std::span<const CollectorDefinition> platform_collectors();

// Owns one reusable reader per collector. It does no timing or counting:
// the sampler does that in one place around collect_one().
class CollectorSet {
 public:
  explicit CollectorSet(const HostPaths& paths,
                        std::span<const CollectorDefinition> definitions = platform_collectors());

  [[nodiscard]] std::size_t size() const { return definitions_.size(); }
  [[nodiscard]] const CollectorDefinition& definition(std::size_t index) const { return definitions_[index]; }

  // Reads and parses collector `index` into sample and sets its ok flag.
  // Never throws; a missing or garbled file is a failed Status.
  Status collect_one(std::size_t index, RawSample& sample);

  // Runs every collector; returns how many failed.
  std::size_t collect_all(RawSample& sample);

 private:
  std::span<const CollectorDefinition> definitions_;
  std::vector<FileReader> readers_;
};

}  // namespace hostpulse
