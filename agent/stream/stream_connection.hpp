#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/stream/outbound_queue.hpp"
#include "agent/stream/protocol.hpp"

namespace hostpulse {

class StreamService;

// The socket side of a StreamConnection: the WebSocket session in the agent,
// a recording fake in tests. Every call comes from the connection's own
// thread (the session's strand) and must not call back into the connection.
class StreamEndpoint {
 public:
  virtual ~StreamEndpoint() = default;
  // Send this frame; answer with StreamConnection::on_write_done() once it is
  // out. Never called while a write is under way.
  virtual void write(const OutboundFrame& frame) = 0;
  // A close is decided (called again when a harder close replaces it): bound
  // how long it may take, since a peer that stopped reading never lets the
  // close frame out.
  virtual void close_decided() = 0;
  // Start the close handshake with this code; nothing is written after it.
  virtual void send_close(std::uint16_t code, std::string_view reason) = 0;
  // The hub's requests, made under the endpoint's identity: it is the
  // subscriber the hub delivers to (the frames come back through deliver()).
  virtual void subscribe(SubscribeRequest request) = 0;
  virtual void unsubscribe(UnsubscribeRequest request) = 0;
};

// Token bucket for inbound messages: `rate` per second, bursts of twice that.
// Time is a parameter, so a test decides when a second has passed.
class MessageRateLimiter {
 public:
  explicit MessageRateLimiter(std::uint32_t rate) : rate_(rate), tokens_(2.0 * rate) {}
  bool allow(std::chrono::steady_clock::time_point now);

 private:
  double rate_;
  double tokens_;
  // The bucket starts full, so the first message needs no refill.
  std::optional<std::chrono::steady_clock::time_point> last_;
};

// One stream connection without its socket: what to send, in which order,
// and when to close. It answers the client's requests (ping, history) and
// hands subscriptions to the service, owns the bounded outbound queue, the
// rate limit, the error count and the alerts switch, and walks through its
// phases; the endpoint only moves bytes. Not thread-safe: one strand uses it.
class StreamConnection {
 public:
  enum class Phase : std::uint8_t {
    // The WebSocket handshake is under way: nothing is written; alerts and
    // schema changes are dropped (hello and the active alerts cover them).
    handshaking,
    // Requests answered, frames queued and written.
    open,
    // A close is decided: what is queued goes out, then the close frame;
    // requests are read and ignored, nothing new is queued.
    closing_after_send,
    // The close frame is sent, or the connection is being dropped: nothing
    // more is written or read; its close code is counted.
    closing,
    // The connection is over.
    closed,
  };

  // `service` gives the options, statistics, hello, active alerts, schema
  // and history; both must outlive the connection.
  StreamConnection(StreamService& service, StreamEndpoint& endpoint);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // The handshake is done: hello, then the active alerts, then whatever the
  // client asks for.
  void on_open();
  // The handshake is done but access was refused before it: close with this
  // code at once (a browser sees only close codes, never an HTTP status).
  void refuse(std::uint16_t code, std::string reason);
  // One complete message from the client.
  void on_message(std::string_view bytes, bool binary, std::chrono::steady_clock::time_point now);
  // A frame for this client: from the hub, the service or this connection.
  void deliver(const OutboundFrame& frame);
  // The frame handed to StreamEndpoint::write() is out (`bytes` on the wire).
  void on_write_done(std::size_t bytes);
  // Shutdown: close with 1001 once everything queued is sent. False while
  // the handshake is under way (nothing to flush): drop the connection.
  [[nodiscard]] bool close_for_shutdown();
  // The close decided earlier did not finish in time; the endpoint drops the
  // connection.
  void on_close_deadline();
  // The transport started a close of its own (Beast answers an oversized
  // message with 1009).
  void on_transport_close(std::uint16_t code);
  // The connection is over: an error, the peer's close (its code) or ours.
  // `code` is counted unless a close was counted already. True the first
  // time, so the caller detaches from the service once.
  bool on_end(std::uint16_t code);

  [[nodiscard]] Phase phase() const { return phase_; }
  // Whether the endpoint should read the next message.
  [[nodiscard]] bool reading() const { return phase_ == Phase::open || phase_ == Phase::closing_after_send; }
  [[nodiscard]] bool alerts_enabled() const { return alerts_enabled_; }
  [[nodiscard]] std::size_t queued_bytes() const { return queue_.bytes(); }
  [[nodiscard]] std::uint32_t errors() const { return errors_; }

 private:
  struct PendingClose {
    std::uint16_t code = 0;
    std::string reason;
  };

  void dispatch(std::string_view text);
  void answer_history(const HistoryRequest& request);
  void protocol_error(const RequestId& id, std::string_view code, std::string_view message);
  void enqueue(const OutboundFrame& frame);
  void push(const OutboundFrame& frame);
  void report_queue_bytes();
  void write_next();
  void close_after_sending(std::uint16_t code, std::string reason);
  void close_now(std::uint16_t code, std::string reason);
  void start_close();

  StreamService& service_;
  StreamEndpoint& endpoint_;
  OutboundQueue queue_;
  MessageRateLimiter rate_;
  PendingClose pending_close_;  // meaningful from closing_after_send on
  std::uint32_t errors_ = 0;
  std::size_t reported_queue_bytes_ = 0;
  Phase phase_ = Phase::handshaking;
  bool alerts_enabled_ = true;
};

}  // namespace hostpulse
