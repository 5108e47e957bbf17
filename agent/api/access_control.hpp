#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.hpp"

namespace hostpulse {

// What a request presents to prove who it is, taken from its headers.
struct RequestCredentials {
  std::string_view authorization;  // "Bearer <token>"
  std::string_view protocols;      // Sec-WebSocket-Protocol: "hostpulse.v1, bearer.<token>"
  std::string_view cookie;         // "hostpulse_session=<id>" from POST /api/v1/login
  std::string_view origin;         // browsers only
  std::string_view host;           // Host header
};

inline constexpr std::string_view kSessionCookieName = "hostpulse_session";
inline constexpr std::string_view kStreamSubprotocol = "hostpulse.v1";
inline constexpr std::string_view kBearerSubprotocolPrefix = "bearer.";

// Compares without an early exit, so response time does not reveal how much
// of a guessed token was right.
bool constant_time_equals(std::string_view a, std::string_view b);

// A token is one line of 16 to a few hundred characters; the limit keeps a
// token_file such as /dev/zero or a log file from being read whole.
inline constexpr std::size_t kMaxTokenFileBytes = 4 * 1024;

// Reads a token file: the first line, surrounding whitespace removed. Tokens
// shorter than 16 characters are refused: they can be guessed. The file must
// be a regular file of at most kMaxTokenFileBytes (read_bounded_file).
Status read_token_file(const std::string& path, std::string& token);

// Whether an address string is loopback (127.0.0.0/8 or ::1).
bool is_loopback_address(std::string_view address);

// Whether text holds only what an IPv4 or IPv6 address literal can: hex
// digits, ':' and '.'. Checked before Boost parses an address, because Boost
// stops at a NUL and accepts IPv6 zone ids ("%eth0", "%-5" wraps around), so
// what it parsed would not be what was written.
bool has_only_address_literal_characters(std::string_view text);

// The host name of a Host header ("Example.COM:9870" -> "example.com",
// "[::1]:80" -> "::1"), lowercased, without port or trailing dot; nullopt
// when it is not a well-formed host (bad port, bad characters, bad brackets).
std::optional<std::string> host_name_of(std::string_view host_header);

// Bearer-token and Origin checks shared by REST and the stream, plus the
// dashboard's login sessions (cookie). Thread-safe.
class AccessControl {
 public:
  // Sessions last 12 h; at most this many exist (oldest dropped first), so
  // repeated logins cannot grow memory without bound.
  static constexpr std::size_t kMaxSessions = 1024;
  static constexpr std::chrono::hours kSessionLifetime{12};

  // allowed_hosts: the names this agent answers to besides IP literals and
  // localhost (e.g. "metrics.example.com", the name a Prometheus target or
  // a load balancer uses); "*" turns the Host check off.
  AccessControl(std::string token, std::vector<std::string> allowed_origins,
                std::vector<std::string> allowed_hosts = {});

  [[nodiscard]] bool token_required() const { return !token_.empty(); }
  [[nodiscard]] bool authorized(const RequestCredentials& credentials) const;
  // No Origin header (not a browser): allowed. Otherwise the origin must
  // match the Host header (the agent's own pages) or be in allowed_origins,
  // so another web page cannot read the stream.
  [[nodiscard]] bool origin_allowed(const RequestCredentials& credentials) const;
  // DNS rebinding: a page on evil.example whose name is made to resolve to
  // 127.0.0.1 reaches the agent as the same origin, with Host: evil.example.
  // Only IP literals, localhost names and allowed_hosts pass.
  [[nodiscard]] bool host_allowed(const RequestCredentials& credentials) const;
  // Whether the client offered the hostpulse.v1 subprotocol (we then select it).
  [[nodiscard]] static bool offers_stream_subprotocol(std::string_view protocols);

  // Returns a new session id when the token is right.
  std::optional<std::string> login(std::string_view token);
  void logout(std::string_view cookie_header);

 private:
  [[nodiscard]] bool valid_session(std::string_view cookie_header) const;

  const std::string token_;
  const std::vector<std::string> allowed_origins_;
  std::vector<std::string> allowed_hosts_;  // lowercased host names
  bool any_host_ = false;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> sessions_;
};

}  // namespace hostpulse
