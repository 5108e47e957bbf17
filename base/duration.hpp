#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace hostpulse {

// Parses durations as people write them in config files and queries:
// "250ms", "30s", "5m", "1h", "2d", or sums such as "1m30s". Integers only.
// The result must fit in a few years of milliseconds; anything else is an error
// saying what was expected.
Status parse_duration(std::string_view text, std::chrono::milliseconds& out);

// "1h", "5m", "1m30s", "250ms", "0s".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace hostpulse
