// Alert thresholds ("> 80", "<= 5") from [[alert]] warn/crit keys.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/alerts/alert_rule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::Threshold threshold;
  if (!hostpulse::parse_threshold(text, threshold).ok()) return 0;
  // Error messages quote thresholds with to_string(); it must read back.
  hostpulse::Threshold again;
  if (!hostpulse::parse_threshold(threshold.to_string(), again).ok() || again.comparison != threshold.comparison) {
    std::abort();
  }
  return 0;
}
