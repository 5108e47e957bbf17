#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hostpulse {

// Stream tunables (STYLE rule 11), from the config's [stream] table.
struct StreamOptions {
  // Each idle subscriber costs a socket and a few KiB; 10,000 is the fan-out target.
  std::size_t max_connections = 10'000;
  // One host rarely needs more; stops a single client from taking them all.
  std::size_t max_connections_per_ip = 1'000;
  // Client messages are small JSON requests.
  std::size_t max_message_bytes = 64 * 1024;
  // Client messages per second (burst: twice that); requests, not data.
  std::uint32_t max_messages_per_second = 20;
  std::size_t max_subscriptions = 16;
  // Protocol errors tolerated on one connection before it is closed with 1008.
  std::uint32_t max_errors = 20;
  std::chrono::milliseconds handshake_timeout{10'000};
  // Liveness: a ping after this much silence; dead peers go within two intervals.
  std::chrono::milliseconds ping_interval{25'000};
  // Outbound queue bounds per connection (see OutboundQueue).
  std::size_t max_queue_bytes = 8u << 20;
  std::size_t max_lag_bytes = 1u << 20;
  // SO_SNDBUF for stream sockets; 0 keeps the kernel's default. Smaller
  // values bound kernel memory per slow client and detect stalls sooner.
  std::size_t socket_send_buffer_bytes = 0;
  // History replies larger than this many values are refused (narrow the request).
  std::size_t max_history_values = 1'000'000;
};

}  // namespace hostpulse
