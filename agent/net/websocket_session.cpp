#include "agent/net/websocket_session.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "base/log.hpp"
#include "agent/api/access_control.hpp"
#include "agent/stream/stream_connection.hpp"
#include "agent/stream/stream_service.hpp"
#include "base/version.hpp"

namespace hostpulse {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

std::string_view header(const http::request<http::string_body>& request, http::field field) {
  const auto it = request.find(field);
  return it == request.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
}

// A close we decided must finish within this; a peer that stopped reading
// never lets the close frame out, and then the connection is dropped.
constexpr std::chrono::seconds kCloseDeadline{2};

// The stream connection slot admitted for one address, given back when the
// session is destroyed.
class AdmissionSlot {
 public:
  AdmissionSlot(StreamService& service, std::string remote_address)
      : service_(service), remote_address_(std::move(remote_address)) {
    ++service_.stats().sessions_active;
    ++service_.stats().sessions_total;
  }
  ~AdmissionSlot() {
    service_.release(remote_address_);
    --service_.stats().sessions_active;
  }
  AdmissionSlot(const AdmissionSlot&) = delete;
  AdmissionSlot& operator=(const AdmissionSlot&) = delete;

 private:
  StreamService& service_;
  std::string remote_address_;
};

}  // namespace

// One WebSocket connection: the byte pump between its socket and its
// StreamConnection, which decides what is sent and when to close. Owns
// itself (shared_from_this); all of its state is touched only on its strand
// (the socket's executor).
class WebSocketSession final : public StreamSession,
                               public StreamEndpoint,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, std::shared_ptr<StreamService> service,
                   std::shared_ptr<const AccessControl> access, std::string remote_address)
      : ws_(std::move(stream)),
        service_owner_(std::move(service)),
        access_owner_(std::move(access)),
        service_(*service_owner_),
        access_(*access_owner_),
        remote_address_(std::move(remote_address)),
        connection_(service_, *this),
        close_timer_(ws_.get_executor()) {}

  void start(http::request<http::string_body>&& request) {
    const StreamOptions& options = service_.options();
    const RequestCredentials credentials{.authorization = header(request, http::field::authorization),
                                         .protocols = header(request, http::field::sec_websocket_protocol),
                                         .cookie = header(request, http::field::cookie),
                                         .origin = header(request, http::field::origin),
                                         .host = header(request, http::field::host)};
    // Decide now, close after the handshake: a browser only sees a close
    // code, never the HTTP status of a refused upgrade.
    if (!access_.host_allowed(credentials)) {
      refusal_ = {close_code::policy, "host not allowed (allowed_hosts)"};
    } else if (!access_.origin_allowed(credentials)) {
      refusal_ = {close_code::policy, "origin not allowed"};
    } else if (!access_.authorized(credentials)) {
      refusal_ = {close_code::unauthorized, "unauthorized: send a bearer token"};
    } else {
      switch (service_.admit(remote_address_)) {
        case StreamService::Admission::admitted:
          admission_.emplace(service_, remote_address_);
          break;
        case StreamService::Admission::too_many:
          refusal_ = {close_code::overloaded, "too many stream connections"};
          break;
        case StreamService::Admission::too_many_from_address:
          refusal_ = {close_code::policy, "too many stream connections from this address"};
          break;
      }
    }
    if (refusal_) ++service_.stats().sessions_rejected;

    if (options.socket_send_buffer_bytes > 0) {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().set_option(
          asio::socket_base::send_buffer_size(static_cast<int>(options.socket_send_buffer_bytes)), ignored);
    }
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts below take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.handshake_timeout;
    timeouts.idle_timeout = 2 * options.ping_interval;  // Beast pings at half of this
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(options.max_message_bytes);
    const bool select_protocol = AccessControl::offers_stream_subprotocol(credentials.protocols);
    ws_.set_option(websocket::stream_base::decorator([select_protocol](websocket::response_type& response) {
      response.set(http::field::server, "hostpulse/" + std::string(kVersion));
      if (select_protocol) response.set(http::field::sec_websocket_protocol, kStreamSubprotocol);
    }));
    // Registered from the start, so shutdown can reach connections still in their handshake.
    service_.attach(shared_from_this());
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  // StreamSession: called from the service's strand.
  void deliver(const OutboundFrame& frame) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame] { self->connection_.deliver(frame); });
  }

  void close_for_shutdown() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->connection_.close_for_shutdown()) self->abort_now();
    });
  }

  void abort() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->abort_now(); });
  }

 private:
  // StreamEndpoint: called by connection_, on the strand.
  void write(const OutboundFrame& frame) override {
    ws_.binary(frame.binary);
    ws_.async_write(asio::buffer(*frame.bytes),
                    [self = shared_from_this(), keep = frame.bytes](beast::error_code ec, std::size_t bytes) {
                      self->on_write(ec, bytes);
                    });
  }

  void close_decided() override {
    close_timer_.expires_after(kCloseDeadline);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->connection_.on_close_deadline();
      self->drop_socket();
    });
  }

  void send_close(std::uint16_t code, std::string_view reason) override {
    websocket::close_reason close_reason(reason);
    close_reason.code = code;
    ws_.async_close(close_reason, [self = shared_from_this()](beast::error_code ec) {
      self->close_timer_.cancel();
      if (ec) spdlog::debug("stream {}: close: {}", self->remote_address_, ec.message());
    });
  }

  void subscribe(SubscribeRequest request) override { service_.subscribe(shared_from_this(), std::move(request)); }
  void unsubscribe(UnsubscribeRequest request) override {
    service_.unsubscribe(shared_from_this(), std::move(request));
  }

  void on_accept(beast::error_code ec) {
    if (ec) return end(ec, "handshake");
    if (refusal_) return connection_.refuse(refusal_->first, std::move(refusal_->second));
    connection_.on_open();
    read();
  }

  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == websocket::error::message_too_big) {
      // Beast has already started the close with 1009.
      connection_.on_transport_close(close_code::too_big);
      return end(ec, "reading");
    }
    if (ec) return end(ec, "reading");
    const auto data = read_buffer_.cdata();
    connection_.on_message(std::string_view(static_cast<const char*>(data.data()), data.size()), !ws_.got_text(),
                           std::chrono::steady_clock::now());
    read_buffer_.consume(read_buffer_.size());
    if (connection_.reading()) read();
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    if (ec) return end(ec, "writing");
    connection_.on_write_done(bytes);
  }

  void drop_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  void abort_now() {
    close_timer_.cancel();
    drop_socket();
  }

  // The connection is over (error, peer close, or our close completed).
  void end(beast::error_code ec, std::string_view what) {
    // The peer closed with its code, or the connection just dropped.
    const std::uint16_t code =
        ec == websocket::error::closed ? static_cast<std::uint16_t>(ws_.reason().code) : close_code::abnormal;
    if (connection_.on_end(code)) service_.detach(this);
    if (ec != websocket::error::closed && ec != asio::error::operation_aborted && ec != asio::error::eof) {
      spdlog::debug("stream {}: {}: {}", remote_address_, what, ec.message());
    }
    close_timer_.cancel();
  }

  websocket::stream<beast::tcp_stream> ws_;
  // Shared ownership: a session that outlives the server (its last handler
  // destroyed with the io_context) still finds what its destructor uses.
  std::shared_ptr<StreamService> service_owner_;
  std::shared_ptr<const AccessControl> access_owner_;
  StreamService& service_;
  const AccessControl& access_;
  std::string remote_address_;
  std::optional<AdmissionSlot> admission_;
  StreamConnection connection_;
  asio::steady_timer close_timer_;
  beast::flat_buffer read_buffer_;
  std::optional<std::pair<std::uint16_t, std::string>> refusal_;
};

void start_websocket_session(beast::tcp_stream&& stream, http::request<http::string_body>&& request,
                             std::shared_ptr<StreamService> service, std::shared_ptr<const AccessControl> access,
                             std::string remote_address) {
  std::make_shared<WebSocketSession>(std::move(stream), std::move(service), std::move(access),
                                     std::move(remote_address))
      ->start(std::move(request));
}

}  // namespace hostpulse
