#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace hostpulse {

enum class FrameKind : std::uint8_t {
  control,   // replies, hello, errors: never dropped
  samples,   // live metric frames: a newer frame of the same subscription replaces a waiting one
  catch_up,  // resume/history points: never dropped (bounded by history size)
  alert,     // alert events: never dropped
  error,     // error replies: never dropped; sessions count them toward max_errors
  schema,    // series added/retired: never dropped; before the handshake the hello covers them
};

// One message on its way to a client. The bytes are shared: the hub encodes a
// frame once and every subscriber's queue holds the same buffer.
struct OutboundFrame {
  std::shared_ptr<const std::string> bytes;
  bool binary = false;
  FrameKind kind = FrameKind::control;
  std::uint32_t subscription = 0;  // for samples frames
};

// Bounds on one session's queue (STYLE rule 9: every queue is bounded and
// names its overflow policy).
struct OutboundQueueLimits {
  // Total bytes waiting, of every kind (samples, catch-up, replies, errors,
  // alerts); past it the session is overloaded and closed with 1013.
  std::size_t max_bytes = 8u << 20;
  // Samples bytes replaced (dropped) since the last completed write; a client
  // that falls this far behind is stalled, not slow, and is closed with 1013.
  std::size_t max_lag_bytes = 1u << 20;
};

// Per-session outbound queue. Policy: samples are "newest wins" per
// subscription (a waiting frame is replaced, the drop counted, and the
// client sees a gap in seq); everything else is kept in order and never
// dropped: past max_bytes the connection is overloaded (1013). The front
// frame, once being written, is never replaced. Not thread-safe: a session
// uses it from its own strand.
class OutboundQueue {
 public:
  enum class PushResult { queued, replaced, overloaded };

  explicit OutboundQueue(OutboundQueueLimits limits = {}) : limits_(limits) {}

  PushResult push(OutboundFrame frame);

  [[nodiscard]] bool empty() const { return frames_.empty(); }
  [[nodiscard]] std::size_t size() const { return frames_.size(); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] const OutboundFrame& front() const { return frames_.front(); }

  // The front frame is being written: from now on it stays as it is.
  void begin_write() { writing_ = true; }
  // The front frame was written: remove it; the client is keeping up again.
  void complete_write();
  // Drops everything not yet being written (closing with an error).
  void clear_waiting();

  [[nodiscard]] bool writing() const { return writing_; }
  [[nodiscard]] std::uint64_t dropped_frames() const { return dropped_frames_; }
  [[nodiscard]] std::uint64_t dropped_bytes() const { return dropped_bytes_; }
  [[nodiscard]] std::size_t lag_bytes() const { return lag_bytes_; }
  [[nodiscard]] bool over_limit() const { return bytes_ > limits_.max_bytes; }
  // Whether a frame of this size can be queued without going over the limit
  // (a reply the client asked for is refused with an error rather than
  // closing the connection).
  [[nodiscard]] bool fits(std::size_t frame_bytes) const {
    return bytes_ <= limits_.max_bytes && frame_bytes <= limits_.max_bytes - bytes_;
  }

 private:
  static std::size_t size_of(const OutboundFrame& frame) { return frame.bytes ? frame.bytes->size() : 0; }

  OutboundQueueLimits limits_;
  std::deque<OutboundFrame> frames_;
  std::size_t bytes_ = 0;
  std::size_t lag_bytes_ = 0;
  bool writing_ = false;
  std::uint64_t dropped_frames_ = 0;
  std::uint64_t dropped_bytes_ = 0;
};

}  // namespace hostpulse
