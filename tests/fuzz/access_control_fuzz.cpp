// The headers access checks read: Authorization, Sec-WebSocket-Protocol,
// Cookie, Origin and Host, one per line of the input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/api/access_control.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static hostpulse::AccessControl access("fuzz-token-0123456789", {"https://ops.example.com", "http://[::1]:9870"},
                                         {"metrics.example.com", "gw.example.com:443"});
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::array<std::string_view, 5> fields{};
  for (std::string_view& field : fields) {
    const auto newline = text.find('\n');
    field = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  }
  const hostpulse::RequestCredentials credentials{
      .authorization = fields[0], .protocols = fields[1], .cookie = fields[2], .origin = fields[3], .host = fields[4]};
  (void)access.authorized(credentials);
  (void)access.origin_allowed(credentials);
  const bool host_allowed = access.host_allowed(credentials);
  // A host name that parses is lowercase, without a port or trailing dot.
  if (const auto name = hostpulse::host_name_of(credentials.host)) {
    for (char c : *name) {
      if (c >= 'A' && c <= 'Z') __builtin_trap();
    }
    if (name->empty() || name->back() == '.') __builtin_trap();
  } else if (host_allowed && !credentials.host.empty()) {
    __builtin_trap();  // an unparsable Host must never pass
  }
  (void)hostpulse::AccessControl::offers_stream_subprotocol(credentials.protocols);
  (void)hostpulse::is_loopback_address(credentials.host);
  access.logout(credentials.cookie);
  return 0;
}
