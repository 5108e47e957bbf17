#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/api/access_control.hpp"

namespace hostpulse {

// What a request handler sees; no Beast types, so the API is tested without sockets.
struct HttpRequest {
  std::string_view method;  // "GET", "HEAD", ...
  std::string_view target;  // "/api/v1/history?series=load.1m&last=5m"
  std::string_view body;
  RequestCredentials credentials;  // empty when the caller has no headers (tests)
  // For embedded assets: gzip negotiation and revalidation (304).
  std::string_view accept_encoding = {};
  std::string_view if_none_match = {};
  // State-changing requests with a body must say application/json.
  std::string_view content_type = {};
  // GET /metrics: the exposition format (text or OpenMetrics).
  std::string_view accept = {};
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // For embedded assets: served instead of body when non-empty, no copy made.
  std::string_view static_body;
  std::vector<std::pair<std::string, std::string>> headers;

  [[nodiscard]] std::string_view payload() const { return static_body.empty() ? std::string_view(body) : static_body; }
};

using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

// Counters the server keeps for /api/v1/health.
struct HttpServerStats {
  std::uint64_t connections_total = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections, nothing to shed
  std::uint64_t connections_shed = 0;      // idle or half-sent connections closed to admit new ones
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;          // unparsable, too large
  std::uint64_t timeouts = 0;              // slow or idle connections closed
};

}  // namespace hostpulse
