#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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

// What statvfs says about one filesystem.
struct FilesystemUsage {
  std::uint64_t fragment_bytes = 0;  // f_frsize: the unit of the block counts
  std::uint64_t blocks = 0;
  std::uint64_t blocks_free = 0;
  std::uint64_t blocks_available = 0;  // to unprivileged users (without the root reserve)
  std::uint64_t files = 0;
  std::uint64_t files_free = 0;
};

// Measures the filesystem at path (a host path under rootfs); 0 or an errno.
// It may block for minutes (a hard NFS mount whose server is gone): the
// source calls it only on its own worker thread.
using FilesystemStatFunction = std::function<int(const char* path, FilesystemUsage& out)>;

struct FilesystemOptions {
  // A statvfs that has not returned after this long is stuck: its mount is
  // not asked again until the call returns, and its worker is replaced. A
  // healthy local or NFS filesystem answers in milliseconds.
  std::chrono::milliseconds stat_timeout{1000};
  // The longest a tick waits for this round's answers before taking what is
  // ready: short against a 1 s interval, long enough for a slow but live NFS.
  std::chrono::milliseconds result_wait{100};
  // Empty: statvfs(2). Tests put a stat here that hangs like a dead NFS server.
  FilesystemStatFunction stat{};
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
  FilesystemOptions filesystems = {};
};

}  // namespace hostpulse
