#pragma once

#include <string>

#include "collectors/host_paths.hpp"

namespace hostpulse {

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
};

}  // namespace hostpulse
