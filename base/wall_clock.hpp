#pragma once

#include <chrono>
#include <cstdint>

namespace hostpulse {

// Wall-clock time in ms since the epoch: what points, events and replies
// carry for display (STYLE rule 7: arithmetic on intervals uses steady_clock).
inline std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace hostpulse
