#include "agent/net/http_server.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_set>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "agent/log.hpp"
#include "agent/net/websocket_session.hpp"
#include "agent/version.hpp"

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
  StreamService* stream = nullptr;
  const AccessControl* access = nullptr;

  // Sessions register themselves so stop() can close them all.
  std::mutex sessions_mutex;
  std::unordered_set<HttpSession*> sessions;

  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_active{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> timeouts{0};

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
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
  HttpSession(tcp::socket&& socket, std::shared_ptr<HttpServer::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = endpoint.address().to_string();
    ++state_->connections_total;
    ++state_->connections_active;
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.insert(this);
  }

  ~HttpSession() {
    --state_->connections_active;
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.erase(this);
  }

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
    if (state_->stream != nullptr && beast::websocket::is_upgrade(parser_->get()) &&
        parser_->get().target().substr(0, kStreamPath.size()) == kStreamPath &&
        (parser_->get().target().size() == kStreamPath.size() || parser_->get().target()[kStreamPath.size()] == '?')) {
      ++state_->requests;
      // The WebSocket session takes the socket; this HTTP session ends here.
      return start_websocket_session(std::move(stream_), parser_->release(), *state_->stream, *state_->access,
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
                     field(http::field::accept_encoding), field(http::field::if_none_match)};
    HttpResponse response;
    try {
      response = state_->handler(view);
    } catch (const std::exception& e) {
      spdlog::error("request handler failed for {}: {}", view.target, e.what());
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

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> state_;
  std::string remote_address_;
  std::uint64_t requests_served_ = 0;
  std::chrono::steady_clock::time_point request_deadline_{};
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
      if (connections_active > options.max_connections) {
        ++connections_rejected;
        session->reject();
      } else {
        session->run();
      }
    }
    accept();
  }
}

HttpServer::HttpServer(asio::io_context& io, ListenAddress address, HttpOptions options, RequestHandler handler)
    : state_(std::make_shared<State>(io, std::move(address), options, std::move(handler))) {
  state_->shared_self = state_;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::enable_stream(StreamService& service, const AccessControl& access) {
  state_->stream = &service;
  state_->access = &access;
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
  s.requests = state_->requests;
  s.bad_requests = state_->bad_requests;
  s.timeouts = state_->timeouts;
  return s;
}

}  // namespace hostpulse
