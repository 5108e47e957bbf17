#include "agent/stream/stream_connection.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

#include "agent/stream/history_query.hpp"
#include "agent/stream/messages.hpp"
#include "agent/stream/stream_service.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {

namespace {

OutboundFrame frame_of(FrameKind kind, std::string text) {
  return OutboundFrame{
      .bytes = std::make_shared<const std::string>(std::move(text)), .binary = false, .kind = kind, .subscription = 0};
}

}  // namespace

bool MessageRateLimiter::allow(std::chrono::steady_clock::time_point now) {
  if (last_) {
    const double elapsed = std::chrono::duration<double>(now - *last_).count();
    tokens_ = std::min(2.0 * rate_, tokens_ + elapsed * rate_);
  }
  last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

StreamConnection::StreamConnection(StreamService& service, StreamEndpoint& endpoint)
    : service_(service),
      endpoint_(endpoint),
      queue_(OutboundQueueLimits{.max_bytes = service.options().max_queue_bytes,
                                 .max_lag_bytes = service.options().max_lag_bytes}),
      rate_(service.options().max_messages_per_second) {}

StreamConnection::~StreamConnection() { service_.stats().queue_bytes -= reported_queue_bytes_; }

void StreamConnection::on_open() {
  if (phase_ != Phase::handshaking) return;
  phase_ = Phase::open;
  enqueue(OutboundFrame{.bytes = service_.hello(), .binary = false, .kind = FrameKind::control, .subscription = 0});
  if (auto active = service_.active_alerts_message()) {
    enqueue(OutboundFrame{.bytes = std::move(active), .binary = false, .kind = FrameKind::alert, .subscription = 0});
  }
}

void StreamConnection::refuse(std::uint16_t code, std::string reason) { close_now(code, std::move(reason)); }

void StreamConnection::on_message(std::string_view bytes, bool binary, std::chrono::steady_clock::time_point now) {
  ++service_.stats().messages_received;
  // Once a close is decided the client's requests no longer matter.
  if (phase_ != Phase::open) return;
  if (!rate_.allow(now)) {
    return protocol_error({}, error_code::rate_limited,
                          "more than " + std::to_string(service_.options().max_messages_per_second) +
                              " messages per second; message ignored");
  }
  if (binary) return protocol_error({}, error_code::binary_not_accepted, "requests are JSON text frames");
  dispatch(bytes);
}

void StreamConnection::dispatch(std::string_view text) {
  ClientMessage message = parse_client_message(text);
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ProtocolError>) {
          protocol_error(m.id, m.code, m.message);
        } else if constexpr (std::is_same_v<T, SubscribeRequest>) {
          if (m.alerts) alerts_enabled_ = *m.alerts;
          endpoint_.subscribe(std::move(m));
        } else if constexpr (std::is_same_v<T, UnsubscribeRequest>) {
          endpoint_.unsubscribe(std::move(m));
        } else if constexpr (std::is_same_v<T, PingRequest>) {
          enqueue(frame_of(FrameKind::control, encode_pong(m.id, wall_clock_ms())));
        } else if constexpr (std::is_same_v<T, HistoryRequest>) {
          answer_history(m);
        }
      },
      message);
}

