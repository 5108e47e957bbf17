#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace hostpulse {

struct ListenAddress {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  std::uint16_t port = 9870;       // 0 picks a free port (tests); the log says which
  [[nodiscard]] std::string to_string() const;
};

// "127.0.0.1:9870", "0.0.0.0:80", "[::1]:9870", "localhost:9870". Hosts must be
// IP literals or "localhost": resolving names at start-up would make the bind
// address depend on DNS.
Status parse_listen_address(std::string_view text, ListenAddress& out);

// Every HTTP tunable with its default and the reason for it.
struct HttpOptions {
  // Browsers send 1-4 KiB of headers; 16 KiB leaves room for big cookies.
  std::size_t header_limit_bytes = 16 * 1024;
  // The API takes small JSON bodies only (silences, login later).
  std::size_t body_limit_bytes = 64 * 1024;
  // A new connection has this long to send its whole first request; a
  // kept-alive one, from the first byte of each further request.
  std::chrono::milliseconds request_timeout{10'000};
  // Keep-alive connections with no request for this long are closed.
  std::chrono::milliseconds idle_timeout{60'000};
  // Past this many open connections the longest-idle (or slowest to send
  // its request) is closed to admit a new one; when every one is busy, new
  // ones get 503.
  std::size_t max_connections = 1024;
  // The same per client address, so one client cannot take them all (a
  // reverse proxy in front counts as one address: raise it there).
  std::size_t max_connections_per_address = 128;
};

}  // namespace hostpulse
