#include "agent/stream/outbound_queue.hpp"

#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

namespace hostpulse {

// Readable failure messages (found by argument-dependent lookup).
inline void PrintTo(OutboundQueue::PushResult result, std::ostream* out) {
  switch (result) {
    case OutboundQueue::PushResult::queued: *out << "queued"; return;
    case OutboundQueue::PushResult::replaced: *out << "replaced"; return;
    case OutboundQueue::PushResult::overloaded: *out << "overloaded"; return;
  }
  *out << "PushResult(" << static_cast<int>(result) << ")";
}

namespace {

using Result = OutboundQueue::PushResult;

OutboundFrame frame(FrameKind kind, std::uint32_t subscription, std::size_t size, char fill = 'x') {
  return OutboundFrame{std::make_shared<const std::string>(size, fill), kind == FrameKind::samples, kind, subscription};
}
OutboundFrame samples(std::uint32_t subscription, std::size_t size, char fill = 'x') {
  return frame(FrameKind::samples, subscription, size, fill);
}
OutboundFrame control(std::size_t size, char fill = 'c') { return frame(FrameKind::control, 0, size, fill); }

// The fill characters of the waiting frames, front first.
std::string contents(OutboundQueue& queue) {
  std::string order;
  OutboundQueue copy = queue;
  while (!copy.empty()) {
    order.push_back(copy.front().bytes && !copy.front().bytes->empty() ? copy.front().bytes->front() : '-');
    copy.complete_write();
  }
  return order;
}

TEST(OutboundQueueTest, KeepsEverythingInOrderAndCountsBytes) {
  OutboundQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.push(control(10, 'a')), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 20, 'b')), Result::queued);
  EXPECT_EQ(queue.push(frame(FrameKind::catch_up, 1, 30, 'c')), Result::queued);
  EXPECT_EQ(queue.push(frame(FrameKind::alert, 0, 40, 'd')), Result::queued);
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(queue.bytes(), 100u);
  EXPECT_EQ(contents(queue), "abcd");
  EXPECT_EQ(queue.front().bytes->size(), 10u);
  EXPECT_EQ(queue.dropped_frames(), 0u);
}

TEST(OutboundQueueTest, NewestSamplesFrameWinsPerSubscription) {
  OutboundQueue queue;
  ASSERT_EQ(queue.push(samples(1, 10, 'a')), Result::queued);
  ASSERT_EQ(queue.push(control(5, 'k')), Result::queued);
  ASSERT_EQ(queue.push(samples(2, 7, 'z')), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 25, 'b')), Result::replaced);
  // Replaced in place: the subscription keeps its slot; other frames stay.
  EXPECT_EQ(contents(queue), "bkz");
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.bytes(), 25u + 5u + 7u);
  EXPECT_EQ(queue.dropped_frames(), 1u);
  EXPECT_EQ(queue.dropped_bytes(), 10u);
  EXPECT_EQ(queue.lag_bytes(), 10u);
  EXPECT_EQ(queue.front().bytes->size(), 25u);

  EXPECT_EQ(queue.push(samples(1, 3, 'c')), Result::replaced);
  EXPECT_EQ(contents(queue), "ckz");
  EXPECT_EQ(queue.bytes(), 3u + 5u + 7u);
  EXPECT_EQ(queue.dropped_frames(), 2u);
  EXPECT_EQ(queue.dropped_bytes(), 35u);
  EXPECT_EQ(queue.lag_bytes(), 35u);
}

TEST(OutboundQueueTest, OtherKindsAreNeverReplaced) {
  OutboundQueue queue;
  for (FrameKind kind : {FrameKind::control, FrameKind::catch_up, FrameKind::alert}) {
    ASSERT_EQ(queue.push(frame(kind, 1, 10)), Result::queued);
    ASSERT_EQ(queue.push(frame(kind, 1, 10)), Result::queued);
  }
  EXPECT_EQ(queue.size(), 6u);
  // A samples frame does not replace a catch-up frame of its subscription either.
  EXPECT_EQ(queue.push(samples(1, 10)), Result::queued);
  EXPECT_EQ(queue.size(), 7u);
  EXPECT_EQ(queue.dropped_frames(), 0u);
  EXPECT_EQ(queue.lag_bytes(), 0u);
}

