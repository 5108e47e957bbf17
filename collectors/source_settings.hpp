#pragma once

#include <string>

#include "collectors/host_paths.hpp"

namespace hostpulse {

// Which block devices the disks source reports ([sources.disks]). By default
// only whole disks: a partition, a loop device or a RAM disk repeats I/O a
// whole disk already shows (or is not a disk at all), and a host with dozens
// of snap loop devices would otherwise fill the schema with idle series.
struct DiskOptions {
  bool partitions = false;  // sda1, nvme0n1p2, mmcblk0p1, xvda1
  bool loop = false;        // loop0...
  bool ram = false;         // ram0, zram0
};

// The cgroup source. Not a config key: the agent always reads its own mount
// namespace; tests point it at a fixture tree.
struct CgroupOptions {
  // Prefixed to the mount points of <proc>/self/mountinfo before reading
  // under them: "/" reads them as they are; a fixture case's directory makes
  // a captured mountinfo's /sys/fs/cgroup/... resolve into the fixture.
  std::string mounts_root = "/";
};

// What a source is built with: where the host's files are, and the options
// of the sources that have any (filled from the config's [sources] table).
// Each source reads only its own part.
struct SourceSettings {
  // Each with "= {}" so `SourceSettings{.paths = ...}` keeps compiling
  // without a missing-initializer warning as sources add options.
  HostPaths paths = {};
  CgroupOptions cgroup = {};
  DiskOptions disks = {};
};

}  // namespace hostpulse
