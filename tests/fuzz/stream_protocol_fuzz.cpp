// Text frames a WebSocket client sends on the stream (docs/protocol.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/stream/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hostpulse::parse_client_message(text);
  return 0;
}
