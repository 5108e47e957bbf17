// Durations from config files and queries ("1m30s", "last=5m").
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::chrono::milliseconds parsed{};
  if (!hostpulse::parse_duration(text, parsed).ok()) return 0;
  if (parsed.count() < 0) std::abort();
  // Error messages and /api/v1/info print durations with format_duration; what
  // it prints must read back as the same value.
  std::chrono::milliseconds again{};
  if (!hostpulse::parse_duration(hostpulse::format_duration(parsed), again).ok() || again != parsed) std::abort();
  return 0;
}