void StreamConnection::answer_history(const HistoryRequest& request) {
  const SchemaSnapshot schema = service_.schema();
  HistoryAnswer answer =
      hostpulse::answer_history(request, *schema, service_.history(), service_.options().max_history_values,
                                wall_clock_ms());
  if (const auto* error = std::get_if<ProtocolError>(&answer)) {
    return protocol_error(error->id, error->code, error->message);
  }
  auto reply = std::make_shared<const std::string>(std::move(std::get<std::string>(answer)));
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

void StreamConnection::protocol_error(const RequestId& id, std::string_view code, std::string_view message) {
  enqueue(frame_of(FrameKind::error, encode_error(id, code, message)));
}

void StreamConnection::deliver(const OutboundFrame& frame) { enqueue(frame); }

void StreamConnection::enqueue(const OutboundFrame& frame) {
  if (phase_ != Phase::handshaking && phase_ != Phase::open) return;
  // Alerts before the handshake are covered by the snapshot sent after hello.
  if (frame.kind == FrameKind::alert && (!alerts_enabled_ || phase_ == Phase::handshaking)) return;
  // The hello sent after the handshake already holds this change.
  if (frame.kind == FrameKind::schema && phase_ == Phase::handshaking) return;
  if (frame.kind == FrameKind::error) {
    // Errors from this connection and from the hub (unknown series, ...) alike.
    ++service_.stats().protocol_errors;
    if (++errors_ > service_.options().max_errors) {
      // The errors already queued explain the close: send them first.
      push(frame);
      return close_after_sending(close_code::policy, "too many bad requests");
    }
  }
  push(frame);
}

void StreamConnection::push(const OutboundFrame& frame) {
  const OutboundQueue::PushResult result = queue_.push(frame);
  if (result == OutboundQueue::PushResult::replaced) ++service_.stats().frames_dropped;
  report_queue_bytes();
  if (result == OutboundQueue::PushResult::overloaded) {
    ++service_.stats().frames_dropped;
    return close_now(close_code::overloaded, "client too slow: send queue over its limit");
  }
  write_next();
}

void StreamConnection::report_queue_bytes() {
  StreamStats& stats = service_.stats();
  const std::size_t now = queue_.bytes();
  stats.queue_bytes += now;
  stats.queue_bytes -= reported_queue_bytes_;
  reported_queue_bytes_ = now;
  std::uint64_t seen = stats.queue_bytes_max.load();
  while (now > seen && !stats.queue_bytes_max.compare_exchange_weak(seen, now)) {
  }
}

void StreamConnection::write_next() {
  // Nothing goes out before the handshake is done or after the close frame.
  if (phase_ != Phase::open && phase_ != Phase::closing_after_send) return;
  if (queue_.writing()) return;
  if (queue_.empty()) {
    if (phase_ == Phase::closing_after_send) start_close();
    return;
  }
  queue_.begin_write();
  endpoint_.write(queue_.front());
}

void StreamConnection::on_write_done(std::size_t bytes) {
  if (!queue_.writing()) return;
  ++service_.stats().frames_sent;
  service_.stats().bytes_sent += bytes;
  queue_.complete_write();
  report_queue_bytes();
  write_next();
}

bool StreamConnection::close_for_shutdown() {
  if (phase_ == Phase::handshaking) return false;
  close_after_sending(close_code::going_away, "agent shutting down");
  return true;
}

// A final flush: close once the queue is empty.
void StreamConnection::close_after_sending(std::uint16_t code, std::string reason) {
  if (phase_ != Phase::open) return;
  phase_ = Phase::closing_after_send;
  pending_close_ = PendingClose{.code = code, .reason = std::move(reason)};
  // The deadline covers the flush and the close handshake after it.
  endpoint_.close_decided();
  write_next();
}

// Close as soon as the frame being written (if any) is out; drop the rest.
// Replaces a gentler close still flushing (an overload during shutdown's
// flush closes with 1013, not 1001).
void StreamConnection::close_now(std::uint16_t code, std::string reason) {
  if (phase_ == Phase::closing || phase_ == Phase::closed) return;
  // Refused at the handshake: nothing was queued, the close frame goes at once.
  phase_ = Phase::closing_after_send;
  queue_.clear_waiting();
  report_queue_bytes();
  pending_close_ = PendingClose{.code = code, .reason = std::move(reason)};
  endpoint_.close_decided();
  write_next();
}

void StreamConnection::start_close() {
  phase_ = Phase::closing;
  service_.stats().count_close(pending_close_.code);
  endpoint_.send_close(pending_close_.code, pending_close_.reason);
}

void StreamConnection::on_close_deadline() {
  if (phase_ != Phase::closing_after_send) return;
  // The close frame never got out: the connection ends with the code we chose.
  phase_ = Phase::closing;
  service_.stats().count_close(pending_close_.code);
}

void StreamConnection::on_transport_close(std::uint16_t code) {
  if (phase_ == Phase::closing || phase_ == Phase::closed) return;
  phase_ = Phase::closing;
  queue_.clear_waiting();
  report_queue_bytes();
  service_.stats().count_close(code);
}

bool StreamConnection::on_end(std::uint16_t code) {
  if (phase_ == Phase::closed) return false;
  // A close we started is counted with our code; otherwise the peer's (or
  // 1006 for a connection that just dropped).
  if (phase_ != Phase::closing) service_.stats().count_close(code);
  phase_ = Phase::closed;
  queue_.clear_waiting();
  report_queue_bytes();
  return true;
}

}  // namespace hostpulse
