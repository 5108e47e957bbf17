// /proc/uptime as the kernel (or a hostile procfs root) might hand it over.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/linux/proc_uptime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hostpulse::Uptime parsed;
  (void)hostpulse::parse_proc_uptime(text, parsed);
  return 0;
}
