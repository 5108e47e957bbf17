// A config file (hostpulse.toml, and with it [[alert]] and [[webhook]] tables)
// through the same entry point load_config_file() uses after reading the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::Config config;
  // A relative rules_dir resolves against this (missing) folder, so inputs do
  // not read rule files from wherever the fuzzer happens to run.
  (void)hostpulse::load_config_text(text, "/nonexistent/hostpulse-fuzz/hostpulse.toml", config);
  return 0;
}
