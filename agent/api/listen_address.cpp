#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "agent/api/access_control.hpp"
#include "agent/api/http_options.hpp"
#include "base/quote.hpp"

namespace hostpulse {

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Status parse_listen_address(std::string_view text, ListenAddress& out) {
  const auto fail = [&](std::string_view why) {
    return Status::failure("invalid listen address " + quote(text) + ": " + std::string(why) +
                           " (expected ADDR:PORT, e.g. 127.0.0.1:9870 or [::1]:9870)");
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("missing ':PORT'");
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':PORT'");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses go in brackets");
  }
  if (host.empty()) return fail("missing address");
  if (host != "localhost" && !has_only_address_literal_characters(host)) {
    return fail("must be an IP literal or localhost (no host names or scope ids)");
  }
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("port must be a number from 0 to 65535");
  }
  std::string host_string(host);
  if (host_string == "localhost") {
    host_string = "127.0.0.1";
  } else {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host_string, ec);
    if (ec) return fail("address must be an IP literal or localhost");
    host_string = address.to_string();
  }
  out.host = std::move(host_string);
  out.port = static_cast<std::uint16_t>(port);
  return Status::success();
}

}  // namespace hostpulse
