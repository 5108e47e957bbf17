#pragma once

#include <cstdint>
#include <memory>

#include "agent/api/http_options.hpp"
#include "agent/api/http_types.hpp"
#include "base/status.hpp"

namespace boost::asio {
class io_context;
}

namespace hostpulse {

class StreamService;
class AccessControl;

// The one listening port: HTTP/1.1 with keep-alive, built on Boost.Beast and
// run on the caller's io_context (one event loop for all network I/O).
// Beast lives only in http_server.cpp: each Beast translation unit costs
// ~30 s and ~800 MB to compile.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ListenAddress address, HttpOptions options, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Upgrades on /api/v1/stream go to the stream (call before start()).
  // The session shares ownership of both: see WebSocketSession.
  void enable_stream(std::shared_ptr<StreamService> service, std::shared_ptr<const AccessControl> access);

  // Binds and starts accepting. Fails with a message (address in use, no
  // permission) rather than throwing.
  Status start();
  // The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;
  // Stops accepting and closes open connections. Call on the io_context's thread.
  void stop();

  [[nodiscard]] HttpServerStats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hostpulse
