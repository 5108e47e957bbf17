// HTTP request targets ("/api/v1/history?series=load.1m&last=5m").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/api/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::RequestTarget target;
  if (!hostpulse::parse_request_target(text, target).ok()) return 0;
  // What a parsed target promises: no NUL survives decoding, no name twice.
  if (target.path.find('\0') != std::string::npos) std::abort();
  if (target.query.size() > hostpulse::kMaxQueryParameters) std::abort();
  for (const auto& [key, value] : target.query) {
    if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) std::abort();
    if (target.parameter(key) != &value) std::abort();
  }
  return 0;
}
