// [[webhook]] url = "http://HOST[:PORT]/PATH".
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/alerts/webhook_notifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  std::string base, path;
  (void)hostpulse::parse_webhook_url(url, base, path);
  return 0;
}
