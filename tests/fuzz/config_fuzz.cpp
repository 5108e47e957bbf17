// A config file (hostpulse.toml, and with it [[alert]] and [[webhook]] tables)
// through parse_config_text: the pre-scan, toml11 and the key tables, with no
// filesystem access (rules_dir is resolved but not read).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::Config config;
  (void)hostpulse::parse_config_text(text, "/nonexistent/hostpulse-fuzz/hostpulse.toml", config);
  return 0;
}
