#include "agent/net/http_server.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "base/log.hpp"
#include "agent/net/websocket_session.hpp"
#include "base/version.hpp"
#include "base/quote.hpp"

namespace hostpulse {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpSession;

struct HttpServer::State {
  State(asio::io_context& io_context, ListenAddress listen, HttpOptions http_options, RequestHandler request_handler)
      : io(io_context),
        address(std::move(listen)),
        options(http_options),
        handler(std::move(request_handler)),
        acceptor(asio::make_strand(io_context)) {}

  asio::io_context& io;
  ListenAddress address;
  HttpOptions options;
  RequestHandler handler;
  tcp::acceptor acceptor;
  std::atomic<bool> stopped{false};
  std::weak_ptr<State> shared_self;
  std::shared_ptr<StreamService> stream;
  std::shared_ptr<const AccessControl> access;

  // Sessions register themselves so stop() can close them all.
  std::mutex sessions_mutex;
  std::unordered_set<HttpSession*> sessions;
  std::unordered_map<std::string, std::size_t> sessions_per_address;

  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_active{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> connections_shed{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> timeouts{0};

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  // Over a connection limit: the connection that has waited longest for a
  // request (idle first, then one still sending its request),
  // from_address when given; null when every candidate is busy answering.
  std::shared_ptr<HttpSession> pick_connection_to_shed(const HttpSession& newcomer, const std::string* from_address);
};

namespace {

const std::string kServerName = "hostpulse/" + std::string(kVersion);
constexpr std::string_view kStreamPath = "/api/v1/stream";

std::string error_body(unsigned status, std::string_view message) {
  // Same shape as RestApi's json_error, written by hand: this TU stays free of JSON.
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
  }
  return "{\"error\":{\"status\":" + std::to_string(status) + ",\"message\":\"" + escaped + "\"}}";
}

}  // namespace

// One HTTP connection. Owns itself through shared_from_this; every handler
// runs on the session's strand (the socket was created on one).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
  // A typical request head fits; http::async_read fetches the rest.
  static constexpr std::size_t kFirstReadBytes = 4096;

 public:
  // What a connection is doing, for choosing which to shed when full.
  enum class Phase : int { idle, reading, busy };

  HttpSession(tcp::socket&& socket, std::shared_ptr<HttpServer::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = endpoint.address().to_string();
    ++state_->connections_total;
    ++state_->connections_active;
    set_phase(Phase::idle);
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.insert(this);
    ++state_->sessions_per_address[remote_address_];
  }

  ~HttpSession() {
    --state_->connections_active;
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.erase(this);
    const auto it = state_->sessions_per_address.find(remote_address_);
    if (it != state_->sessions_per_address.end() && --it->second == 0) state_->sessions_per_address.erase(it);
  }

  [[nodiscard]] const std::string& remote_address() const { return remote_address_; }
  [[nodiscard]] Phase phase() const { return static_cast<Phase>(phase_.load(std::memory_order_relaxed)); }
  [[nodiscard]] std::int64_t phase_since() const { return phase_since_.load(std::memory_order_relaxed); }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
  }