TEST(OutboundQueueTest, TheFrameBeingWrittenIsNeverReplaced) {
  OutboundQueue queue;
  ASSERT_EQ(queue.push(samples(1, 10, 'a')), Result::queued);
  queue.begin_write();
  EXPECT_TRUE(queue.writing());
  const std::shared_ptr<const std::string> in_flight = queue.front().bytes;
  EXPECT_EQ(queue.push(samples(1, 20, 'b')), Result::queued);
  EXPECT_EQ(queue.front().bytes, in_flight);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.push(samples(1, 30, 'c')), Result::replaced);  // the waiting one is
  EXPECT_EQ(queue.front().bytes, in_flight);
  EXPECT_EQ(contents(queue), "ac");
  EXPECT_EQ(queue.bytes(), 40u);
  EXPECT_EQ(queue.lag_bytes(), 20u);

  queue.complete_write();
  EXPECT_FALSE(queue.writing());
  EXPECT_EQ(queue.lag_bytes(), 0u);  // the client wrote something: keeping up again
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.bytes(), 30u);
  EXPECT_EQ(queue.front().bytes->front(), 'c');
  EXPECT_EQ(queue.dropped_frames(), 1u);  // totals are not reset
  EXPECT_EQ(queue.dropped_bytes(), 20u);
  // Not writing now: the front may be replaced again.
  EXPECT_EQ(queue.push(samples(1, 5, 'd')), Result::replaced);
  EXPECT_EQ(contents(queue), "d");
}

TEST(OutboundQueueTest, OverloadedPastMaxBytes) {
  OutboundQueue queue(OutboundQueueLimits{100, 1000});
  EXPECT_EQ(queue.push(control(60)), Result::queued);
  EXPECT_EQ(queue.push(control(40)), Result::queued);  // exactly at the limit is fine
  EXPECT_EQ(queue.push(control(1)), Result::overloaded);
  EXPECT_EQ(queue.bytes(), 101u);
  EXPECT_EQ(queue.size(), 3u);  // kept: the session decides to close
}

TEST(OutboundQueueTest, ReplacingWithALargerFrameCanOverload) {
  OutboundQueue queue(OutboundQueueLimits{100, 1000});
  ASSERT_EQ(queue.push(samples(1, 50)), Result::queued);
  ASSERT_EQ(queue.push(control(40)), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 61)), Result::overloaded);
  EXPECT_EQ(queue.bytes(), 101u);
}

TEST(OutboundQueueTest, OverloadedWhenTooFarBehind) {
  OutboundQueue queue(OutboundQueueLimits{1'000'000, 25});
  ASSERT_EQ(queue.push(samples(1, 10)), Result::queued);
  queue.begin_write();
  ASSERT_EQ(queue.push(samples(1, 10)), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 10)), Result::replaced);     // lag 10
  EXPECT_EQ(queue.push(samples(1, 10)), Result::replaced);     // lag 20
  EXPECT_EQ(queue.push(samples(1, 5)), Result::overloaded);    // lag 30 > 25
  EXPECT_EQ(queue.lag_bytes(), 30u);
  EXPECT_EQ(queue.bytes(), 15u);  // memory stays small: it is the lag that is too big

  // One completed write resets the lag.
  queue.complete_write();
  EXPECT_EQ(queue.lag_bytes(), 0u);
  EXPECT_EQ(queue.push(samples(1, 20)), Result::replaced);     // lag 5
  EXPECT_EQ(queue.push(samples(1, 20)), Result::replaced);     // lag 25: at the limit
  EXPECT_EQ(queue.push(samples(1, 20)), Result::overloaded);   // lag 45
}

