#include "agent/stream/outbound_queue.hpp"

namespace hostpulse {

OutboundQueue::PushResult OutboundQueue::push(OutboundFrame frame) {
  const std::size_t size = size_of(frame);
  if (frame.kind == FrameKind::samples) {
    // Newest wins: replace a waiting frame of the same subscription.
    for (std::size_t i = writing_ ? 1 : 0; i < frames_.size(); ++i) {
      OutboundFrame& waiting = frames_[i];
      if (waiting.kind == FrameKind::samples && waiting.subscription == frame.subscription) {
        const std::size_t old_size = size_of(waiting);
        ++dropped_frames_;
        dropped_bytes_ += old_size;
        lag_bytes_ += old_size;
        bytes_ = bytes_ - old_size + size;
        waiting = std::move(frame);
        if (lag_bytes_ > limits_.max_lag_bytes || over_limit()) return PushResult::overloaded;
        return PushResult::replaced;
      }
    }
  }
  bytes_ += size;
  frames_.push_back(std::move(frame));
  return over_limit() ? PushResult::overloaded : PushResult::queued;
}

void OutboundQueue::complete_write() {
  if (frames_.empty()) return;
  bytes_ -= size_of(frames_.front());
  frames_.pop_front();
  writing_ = false;
  lag_bytes_ = 0;
}

void OutboundQueue::clear_waiting() {
  const std::size_t keep = writing_ && !frames_.empty() ? 1 : 0;
  while (frames_.size() > keep) {
    bytes_ -= size_of(frames_.back());
    frames_.pop_back();
  }
}

}  // namespace hostpulse
