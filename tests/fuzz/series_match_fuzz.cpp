// ?series=a,b* lists and the glob matcher they feed (REST, stream, silences).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/series_match.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Before the first newline: the list; after it: a name to match every pattern against.
  const auto newline = text.find('\n');
  const std::string_view list = text.substr(0, newline);
  const std::string_view name = newline == std::string_view::npos ? "cpu.0.busy_pct" : text.substr(newline + 1);
  std::vector<std::string> patterns;
  if (!hostpulse::split_series_list(list, patterns).ok()) return 0;
  for (const std::string& pattern : patterns) (void)hostpulse::glob_match(pattern, name);
  return 0;
}