TEST(OutboundQueueTest, LagIsPerQueueAcrossSubscriptions) {
  OutboundQueue queue(OutboundQueueLimits{1'000'000, 15});
  ASSERT_EQ(queue.push(samples(1, 10)), Result::queued);
  ASSERT_EQ(queue.push(samples(2, 10)), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 10)), Result::replaced);    // lag 10
  EXPECT_EQ(queue.push(samples(2, 10)), Result::overloaded);  // lag 20
}

// Everything queued counts toward the byte limit: catch-up, replies, errors
// and alerts too, so a client that asks and never reads cannot grow it.
TEST(OutboundQueueTest, EveryKindCountsTowardTheByteLimit) {
  for (FrameKind kind : {FrameKind::control, FrameKind::catch_up, FrameKind::alert, FrameKind::error}) {
    OutboundQueue queue(OutboundQueueLimits{100, 1000});
    EXPECT_EQ(queue.push(frame(kind, 0, 60)), Result::queued);
    EXPECT_TRUE(queue.fits(40));
    EXPECT_FALSE(queue.fits(41));
    EXPECT_EQ(queue.push(frame(kind, 0, 41)), Result::overloaded) << "kind " << static_cast<int>(kind);
    EXPECT_EQ(queue.bytes(), 101u);
  }
}

TEST(OutboundQueueTest, CatchUpAndLiveFramesShareTheLimit) {
  OutboundQueue queue(OutboundQueueLimits{100, 1000});
  ASSERT_EQ(queue.push(frame(FrameKind::catch_up, 1, 50)), Result::queued);
  EXPECT_EQ(queue.push(samples(1, 40)), Result::queued);
  EXPECT_EQ(queue.push(control(11)), Result::overloaded);
  queue.begin_write();
  queue.complete_write();  // the catch-up frame is out
  EXPECT_EQ(queue.bytes(), 51u);
  EXPECT_TRUE(queue.fits(49));
}

TEST(OutboundQueueTest, ClearWaitingKeepsTheFrameBeingWritten) {
  OutboundQueue queue;
  ASSERT_EQ(queue.push(control(10, 'a')), Result::queued);
  ASSERT_EQ(queue.push(samples(1, 20, 'b')), Result::queued);
  ASSERT_EQ(queue.push(control(30, 'c')), Result::queued);
  queue.begin_write();
  queue.clear_waiting();
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.bytes(), 10u);
  EXPECT_EQ(queue.front().bytes->front(), 'a');
  EXPECT_TRUE(queue.writing());
  queue.complete_write();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);

  // Not writing: everything goes.
  ASSERT_EQ(queue.push(control(10)), Result::queued);
  ASSERT_EQ(queue.push(control(10)), Result::queued);
  queue.clear_waiting();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
  queue.complete_write();  // harmless on an empty queue
  EXPECT_TRUE(queue.empty());
}

TEST(OutboundQueueTest, FramesWithoutBytesCountAsEmpty) {
  OutboundQueue queue;
  EXPECT_EQ(queue.push(OutboundFrame{}), Result::queued);
  EXPECT_EQ(queue.push(OutboundFrame{nullptr, false, FrameKind::samples, 4}), Result::queued);
  EXPECT_EQ(queue.push(OutboundFrame{nullptr, false, FrameKind::samples, 4}), Result::replaced);
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.dropped_frames(), 1u);
  EXPECT_EQ(queue.dropped_bytes(), 0u);
}

TEST(OutboundQueueTest, DefaultLimitsMatchTheStreamDefaults) {
  const OutboundQueueLimits limits;
  EXPECT_EQ(limits.max_bytes, std::size_t{8} << 20);
  EXPECT_EQ(limits.max_lag_bytes, std::size_t{1} << 20);
}

}  // namespace
}  // namespace hostpulse