  // Refuses the connection politely: over max_connections.
  void reject() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->send_error(http::status::service_unavailable, "too many connections", false, 11);
    });
  }

  // Called from stop(): closes the socket on its own strand.
  void close() {
    auto self = weak_from_this().lock();
    if (!self) return;  // already being destroyed
    asio::post(stream_.get_executor(), [self] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  // Waits for the first byte of the next request. A fresh connection has
  // request_timeout from the accept for its whole first request; a kept-alive
  // one may stay silent for idle_timeout, then has request_timeout from its
  // first byte. (On expiry Beast closes the socket: the client sees the
  // connection close, no 408.)
  void wait_for_request() {
    if (requests_served_ == 0) {
      request_deadline_ = std::chrono::steady_clock::now() + state_->options.request_timeout;
      stream_.expires_at(request_deadline_);
    } else {
      stream_.expires_after(state_->options.idle_timeout);
    }
    set_phase(Phase::idle);
    if (buffer_.size() > 0) return read_request();
    // Read straight into buffer_ (asio::async_read would copy a v1 dynamic buffer).
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              if (ec) return self->fail(ec, "waiting for a request");
                              self->buffer_.commit(bytes);
                              self->read_request();
                            });
  }

  void read_request() {
    set_phase(Phase::reading);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit_bytes));
    parser_->body_limit(state_->options.body_limit_bytes);
    if (requests_served_ > 0) request_deadline_ = std::chrono::steady_clock::now() + state_->options.request_timeout;
    stream_.expires_at(request_deadline_);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec == http::error::header_limit) {
      ++state_->bad_requests;
      return send_error(http::status::request_header_fields_too_large,
                        "request head larger than " + std::to_string(state_->options.header_limit_bytes) + " bytes",
                        false, 11);
    }
    if (ec == http::error::body_limit) {
      ++state_->bad_requests;
      return send_error(http::status::payload_too_large,
                        "request body larger than " + std::to_string(state_->options.body_limit_bytes) + " bytes",
                        false, 11);
    }
    if (ec && parser_ && ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::partial_message) {
      ++state_->bad_requests;
      return send_error(http::status::bad_request, "malformed HTTP request: " + ec.message(), false, 11);
    }
    if (ec) return fail(ec, "reading a request");
    set_phase(Phase::busy);
    const auto& head = parser_->get();
    // Request smuggling: a body framed by anything but chunked (or by both
    // Transfer-Encoding and Content-Length) cannot be delimited safely, so
    // the connection ends after the 400 (RFC 9112, 6.1).
    if (head.count(http::field::transfer_encoding) > 0 &&
        (!head.chunked() || head.count(http::field::content_length) > 0)) {
      ++state_->bad_requests;
      return send_error(http::status::bad_request, "Transfer-Encoding other than chunked is not supported", false,
                        head.version());
    }
    // HTTP/1.1 requires exactly one Host (RFC 9112, 3.2); the access checks read it.
    const std::size_t hosts = head.count(http::field::host);
    if (hosts > 1 || (hosts == 0 && head.version() >= 11)) {
      ++state_->bad_requests;
      return send_error(http::status::bad_request,
                        hosts > 1 ? "more than one Host header" : "missing Host header (required by HTTP/1.1)", false,
                        head.version());
    }
    if (state_->stream != nullptr && beast::websocket::is_upgrade(parser_->get()) &&
        parser_->get().target().substr(0, kStreamPath.size()) == kStreamPath &&
        (parser_->get().target().size() == kStreamPath.size() || parser_->get().target()[kStreamPath.size()] == '?')) {
      ++state_->requests;
      // The WebSocket session takes the socket; this HTTP session ends here.
      return start_websocket_session(std::move(stream_), parser_->release(), state_->stream, state_->access,
                                     remote_address_);
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body>&& request) {
    ++state_->requests;
    ++requests_served_;
    const bool head = request.method() == http::verb::head;
    const auto field = [&](http::field name) {
      const auto it = request.find(name);
      return it == request.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
    };
    HttpRequest view{std::string_view(request.method_string().data(), request.method_string().size()),
                     std::string_view(request.target().data(), request.target().size()), request.body(),
                     RequestCredentials{field(http::field::authorization), field(http::field::sec_websocket_protocol),
                                        field(http::field::cookie), field(http::field::origin),
                                        field(http::field::host)},
                     field(http::field::accept_encoding), field(http::field::if_none_match),
                     field(http::field::content_type), field(http::field::accept)};
    HttpResponse response;
    try {
      response = state_->handler(view);
    } catch (const std::exception& e) {
      // The target is the client's: escaped, capped, and rate-limited.
      static LogRateLimit limit(10, std::chrono::minutes(1));
      std::uint64_t suppressed = 0;
      if (limit.allow(std::chrono::steady_clock::now(), suppressed)) {
        spdlog::error("request handler failed for {}: {}{}", quote(view.target), e.what(),
                      suppressed ? fmt::format(" ({} more not logged)", suppressed) : std::string());
      }
      response = HttpResponse{500, "application/json", error_body(500, "internal error"), {}, {}};
    }
    const bool keep_alive = request.keep_alive() && !state_->stopped;
    auto message = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), request.version());
    message->set(http::field::server, kServerName);
    message->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message->set(name, value);
    const std::string_view payload = response.payload();
    if (head) {
      message->content_length(payload.size());
      // Beast would send a body of content_length bytes; skip the body.
      message->keep_alive(keep_alive);
      write(message, head);
      return;
    }
    message->body().assign(payload.data(), payload.size());
    message->keep_alive(keep_alive);
    message->prepare_payload();
    write(message, head);
  }

  void write(const std::shared_ptr<http::response<http::string_body>>& message, bool head) {
    stream_.expires_after(state_->options.request_timeout);
    if (head) {
      auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*message);
      http::async_write_header(stream_, *serializer,
                               [self = shared_from_this(), message, serializer](beast::error_code ec, std::size_t) {
                                 self->on_write(ec, message->need_eof());
                               });
      return;
    }
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
      self->on_write(ec, message->need_eof());
    });
  }

  void on_write(beast::error_code ec, bool close) {
    if (ec) return fail(ec, "writing a response");
    if (close) return shutdown();
    wait_for_request();
  }

  void send_error(http::status status, const std::string& message, bool keep_alive, unsigned version) {
    auto response = std::make_shared<http::response<http::string_body>>(status, version);
    response->set(http::field::server, kServerName);
    response->set(http::field::content_type, "application/json");
    response->body() = error_body(static_cast<unsigned>(status), message);
    response->keep_alive(keep_alive);
    response->prepare_payload();
    write(response, false);
  }

  void shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void fail(beast::error_code ec, std::string_view what) {
    if (ec == beast::error::timeout) {
      ++state_->timeouts;
      spdlog::debug("http: closing connection: timeout while {}", what);
    } else if (ec != asio::error::operation_aborted && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::error::bad_descriptor) {
      spdlog::debug("http: {}: {}", what, ec.message());
    }
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  void set_phase(Phase phase) {
    phase_since_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    phase_.store(static_cast<int>(phase), std::memory_order_relaxed);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> state_;
  std::string remote_address_;
  std::uint64_t requests_served_ = 0;
  std::chrono::steady_clock::time_point request_deadline_{};
  // Written on the session's strand, read by the acceptor choosing whom to shed.
  std::atomic<int> phase_{static_cast<int>(Phase::idle)};
  std::atomic<std::int64_t> phase_since_{0};
};

void HttpServer::State::accept() {
  acceptor.async_accept(asio::make_strand(io), [self = shared_self.lock()](beast::error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void HttpServer::State::on_accept(beast::error_code ec, tcp::socket socket) {
  {
    if (stopped) return;
    if (ec) {
      // Out of file descriptors and the like: log, keep serving the others.
      spdlog::warn("http: accept failed: {}", ec.message());
    } else {
      // Sessions hold the state alive; the state outlives the acceptor loop.
      auto session = std::make_shared<HttpSession>(std::move(socket), shared_self.lock());
      std::size_t from_address = 0;
      {
        std::lock_guard lock(sessions_mutex);
        from_address = sessions_per_address[session->remote_address()];
      }
      const bool address_full = from_address > options.max_connections_per_address;
      const bool server_full = connections_active > options.max_connections;
      if (address_full || server_full) {
        // Idle and half-sent connections (slowloris) give way to new ones:
        // one client holding many cannot lock everyone else out.
        if (auto victim = pick_connection_to_shed(*session, address_full ? &session->remote_address() : nullptr)) {
          ++connections_shed;
          victim->close();
          session->run();
        } else {
          ++connections_rejected;
          session->reject();
        }
      } else {
        session->run();
      }
    }
    accept();
  }
}

std::shared_ptr<HttpSession> HttpServer::State::pick_connection_to_shed(const HttpSession& newcomer,
                                                                       const std::string* from_address) {
  std::lock_guard lock(sessions_mutex);
  const HttpSession* chosen = nullptr;
  for (const HttpSession* candidate : sessions) {
    const HttpSession::Phase phase = candidate->phase();
    if (candidate == &newcomer || phase == HttpSession::Phase::busy) continue;
    if (from_address != nullptr && candidate->remote_address() != *from_address) continue;
    if (candidate->weak_from_this().expired()) continue;  // being destroyed
    // Idle before reading; within a phase, the one in it longest.
    if (chosen == nullptr || phase < chosen->phase() ||
        (phase == chosen->phase() && candidate->phase_since() < chosen->phase_since())) {
      chosen = candidate;
    }
  }
  // Only the chosen one is locked: a shared_ptr released under sessions_mutex
  // could run a session's destructor, which takes the same mutex.
  return chosen == nullptr ? nullptr : std::const_pointer_cast<HttpSession>(chosen->weak_from_this().lock());
}

HttpServer::HttpServer(asio::io_context& io, ListenAddress address, HttpOptions options, RequestHandler handler)
    : state_(std::make_shared<State>(io, std::move(address), options, std::move(handler))) {
  state_->shared_self = state_;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::enable_stream(std::shared_ptr<StreamService> service, std::shared_ptr<const AccessControl> access) {
  state_->stream = std::move(service);
  state_->access = std::move(access);
}

Status HttpServer::start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(state_->address.host, ec);
  if (ec) return Status::failure("invalid listen address " + state_->address.host + ": " + ec.message());
  const tcp::endpoint endpoint(address, state_->address.port);
  auto& acceptor = state_->acceptor;
  const auto failed = [&](std::string_view step) {
    return Status::failure("cannot listen on " + state_->address.to_string() + ": " + std::string(step) + ": " +
                           ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failed("open");
  // Lets a restarted agent bind while old connections sit in TIME_WAIT.
  // (Not SO_REUSEPORT: two agents on one port must fail loudly.)
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return failed("set_option");
  acceptor.bind(endpoint, ec);
  if (ec) return failed("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed("listen");
  state_->accept();
  return Status::success();
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  const auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::stop() {
  if (state_->stopped.exchange(true)) return;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  std::lock_guard lock(state_->sessions_mutex);
  for (HttpSession* session : state_->sessions) session->close();
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.connections_total = state_->connections_total;
  s.connections_active = state_->connections_active;
  s.connections_rejected = state_->connections_rejected;
  s.connections_shed = state_->connections_shed;
  s.requests = state_->requests;
  s.bad_requests = state_->bad_requests;
  s.timeouts = state_->timeouts;
  return s;
}

}  // namespace hostpulse
