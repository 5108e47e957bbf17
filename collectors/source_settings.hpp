#pragma once

#include "collectors/host_paths.hpp"

namespace hostpulse {

// What a source is built with: where the host's files are, and the options
// of the sources that have any (filled from the config's [sources] table).
// Each source reads only its own part.
struct SourceSettings {
  HostPaths paths;
};

}  // namespace hostpulse
