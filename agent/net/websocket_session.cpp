#include "agent/net/websocket_session.hpp"

#include <chrono>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "base/log.hpp"
#include "agent/api/access_control.hpp"
#include "agent/pipeline/series_selector.hpp"
#include "agent/stream/messages.hpp"
#include "agent/stream/protocol.hpp"
#include "agent/stream/stream_service.hpp"
#include "base/version.hpp"
#include "base/wall_clock.hpp"

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

// Token bucket for inbound messages: `rate` per second, bursts of twice that.
class RateLimiter {
 public:
  explicit RateLimiter(std::uint32_t rate) : rate_(rate), tokens_(2.0 * rate) {}
  bool allow(std::chrono::steady_clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(2.0 * rate_, tokens_ + elapsed * rate_);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

OutboundFrame control(std::string text) {
  return OutboundFrame{std::make_shared<const std::string>(std::move(text)), false, FrameKind::control, 0};
}

}  // namespace

// One WebSocket connection. Owns itself (shared_from_this); all of its state
// is touched only on its strand (the socket's executor). Reads client
// requests, writes frames from its bounded queue one at a time.
class WebSocketSession final : public StreamSession, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, std::shared_ptr<StreamService> service,
                   std::shared_ptr<const AccessControl> access, std::string remote_address)
      : ws_(std::move(stream)),
        service_owner_(std::move(service)),
        access_owner_(std::move(access)),
        service_(*service_owner_),
        access_(*access_owner_),
        remote_address_(std::move(remote_address)),
        queue_(OutboundQueueLimits{service_.options().max_queue_bytes, service_.options().max_lag_bytes}),
        rate_(service_.options().max_messages_per_second),
        close_timer_(ws_.get_executor()) {}

  ~WebSocketSession() override {
    if (admitted_) {
      service_.release(remote_address_);
      --service_.stats().sessions_active;
    }
    service_.stats().queue_bytes -= reported_queue_bytes_;
  }

  void start(http::request<http::string_body>&& request) {
    const StreamOptions& options = service_.options();
    const RequestCredentials credentials{header(request, http::field::authorization),
                                         header(request, http::field::sec_websocket_protocol),
                                         header(request, http::field::cookie), header(request, http::field::origin),
                                         header(request, http::field::host)};
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
          admitted_ = true;
          ++service_.stats().sessions_active;
          ++service_.stats().sessions_total;
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

  void deliver(const OutboundFrame& frame) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame] { self->enqueue(frame); });
  }

  void close_for_shutdown() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->accepted_) return self->abort_now();
      self->close_after_sending(close_code::going_away, "agent shutting down");
    });
  }

  void abort() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->abort_now(); });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return end(ec, "handshake");
    accepted_ = true;
    if (refusal_) return close_now(refusal_->first, refusal_->second);
    enqueue(OutboundFrame{service_.hello(), false, FrameKind::control, 0});
    if (auto active = service_.active_alerts_message()) enqueue(OutboundFrame{active, false, FrameKind::alert, 0});
    read();
  }

  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == websocket::error::message_too_big) {
      // Beast has already started the close with 1009.
      service_.stats().count_close(close_code::too_big);
      close_started_ = true;
      return end(ec, "reading");
    }
    if (ec) return end(ec, "reading");
    ++service_.stats().messages_received;
    const std::string text = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (!closing_) handle_message(text, ws_.got_text());
    if (!close_started_) read();
  }

  void handle_message(const std::string& text, bool is_text) {
    if (!rate_.allow(std::chrono::steady_clock::now())) {
      return protocol_error({}, error_code::rate_limited,
                            "more than " + std::to_string(service_.options().max_messages_per_second) +
                                " messages per second; message ignored");
    }
    if (!is_text) return protocol_error({}, error_code::binary_not_accepted, "requests are JSON text frames");
    ClientMessage message = parse_client_message(text);
    std::visit(
        [&](auto&& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, ProtocolError>) {
            protocol_error(m.id, m.code, m.message);
          } else if constexpr (std::is_same_v<T, SubscribeRequest>) {
            if (m.alerts) alerts_enabled_ = *m.alerts;
            service_.subscribe(shared_from_this(), std::move(m));
          } else if constexpr (std::is_same_v<T, UnsubscribeRequest>) {
            service_.unsubscribe(shared_from_this(), std::move(m));
          } else if constexpr (std::is_same_v<T, PingRequest>) {
            enqueue(control(encode_pong(m.id, wall_clock_ms())));
          } else if constexpr (std::is_same_v<T, HistoryRequest>) {
            answer_history(m);
          }
        },
        message);
  }

  void answer_history(const HistoryRequest& request) {
    const SchemaSnapshot schema = service_.schema();
    std::vector<std::uint32_t> series;
    const Status status = resolve_selectors(*schema, request.series, false, true, series);
    if (!status.ok()) return protocol_error(request.id, error_code::unknown_series, status.error);
    const History& history = service_.history();
    const std::size_t max_values = service_.options().max_history_values;
    // Refuse before copying when the whole history is asked for.
    Status size = Status::success();
    if (!request.since_seq && !request.last) size = check_history_reply_size(history.size(), series.size(), max_values);
    if (!size.ok()) return protocol_error(request.id, error_code::bad_field, size.error);
    HistoryColumns columns;
    if (request.since_seq) {
      columns = history.since_seq(*request.since_seq, series);
    } else if (request.last) {
      columns = history.since_time(wall_clock_ms() - request.last->count(), series);
    } else {
      columns = history.since_seq(0, series);
    }
    size = check_history_reply_size(columns.points(), series.size(), max_values);
    if (!size.ok()) return protocol_error(request.id, error_code::bad_field, size.error);
    auto reply = std::make_shared<const std::string>(encode_history_reply(request.id, *schema, columns));
    // Everything queued counts toward max_queue_bytes: a client that asks and
    // does not read gets an error, never an ever-growing queue.
    if (!queue_.fits(reply->size())) {
      return protocol_error(request.id, error_code::busy,
                            "reply of " + std::to_string(reply->size()) + " bytes does not fit the send queue (" +
                                std::to_string(queue_.bytes()) + " of " +
                                std::to_string(service_.options().max_queue_bytes) +
                                " bytes in use): read the frames already sent, or ask for fewer series or a shorter range");
    }
    enqueue(OutboundFrame{.bytes = std::move(reply), .binary = false, .kind = FrameKind::catch_up, .subscription = 0});
  }

  void protocol_error(const RequestId& id, std::string_view code, const std::string& message) {
    enqueue(OutboundFrame{std::make_shared<const std::string>(encode_error(id, code, message)), false,
                          FrameKind::error, 0});
  }

  void enqueue(const OutboundFrame& frame) {
    if (closing_) return;
    // Alerts before the handshake are covered by the snapshot sent after hello.
    if (frame.kind == FrameKind::alert && (!alerts_enabled_ || !accepted_)) return;
    // The hello sent after the handshake already holds this change.
    if (frame.kind == FrameKind::schema && !accepted_) return;
    if (frame.kind == FrameKind::error) {
      // Errors from this session and from the hub (unknown series, ...) alike.
      ++service_.stats().protocol_errors;
      if (++errors_ > service_.options().max_errors) {
        // The errors already queued explain the close: send them first.
        enqueue_unchecked(frame);
        return close_after_sending(close_code::policy, "too many bad requests");
      }
    }
    enqueue_unchecked(frame);
  }

  void enqueue_unchecked(const OutboundFrame& frame) {
    const OutboundQueue::PushResult result = queue_.push(frame);
    if (result == OutboundQueue::PushResult::replaced) ++service_.stats().frames_dropped;
    report_queue_bytes();
    if (result == OutboundQueue::PushResult::overloaded) {
      ++service_.stats().frames_dropped;
      return close_now(close_code::overloaded, "client too slow: send queue over its limit");
    }
    write_next();
  }

  void report_queue_bytes() {
    StreamStats& stats = service_.stats();
    const std::size_t now = queue_.bytes();
    stats.queue_bytes += now;
    stats.queue_bytes -= reported_queue_bytes_;
    reported_queue_bytes_ = now;
    std::uint64_t seen = stats.queue_bytes_max.load();
    while (now > seen && !stats.queue_bytes_max.compare_exchange_weak(seen, now)) {
    }
  }

  void write_next() {
    if (queue_.writing() || close_started_) return;
    if (queue_.empty()) {
      if (pending_close_) start_close(pending_close_->first, pending_close_->second);
      return;
    }
    queue_.begin_write();
    const OutboundFrame& frame = queue_.front();
    ws_.binary(frame.binary);
    ws_.async_write(asio::buffer(*frame.bytes),
                    [self = shared_from_this(), keep = frame.bytes](beast::error_code ec, std::size_t bytes) {
                      self->on_write(ec, bytes);
                    });
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    if (ec) return end(ec, "writing");
    ++service_.stats().frames_sent;
    service_.stats().bytes_sent += bytes;
    queue_.complete_write();
    report_queue_bytes();
    write_next();
  }

  // Close once the queue is empty (a final flush), e.g. on shutdown.
  void close_after_sending(std::uint16_t code, std::string reason) {
    if (closing_) return;
    closing_ = true;
    pending_close_ = {code, std::move(reason)};
    write_next();
    arm_close_deadline();
  }

  // Close as soon as the frame being written (if any) is out; drop the rest.
  void close_now(std::uint16_t code, std::string reason) {
    if (closing_ && close_started_) return;
    closing_ = true;
    queue_.clear_waiting();
    report_queue_bytes();
    pending_close_ = {code, std::move(reason)};
    write_next();
    arm_close_deadline();
  }

  // A peer that stopped reading never lets the close frame out: give up on
  // the handshake after a moment and drop the connection.
  void arm_close_deadline() {
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      if (!self->close_counted_ && self->pending_close_) {
        self->service_.stats().count_close(self->pending_close_->first);
        self->close_counted_ = true;
      }
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->ws_).close();
    });
  }

  void abort_now() {
    close_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  void start_close(std::uint16_t code, const std::string& reason) {
    if (close_started_) return;
    close_started_ = true;
    if (!close_counted_) {
      service_.stats().count_close(code);
      close_counted_ = true;
    }
    websocket::close_reason close_reason(reason);
    close_reason.code = code;
    ws_.async_close(close_reason, [self = shared_from_this()](beast::error_code ec) {
      self->close_timer_.cancel();
      if (ec) spdlog::debug("stream {}: close: {}", self->remote_address_, ec.message());
    });
  }

  // The connection is over (error, peer close, or our close completed).
  void end(beast::error_code ec, std::string_view what) {
    if (!ended_) {
      ended_ = true;
      if (!close_counted_) {
        // The peer closed with its code, or the connection just dropped (1006).
        service_.stats().count_close(ec == websocket::error::closed ? static_cast<std::uint16_t>(ws_.reason().code) : 1006);
        close_counted_ = true;
      }
      service_.detach(this);
    }
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
  OutboundQueue queue_;
  RateLimiter rate_;
  asio::steady_timer close_timer_;
  beast::flat_buffer read_buffer_;
  std::optional<std::pair<std::uint16_t, std::string>> refusal_;
  std::optional<std::pair<std::uint16_t, std::string>> pending_close_;
  std::uint32_t errors_ = 0;
  std::size_t reported_queue_bytes_ = 0;
  bool admitted_ = false;
  bool accepted_ = false;
  bool alerts_enabled_ = true;
  bool closing_ = false;
  bool close_started_ = false;
  bool close_counted_ = false;
  bool ended_ = false;
};

void start_websocket_session(beast::tcp_stream&& stream, http::request<http::string_body>&& request,
                             std::shared_ptr<StreamService> service, std::shared_ptr<const AccessControl> access,
                             std::string remote_address) {
  std::make_shared<WebSocketSession>(std::move(stream), std::move(service), std::move(access),
                                     std::move(remote_address))
      ->start(std::move(request));
}

}  // namespace hostpulse
