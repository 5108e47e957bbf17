// listen = "ADDR:PORT" from the config file and --listen.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::ListenAddress address;
  if (!hostpulse::parse_listen_address(text, address).ok()) return 0;
  // A NUL cuts the text short for C APIs: "[::1\0anything]:80" must not pass as ::1.
  if (text.find('\0') != std::string_view::npos) std::abort();
  // The log prints to_string(); it must read back as the same address.
  hostpulse::ListenAddress again;
  if (!hostpulse::parse_listen_address(address.to_string(), again).ok() || again.host != address.host ||
      again.port != address.port) {
    std::abort();
  }
  return 0;
}
