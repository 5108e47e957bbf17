#include "agent/stream/hub.hpp"
#include "tests/support/platform_schema.hpp"

#include <bit>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/msgpack_samples.hpp"

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A subscriber that records what it is given.
class RecordingSubscriber : public StreamSubscriber {
 public:
  void deliver(const OutboundFrame& frame) override { frames.push_back(frame); }

  static json decode(const OutboundFrame& frame) {
    // Binary samples back in the JSON frame's shape ("values"), so a test
    // compares the two formats directly.
    if (frame.binary) {
      return test::samples_as_json_shape(
          json::from_msgpack(std::vector<std::uint8_t>(frame.bytes->begin(), frame.bytes->end())));
    }
    return json::parse(*frame.bytes);
  }
  [[nodiscard]] json message(std::size_t i) const { return decode(frames.at(i)); }
  [[nodiscard]] json last() const { return decode(frames.back()); }
  // Frames with samples (live and catch-up), decoded.
  [[nodiscard]] std::vector<json> sample_frames() const {
    std::vector<json> out;
    for (const OutboundFrame& frame : frames) {
      if (frame.kind == FrameKind::samples || frame.kind == FrameKind::catch_up) out.push_back(decode(frame));
    }
    return out;
  }
  // Every point received, by seq: the tests publish seq s at t = s * 1000.
  [[nodiscard]] std::vector<std::uint64_t> seqs() const {
    std::vector<std::uint64_t> out;
    for (const json& frame : sample_frames()) {
      for (const json& t : frame["t"]) out.push_back(t.get<std::uint64_t>() / 1000);
    }
    return out;
  }
  void clear() { frames.clear(); }

  std::vector<OutboundFrame> frames;
};

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last, std::uint64_t step = 1) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = first; s <= last; s += step) out.push_back(s);
  return out;
}

class StreamHubTest : public ::testing::Test {
 protected:
  // Value of series id at seq: distinct per series and per point.
  static double value_at(std::uint64_t seq, std::uint32_t id) { return static_cast<double>(seq * 1000 + id); }

  std::vector<double> point(std::uint64_t seq) const {
    std::vector<double> values(schema.size());
    for (std::uint32_t i = 0; i < values.size(); ++i) values[i] = value_at(seq, i);
    return values;
  }
  // The sampler's order: into history first, then to the hub.
  std::uint64_t append() {
    const std::uint64_t seq = history().last_seq() + 1;
    const std::uint64_t stored = history().append(static_cast<std::int64_t>(seq) * 1000, point(seq));
    EXPECT_EQ(stored, seq);
    return seq;
  }
  void publish_one() {
    const std::uint64_t seq = append();
    hub().publish(seq, static_cast<std::int64_t>(seq) * 1000, point(seq), now);
  }
  void publish(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) publish_one();
  }

  // Created on first use, so a test can pick the capacity first.
  History& history() {
    if (!history_) history_ = std::make_unique<History>(schema.size(), history_capacity);
    return *history_;
  }
  StreamHub& hub() {
    if (!hub_) hub_ = std::make_unique<StreamHub>(schema_snapshot, history());
    return *hub_;
  }

  static SubscribeRequest request(std::vector<std::string> series, std::uint32_t max_samples = 1,
                                  std::chrono::milliseconds max_delay = 0ms, std::uint32_t every = 1) {
    SubscribeRequest r;
    r.series = selectors_from_patterns(series);
    r.batch = BatchSettings{max_samples, max_delay};
    r.every = every;
    return r;
  }

  std::uint32_t subscribe(const std::shared_ptr<RecordingSubscriber>& subscriber, const SubscribeRequest& r,
                          std::size_t max_subscriptions = 16) {
    return hub().subscribe(subscriber, r, max_subscriptions, now);
  }

  std::uint32_t id_of(std::string_view name) const { return *schema.find(name); }

  const std::vector<std::uint32_t> cpus{0, 1};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  std::size_t history_capacity = 1000;
  std::unique_ptr<History> history_;
  Clock::time_point now = Clock::time_point{} + 1h;
  std::unique_ptr<StreamHub> hub_;
};

TEST_F(StreamHubTest, SubscribeRepliesWithTheResolvedSubscription) {
  publish(3);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "cpu.*.busy_pct"}, 10, 2000ms, 5);
  r.id = R"("chart")";
  const std::uint32_t sub = subscribe(subscriber, r);
  EXPECT_EQ(sub, 1u);
  ASSERT_EQ(subscriber->frames.size(), 1u);
  const OutboundFrame& frame = subscriber->frames[0];
  EXPECT_EQ(frame.kind, FrameKind::control);
  EXPECT_FALSE(frame.binary);
  EXPECT_EQ(*frame.bytes, R"({"type":"subscribed","id":"chart","sub":1,"series":[)" +
                              std::to_string(id_of("load.1m")) + "," + std::to_string(id_of("cpu.0.busy_pct")) + "," +
                              std::to_string(id_of("cpu.1.busy_pct")) +
                              R"(],"names":["load.1m","cpu.0.busy_pct","cpu.1.busy_pct"],"format":"json",)"
                              R"("batch":{"max_samples":10,"max_delay_ms":2000},"every":5,"seq":3})");
  const HubStats stats = hub().stats();
  EXPECT_EQ(stats.groups, 1u);
  EXPECT_EQ(stats.subscriptions, 1u);
  EXPECT_EQ(hub().last_published_seq(), 3u);
}

TEST_F(StreamHubTest, StartsFromTheHistoryItIsGiven) {
  append();
  append();
  EXPECT_EQ(hub().last_published_seq(), 2u);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}));
  EXPECT_EQ(subscriber->message(0)["seq"], 2);
}

TEST_F(StreamHubTest, EachPointIsOneFrameByDefault) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  const std::uint32_t load = id_of("load.1m");
  const std::uint32_t used = id_of("mem.used_bytes");
  const std::uint32_t sub = subscribe(subscriber, request({"load.1m", "mem.used_bytes"}));
  subscriber->clear();
  publish(2);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const OutboundFrame& frame = subscriber->frames[i];
    EXPECT_EQ(frame.kind, FrameKind::samples);
    EXPECT_EQ(frame.subscription, sub);
    EXPECT_FALSE(frame.binary);
    const std::uint64_t seq = i + 1;
    EXPECT_EQ(*frame.bytes, R"({"type":"samples","sub":1,"seq_first":)" + std::to_string(seq) + R"(,"seq_last":)" +
                                std::to_string(seq) + R"(,"t":[)" + std::to_string(seq * 1000) + R"(],"series":[)" +
                                std::to_string(load) + "," + std::to_string(used) + R"(],"values":[[)" +
                                std::to_string(seq * 1000 + load) + "],[" + std::to_string(seq * 1000 + used) + "]]}");
  }
  EXPECT_EQ(hub().last_published_seq(), 2u);
}

TEST_F(StreamHubTest, SameShapeSharesOneEncodedBuffer) {
  auto a = std::make_shared<RecordingSubscriber>();
  auto b = std::make_shared<RecordingSubscriber>();
  auto c = std::make_shared<RecordingSubscriber>();
  const std::uint32_t sub_a = subscribe(a, request({"cpu.*"}));
  const std::uint32_t sub_b = subscribe(b, request({"cpu.*"}));
  const std::uint32_t sub_c = subscribe(c, request({"cpu.*"}, 1, 0ms, 2));  // other decimation: other group
  EXPECT_EQ(sub_a, sub_b);
  EXPECT_NE(sub_a, sub_c);
  a->clear();
  b->clear();
  c->clear();
  publish(2);
  ASSERT_EQ(a->frames.size(), 2u);
  ASSERT_EQ(b->frames.size(), 2u);
  ASSERT_EQ(c->frames.size(), 1u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(a->frames[i].bytes.get(), b->frames[i].bytes.get()) << i;
  EXPECT_NE(a->frames[1].bytes.get(), c->frames[0].bytes.get());
  const HubStats stats = hub().stats();
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.subscriptions, 3u);
  EXPECT_EQ(stats.frames_encoded, 3u);  // 2 for the shared group, 1 for the decimated one
  EXPECT_EQ(stats.deliveries, 5u);
  EXPECT_EQ(stats.bytes_encoded, a->frames[0].bytes->size() + a->frames[1].bytes->size() + c->frames[0].bytes->size());
}

TEST_F(StreamHubTest, ShapeIsSeriesOrderFormatBatchAndEvery) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  std::vector<std::uint32_t> subs;
  subs.push_back(subscribe(subscriber, request({"load.1m", "load.5m"})));
  subs.push_back(subscribe(subscriber, request({"load.5m", "load.1m"})));
  SubscribeRequest msgpack = request({"load.1m", "load.5m"});
  msgpack.format = StreamFormat::msgpack;
  subs.push_back(subscribe(subscriber, msgpack));
  subs.push_back(subscribe(subscriber, request({"load.1m", "load.5m"}, 2)));
  subs.push_back(subscribe(subscriber, request({"load.1m", "load.5m"}, 1, 100ms)));
  subs.push_back(subscribe(subscriber, request({"load.1m", "load.5m"}, 1, 0ms, 3)));
  EXPECT_EQ(subs, (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(hub().stats().groups, 6u);
  // The same selection shares the group; a glob that resolves to the same
  // names today is another shape (it may follow other series later).
  auto other = std::make_shared<RecordingSubscriber>();
  EXPECT_EQ(subscribe(other, request({"load.1m", "load.5m"})), 1u);
  EXPECT_EQ(subscribe(other, request({"load.1m", "l*d.5m"})), 7u);
  EXPECT_EQ(hub().stats().groups, 7u);
}

TEST_F(StreamHubTest, BatchesByCount) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m", "load.5m"}, 3));
  subscriber->clear();
  publish(2);
  EXPECT_TRUE(subscriber->frames.empty());
  publish(1);
  ASSERT_EQ(subscriber->frames.size(), 1u);
  const json frame = subscriber->last();
  const std::uint32_t one = id_of("load.1m");
  const std::uint32_t five = id_of("load.5m");
  EXPECT_EQ(frame["seq_first"], 1);
  EXPECT_EQ(frame["seq_last"], 3);
  EXPECT_EQ(frame["t"], json::parse("[1000,2000,3000]"));
  // Series-major columns.
  EXPECT_EQ(frame["values"], json::array({json::array({1000 + one, 2000 + one, 3000 + one}),
                                          json::array({1000 + five, 2000 + five, 3000 + five})}));
  publish(5);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  EXPECT_EQ(subscriber->last()["seq_first"], 4);
  EXPECT_EQ(subscriber->last()["seq_last"], 6);
  EXPECT_EQ(subscriber->seqs(), range(1, 6));
  hub().flush_all();
  EXPECT_EQ(subscriber->seqs(), range(1, 8));
}

TEST_F(StreamHubTest, BatchesByDelay) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 100, 500ms));
  subscriber->clear();
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
  const Clock::time_point start = now;
  publish(1);
  now += 100ms;
  publish(1);
  ASSERT_EQ(hub().next_deadline(), std::optional(start + 500ms));  // from the oldest waiting point
  hub().flush_due(start + 499ms);
  EXPECT_TRUE(subscriber->frames.empty());
  hub().flush_due(start + 500ms);
  ASSERT_EQ(subscriber->frames.size(), 1u);
  EXPECT_EQ(subscriber->last()["seq_first"], 1);
  EXPECT_EQ(subscriber->last()["seq_last"], 2);
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
  // The next batch's clock starts at its first point.
  now = start + 2s;
  publish(1);
  EXPECT_EQ(hub().next_deadline(), std::optional(start + 2500ms));
  hub().flush_due(start + 2499ms);
  EXPECT_EQ(subscriber->frames.size(), 1u);
  hub().flush_due(start + 10s);
  EXPECT_EQ(subscriber->frames.size(), 2u);
  EXPECT_EQ(subscriber->seqs(), range(1, 3));
}

TEST_F(StreamHubTest, CountLimitStillAppliesWithADelay) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 2, 60s));
  subscriber->clear();
  publish(2);
  ASSERT_EQ(subscriber->frames.size(), 1u);
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
}

TEST_F(StreamHubTest, ZeroDelayMeansCountOnly) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 5, 0ms));
  subscriber->clear();
  publish(2);
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
  hub().flush_due(now + 24h);
  EXPECT_TRUE(subscriber->frames.empty());
  hub().flush_all();
  ASSERT_EQ(subscriber->frames.size(), 1u);
  EXPECT_EQ(subscriber->seqs(), range(1, 2));
  hub().flush_all();  // nothing waiting: nothing sent
  EXPECT_EQ(subscriber->frames.size(), 1u);
}

TEST_F(StreamHubTest, NextDeadlineIsTheEarliestOfAllGroups) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 100, 900ms));
  subscribe(subscriber, request({"load.5m"}, 100, 300ms));
  subscribe(subscriber, request({"load.15m"}, 100, 0ms));
  const Clock::time_point start = now;
  publish(1);
  EXPECT_EQ(hub().next_deadline(), std::optional(start + 300ms));
  subscriber->clear();
  hub().flush_due(start + 300ms);
  ASSERT_EQ(subscriber->frames.size(), 1u);
  EXPECT_EQ(subscriber->frames[0].subscription, 2u);
  EXPECT_EQ(hub().next_deadline(), std::optional(start + 900ms));
  hub().flush_all();
  EXPECT_EQ(subscriber->frames.size(), 3u);
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
}

TEST_F(StreamHubTest, DecimationKeepsMultiplesOfEvery) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 1, 0ms, 3));
  subscriber->clear();
  publish(10);
  EXPECT_EQ(subscriber->seqs(), (std::vector<std::uint64_t>{3, 6, 9}));
  for (const json& frame : subscriber->sample_frames()) EXPECT_EQ(frame["seq_first"], frame["seq_last"]);
}

TEST_F(StreamHubTest, DecimationWithBatching) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m"}, 2, 0ms, 2));
  subscriber->clear();
  publish(9);
  const std::vector<json> frames = subscriber->sample_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["seq_first"], 2);
  EXPECT_EQ(frames[0]["seq_last"], 4);
  EXPECT_EQ(frames[0]["t"], json::parse("[2000,4000]"));
  EXPECT_EQ(frames[1]["seq_first"], 6);
  EXPECT_EQ(frames[1]["seq_last"], 8);
}

TEST_F(StreamHubTest, MsgpackGroupsSendBinaryFramesEqualToJson) {
  auto as_json = std::make_shared<RecordingSubscriber>();
  auto as_msgpack = std::make_shared<RecordingSubscriber>();
  subscribe(as_json, request({"mem.*", "load.1m"}, 2));
  SubscribeRequest r = request({"mem.*", "load.1m"}, 2);
  r.format = StreamFormat::msgpack;
  subscribe(as_msgpack, r);
  EXPECT_EQ(as_msgpack->message(0)["format"], "msgpack");
  EXPECT_FALSE(as_msgpack->frames[0].binary);  // control messages are always text
  as_json->clear();
  as_msgpack->clear();
  publish(2);
  ASSERT_EQ(as_msgpack->frames.size(), 1u);
  EXPECT_TRUE(as_msgpack->frames[0].binary);
  json text = as_json->message(0);
  json binary = as_msgpack->message(0);
  EXPECT_EQ(binary["sub"], 2);
  text.erase("sub");
  binary.erase("sub");
  EXPECT_EQ(text, binary);  // values are whole numbers: integers in both
  EXPECT_TRUE(binary["values"][0][0].is_number_integer());
}

TEST_F(StreamHubTest, ResumeSendsTheRetainedPointsThenLiveWithoutGapOrDuplicate) {
  publish(5);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"});
  r.resume_from = 2;
  subscribe(subscriber, r);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  EXPECT_EQ(subscriber->message(0)["type"], "subscribed");
  EXPECT_EQ(subscriber->message(0)["seq"], 5);
  const OutboundFrame& catch_up = subscriber->frames[1];
  EXPECT_EQ(catch_up.kind, FrameKind::catch_up);
  EXPECT_EQ(catch_up.subscription, 1u);
  const json frame = subscriber->message(1);
  EXPECT_EQ(frame["seq_first"], 3);
  EXPECT_EQ(frame["seq_last"], 5);
  const std::uint32_t load = id_of("load.1m");
  EXPECT_EQ(frame["values"], json::array({json::array({3000 + load, 4000 + load, 5000 + load})}));
  publish(2);
  EXPECT_EQ(subscriber->seqs(), range(3, 7));
}

TEST_F(StreamHubTest, ResumeFromTheLatestSeqSendsNoCatchUp) {
  publish(5);
  for (std::uint64_t resume_from : {5u, 6u, 1000u}) {
    auto subscriber = std::make_shared<RecordingSubscriber>();
    SubscribeRequest r = request({"load.1m"});
    r.resume_from = resume_from;
    subscribe(subscriber, r);
    EXPECT_EQ(subscriber->frames.size(), 1u) << resume_from;
    hub().remove(subscriber.get());
  }
}

TEST_F(StreamHubTest, ResumeFromZeroSendsAllRetainedPoints) {
  publish(4);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3);
  r.resume_from = 0;
  subscribe(subscriber, r);
  publish(3);
  EXPECT_EQ(subscriber->seqs(), range(1, 7));
}

// A group with a partly filled batch: the joining member gets the waiting
// points in the group's next frame, so the catch-up stops before them.
TEST_F(StreamHubTest, ResumeIntoAGroupWithAPendingBatch) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m"}, 3));
  publish(5);  // first got 1..3; 4 and 5 wait
  EXPECT_EQ(first->seqs(), range(1, 3));

  auto joining = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3);
  r.resume_from = 1;
  EXPECT_EQ(subscribe(joining, r), 1u);
  EXPECT_EQ(joining->message(0)["seq"], 3);  // live frames carry seqs after 3
  ASSERT_EQ(joining->frames.size(), 2u);
  EXPECT_EQ(joining->message(1)["seq_first"], 2);
  EXPECT_EQ(joining->message(1)["seq_last"], 3);
  publish(4);  // 6 completes the waiting batch; 7..9 the next
  EXPECT_EQ(joining->seqs(), range(2, 9));
  EXPECT_EQ(first->seqs(), range(1, 9));
  // Live frames are still shared.
  EXPECT_EQ(joining->frames.back().bytes.get(), first->frames.back().bytes.get());
}

TEST_F(StreamHubTest, JoiningAGroupWithAPendingBatchWithoutResume) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m"}, 3));
  publish(4);
  auto joining = std::make_shared<RecordingSubscriber>();
  subscribe(joining, request({"load.1m"}, 3));
  EXPECT_EQ(joining->message(0)["seq"], 3);
  EXPECT_EQ(joining->frames.size(), 1u);
  publish(2);
  EXPECT_EQ(joining->seqs(), range(4, 6));
}

// resume_from inside the waiting batch: the client already has those points,
// so it must not get them again ("no gap and no duplicate", docs/protocol.md).
TEST_F(StreamHubTest, ResumeFromInsideThePendingBatchSendsNoDuplicates) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m"}, 3));
  publish(5);  // 4 and 5 wait in the group
  auto joining = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3);
  r.resume_from = 5;  // e.g. it saw 4 and 5 on a connection with max_samples 1
  subscribe(joining, r);
  publish(1);  // flushes 4..6
  EXPECT_EQ(joining->seqs(), std::vector<std::uint64_t>{6})
      << "points at or before resume_from were sent again (subscribed.seq = " << joining->message(0)["seq"] << ")";
}

TEST_F(StreamHubTest, TrimmedFirstFrameIsOnlyForTheResumingMember) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m", "load.5m"}, 3));
  publish(5);
  auto joining = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "load.5m"}, 3);
  r.resume_from = 4;
  subscribe(joining, r);
  EXPECT_EQ(joining->message(0)["seq"], 4);
  EXPECT_EQ(joining->frames.size(), 1u);  // nothing to catch up: 4 is in the waiting batch
  first->clear();
  publish(1);
  ASSERT_EQ(first->frames.size(), 1u);
  ASSERT_EQ(joining->frames.size(), 2u);
  const json full = first->last();
  const json trimmed = joining->last();
  EXPECT_EQ(joining->frames.back().kind, FrameKind::samples);
  EXPECT_EQ(full["seq_first"], 4);
  EXPECT_EQ(trimmed["seq_first"], 5);
  EXPECT_EQ(trimmed["seq_last"], 6);
  EXPECT_EQ(trimmed["t"], json::parse("[5000,6000]"));
  const std::uint32_t one = id_of("load.1m");
  const std::uint32_t five = id_of("load.5m");
  EXPECT_EQ(trimmed["values"], json::array({json::array({5000 + one, 6000 + one}), json::array({5000 + five, 6000 + five})}));
  EXPECT_EQ(hub().stats().deliveries, 3u);  // 1..3 to first; 4..6 to first; 5..6 to joining
  // Only the first frame is trimmed; after it the shared buffer again.
  publish(3);
  EXPECT_EQ(joining->frames.back().bytes.get(), first->frames.back().bytes.get());
  EXPECT_EQ(joining->seqs(), range(5, 9));
}

TEST_F(StreamHubTest, ResumePastThePendingBatch) {
  auto first = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3);
  r.format = StreamFormat::msgpack;
  subscribe(first, r);
  publish(5);  // 4 and 5 wait
  auto joining = std::make_shared<RecordingSubscriber>();
  r.resume_from = 1000;  // ahead of the agent: nothing is resent
  subscribe(joining, r);
  EXPECT_EQ(joining->message(0)["seq"], 5);
  hub().flush_all();  // the waiting 4 and 5: nothing for joining
  EXPECT_EQ(joining->frames.size(), 1u);
  EXPECT_EQ(first->seqs(), range(1, 5));
  publish(3);
  ASSERT_EQ(joining->frames.size(), 2u);
  EXPECT_TRUE(joining->frames.back().binary);
  EXPECT_EQ(joining->seqs(), range(6, 8));
  EXPECT_EQ(joining->frames.back().bytes.get(), first->frames.back().bytes.get());
}

TEST_F(StreamHubTest, ResumeInsideThePendingBatchWithDecimation) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m"}, 3, 0ms, 2));
  publish(11);  // 2 4 6 sent; 8 10 wait
  auto joining = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3, 0ms, 2);
  r.resume_from = 9;
  subscribe(joining, r);
  EXPECT_EQ(joining->message(0)["seq"], 9);
  publish(7);  // 12 completes 8 10 12; then 14 16 18
  EXPECT_EQ(joining->seqs(), (std::vector<std::uint64_t>{10, 12, 14, 16, 18}));
  EXPECT_EQ(first->seqs(), range(2, 18, 2));
}

TEST_F(StreamHubTest, ResumeOlderThanHistoryStartsAtTheOldestRetainedPoint) {
  history_capacity = 4;
  publish(10);  // 7..10 retained
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"});
  r.resume_from = 2;
  subscribe(subscriber, r);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  // seq_first 7 > resume_from + 1 tells the client about the unavoidable gap.
  EXPECT_EQ(subscriber->message(1)["seq_first"], 7);
  EXPECT_EQ(subscriber->message(1)["seq_last"], 10);
  publish(1);
  EXPECT_EQ(subscriber->seqs(), range(7, 11));
}

TEST_F(StreamHubTest, ResumeHonoursDecimation) {
  publish(7);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 1, 0ms, 2);
  r.resume_from = 1;
  subscribe(subscriber, r);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  EXPECT_EQ(subscriber->message(1)["seq_first"], 2);
  EXPECT_EQ(subscriber->message(1)["seq_last"], 6);
  publish(3);
  EXPECT_EQ(subscriber->seqs(), range(2, 10, 2));
}

TEST_F(StreamHubTest, ResumeWithDecimationAndAPendingBatch) {
  auto first = std::make_shared<RecordingSubscriber>();
  subscribe(first, request({"load.1m"}, 3, 0ms, 2));
  publish(9);  // kept: 2 4 6 | 8 waits
  auto joining = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m"}, 3, 0ms, 2);
  r.resume_from = 3;
  subscribe(joining, r);
  EXPECT_EQ(joining->message(0)["seq"], 7);
  publish(3);  // 10 and 12 complete the batch 8 10 12
  EXPECT_EQ(joining->seqs(), (std::vector<std::uint64_t>{4, 6, 8, 10, 12}));
}

TEST_F(StreamHubTest, CatchUpIsChunked) {
  publish(700);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "load.5m"});
  r.format = StreamFormat::msgpack;
  r.resume_from = 0;
  subscribe(subscriber, r);
  ASSERT_EQ(subscriber->frames.size(), 4u);
  // Chunks are cut from the newest point back (so a byte bound drops the oldest).
  const std::uint64_t bounds[][2] = {{1, 100}, {101, 400}, {401, 700}};
  for (std::size_t i = 0; i < 3; ++i) {
    const OutboundFrame& frame = subscriber->frames[i + 1];
    EXPECT_EQ(frame.kind, FrameKind::catch_up);
    EXPECT_TRUE(frame.binary);
    const json decoded = subscriber->message(i + 1);
    EXPECT_EQ(decoded["seq_first"], bounds[i][0]);
    EXPECT_EQ(decoded["seq_last"], bounds[i][1]);
    EXPECT_EQ(decoded["t"].size(), bounds[i][1] - bounds[i][0] + 1);
    ASSERT_EQ(decoded["values"].size(), 2u);
    EXPECT_EQ(decoded["values"][1].size(), decoded["t"].size());
    EXPECT_EQ(decoded["values"][1][0], bounds[i][0] * 1000 + id_of("load.5m"));
  }
  EXPECT_EQ(subscriber->seqs(), range(1, 700));
  EXPECT_EQ(hub().stats().frames_encoded, 0u);  // catch-up is per subscriber, not counted as shared frames
}

// max_history_values bounds one catch-up; the newest points are kept, and
// seq_first tells the client where its catch-up starts.
TEST_F(StreamHubTest, CatchUpIsBoundedKeepingTheNewestPoints) {
  publish(20);
  hub().set_catch_up_limit(10, 1u << 20);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "load.5m"});
  r.resume_from = 0;
  subscribe(subscriber, r);
  ASSERT_EQ(subscriber->frames.size(), 2u);
  EXPECT_EQ(subscriber->message(0)["seq"], 20);
  EXPECT_EQ(subscriber->message(1)["seq_first"], 16);  // 10 values / 2 series = 5 points
  EXPECT_EQ(subscriber->message(1)["seq_last"], 20);
  publish(1);
  EXPECT_EQ(subscriber->seqs(), range(16, 21));
}

// Everything queued counts toward a connection's send limit, so a catch-up
// is also bounded in bytes: whole chunks, newest first, in seq order, and
// live frames continue right after it.
TEST_F(StreamHubTest, CatchUpIsBoundedInBytesKeepingTheNewestChunks) {
  publish(700);
  auto unbounded = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "load.5m"});
  r.resume_from = 0;
  subscribe(unbounded, r);
  ASSERT_EQ(unbounded->frames.size(), 4u);  // subscribed + chunks of 100, 300, 300 points
  const std::size_t newest_chunk = unbounded->frames[3].bytes->size();
  const std::size_t middle_chunk = unbounded->frames[2].bytes->size();

  hub().set_catch_up_limit(1'000'000, newest_chunk + middle_chunk + 1);
  auto bounded = std::make_shared<RecordingSubscriber>();
  subscribe(bounded, r);
  ASSERT_EQ(bounded->frames.size(), 3u);
  EXPECT_EQ(bounded->message(1)["seq_first"], 101);
  EXPECT_EQ(bounded->message(2)["seq_last"], 700);
  std::size_t catch_up_bytes = 0;
  for (std::size_t i = 1; i < bounded->frames.size(); ++i) catch_up_bytes += bounded->frames[i].bytes->size();
  EXPECT_LE(catch_up_bytes, newest_chunk + middle_chunk + 1);

  // A limit smaller than one chunk cuts the chunk smaller (wide points).
  hub().set_catch_up_limit(1'000'000, newest_chunk / 3);
  auto narrow = std::make_shared<RecordingSubscriber>();
  subscribe(narrow, r);
  ASSERT_GE(narrow->frames.size(), 2u);
  catch_up_bytes = 0;
  for (std::size_t i = 1; i < narrow->frames.size(); ++i) catch_up_bytes += narrow->frames[i].bytes->size();
  EXPECT_LE(catch_up_bytes, newest_chunk / 3);
  EXPECT_GT(narrow->message(1)["seq_first"], 401);
  EXPECT_EQ(narrow->message(narrow->frames.size() - 1)["seq_last"], 700);

  // Smaller than one point: the newest point still goes.
  hub().set_catch_up_limit(1'000'000, 1);
  auto tiny = std::make_shared<RecordingSubscriber>();
  subscribe(tiny, r);
  ASSERT_EQ(tiny->frames.size(), 2u);
  EXPECT_EQ(tiny->message(1)["seq_first"], 700);
  publish(1);
  EXPECT_EQ(tiny->seqs(), range(700, 701));
  EXPECT_EQ(narrow->seqs().back(), 701u);
}

TEST_F(StreamHubTest, CatchUpLimitAppliesAfterDecimationAndKeepsAtLeastOnePoint) {
  publish(20);
  hub().set_catch_up_limit(6, 1u << 20);
  auto decimated = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "load.5m"}, 1, 0ms, 2);
  r.resume_from = 0;
  subscribe(decimated, r);
  EXPECT_EQ(decimated->seqs(), (std::vector<std::uint64_t>{16, 18, 20}));

  hub().set_catch_up_limit(1, 1u << 20);
  auto wide = std::make_shared<RecordingSubscriber>();
  r = request({"load.1m", "load.5m", "load.15m"});
  r.resume_from = 0;
  subscribe(wide, r);
  EXPECT_EQ(wide->seqs(), std::vector<std::uint64_t>{20});
}

TEST_F(StreamHubTest, ErrorRepliesAreErrorFramesAndRepliesControlFrames) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  const auto last_kind = [&] { return subscriber->frames.back().kind; };
  ASSERT_EQ(subscribe(subscriber, request({"load.1m"}), 1), 1u);
  EXPECT_EQ(last_kind(), FrameKind::control);
  subscribe(subscriber, request({"nope"}), 1);
  EXPECT_EQ(last_kind(), FrameKind::error);
  subscribe(subscriber, request({"load.1m"}), 1);
  EXPECT_EQ(last_kind(), FrameKind::error);
  EXPECT_EQ(subscriber->last()["code"], "duplicate_subscription");
  subscribe(subscriber, request({"load.5m"}), 1);
  EXPECT_EQ(last_kind(), FrameKind::error);
  EXPECT_EQ(subscriber->last()["code"], "too_many_subscriptions");
  hub().unsubscribe(subscriber, UnsubscribeRequest{"", 42});
  EXPECT_EQ(last_kind(), FrameKind::error);
  EXPECT_EQ(subscriber->last()["code"], "unknown_subscription");
  hub().unsubscribe(subscriber, UnsubscribeRequest{"", 1});
  EXPECT_EQ(last_kind(), FrameKind::control);
  EXPECT_EQ(subscriber->last()["type"], "unsubscribed");
  for (const OutboundFrame& frame : subscriber->frames) EXPECT_FALSE(frame.binary);
}

TEST_F(StreamHubTest, DuplicateSubscriptionIsAnError) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  EXPECT_EQ(subscribe(subscriber, request({"load.1m"})), 1u);
  SubscribeRequest again = request({"load.1m"});
  again.id = "7";
  EXPECT_EQ(subscribe(subscriber, again), 0u);
  // Error kind: the session counts it toward max_errors.
  EXPECT_EQ(subscriber->frames.back().kind, FrameKind::error);
  EXPECT_EQ(*subscriber->frames.back().bytes,
            R"({"type":"error","id":7,"code":"duplicate_subscription","message":"already subscribed with these settings as sub 1"})");
  EXPECT_EQ(hub().stats().subscriptions, 1u);
  subscriber->clear();
  publish(1);
  EXPECT_EQ(subscriber->frames.size(), 1u);  // one frame, not two
}

TEST_F(StreamHubTest, TooManySubscriptions) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  EXPECT_EQ(subscribe(subscriber, request({"load.1m"}), 2), 1u);
  EXPECT_EQ(subscribe(subscriber, request({"load.5m"}), 2), 2u);
  SubscribeRequest third = request({"load.15m"});
  third.id = R"("x")";
  EXPECT_EQ(subscribe(subscriber, third, 2), 0u);
  EXPECT_EQ(*subscriber->frames.back().bytes,
            R"({"type":"error","id":"x","code":"too_many_subscriptions","message":"at most 2 subscriptions per connection"})");
  EXPECT_EQ(hub().stats().groups, 2u);
  // The limit is per subscriber.
  auto other = std::make_shared<RecordingSubscriber>();
  EXPECT_EQ(subscribe(other, request({"load.15m"}), 2), 3u);
  // Unsubscribing frees a slot.
  hub().unsubscribe(subscriber, UnsubscribeRequest{"", 1});
  EXPECT_EQ(subscribe(subscriber, request({"load.15m"}), 2), 3u);
}

TEST_F(StreamHubTest, DuplicateIsReportedBeforeTheLimit) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  ASSERT_EQ(subscribe(subscriber, request({"load.1m"}), 1), 1u);
  EXPECT_EQ(subscribe(subscriber, request({"load.1m"}), 1), 0u);
  EXPECT_EQ(subscriber->last()["code"], "duplicate_subscription");
  EXPECT_EQ(subscribe(subscriber, request({"load.5m"}), 1), 0u);
  EXPECT_EQ(subscriber->last()["code"], "too_many_subscriptions");
}

TEST_F(StreamHubTest, UnknownSeriesIsAnError) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest r = request({"load.1m", "nope"});
  r.id = "1";
  EXPECT_EQ(subscribe(subscriber, r), 0u);
  EXPECT_EQ(*subscriber->frames.back().bytes,
            R"({"type":"error","id":1,"code":"unknown_series","message":"unknown series 'nope'"})");
  EXPECT_EQ(subscribe(subscriber, request({"disk.*"})), 0u);
  EXPECT_EQ(subscriber->last()["message"], "no series matches 'disk.*'");
  EXPECT_EQ(subscriber->last()["code"], "unknown_series");
  EXPECT_FALSE(subscriber->last().contains("id"));
  EXPECT_EQ(hub().stats().groups, 0u);
  // Failed requests do not use up the subscription limit.
  EXPECT_EQ(subscribe(subscriber, request({"load.1m"}), 1), 1u);
}

TEST_F(StreamHubTest, Unsubscribe) {
  auto a = std::make_shared<RecordingSubscriber>();
  auto b = std::make_shared<RecordingSubscriber>();
  const std::uint32_t sub = subscribe(a, request({"load.1m"}));
  subscribe(b, request({"load.1m"}));
  hub().unsubscribe(a, UnsubscribeRequest{R"("u")", sub});
  EXPECT_EQ(*a->frames.back().bytes, R"({"type":"unsubscribed","id":"u","sub":1})");
  EXPECT_EQ(hub().stats().groups, 1u);  // b is still in it
  a->clear();
  b->clear();
  publish(1);
  EXPECT_TRUE(a->frames.empty());
  EXPECT_EQ(b->frames.size(), 1u);

  // a is no longer in group 1; the group exists, but not for a.
  hub().unsubscribe(a, UnsubscribeRequest{"2", sub});
  EXPECT_EQ(*a->frames.back().bytes,
            R"({"type":"error","id":2,"code":"unknown_subscription","message":"no subscription 1 on this connection"})");
  hub().unsubscribe(a, UnsubscribeRequest{"", 99});
  EXPECT_EQ(a->last()["code"], "unknown_subscription");
  EXPECT_EQ(a->last()["message"], "no subscription 99 on this connection");

  // The last member leaving removes the group; ids are not reused.
  hub().unsubscribe(b, UnsubscribeRequest{"", sub});
  EXPECT_EQ(hub().stats().groups, 0u);
  EXPECT_EQ(subscribe(a, request({"load.1m"})), 2u);
}

TEST_F(StreamHubTest, RemoveForgetsTheSubscriberEverywhere) {
  auto a = std::make_shared<RecordingSubscriber>();
  auto b = std::make_shared<RecordingSubscriber>();
  subscribe(a, request({"load.1m"}), 2);
  subscribe(a, request({"load.5m"}), 2);
  subscribe(b, request({"load.5m"}), 2);
  hub().remove(a.get());
  EXPECT_EQ(hub().stats().groups, 1u);
  EXPECT_EQ(hub().stats().subscriptions, 1u);
  a->clear();
  b->clear();
  publish(1);
  EXPECT_TRUE(a->frames.empty());
  EXPECT_EQ(b->frames.size(), 1u);
  // Its subscription count starts again from zero.
  EXPECT_NE(subscribe(a, request({"load.1m"}), 2), 0u);
  EXPECT_NE(subscribe(a, request({"load.15m"}), 2), 0u);
  hub().remove(a.get());
  hub().remove(a.get());  // twice is harmless
  EXPECT_EQ(hub().stats().subscriptions, 1u);
}

TEST_F(StreamHubTest, ExpiredSubscribersAreSkipped) {
  auto kept = std::make_shared<RecordingSubscriber>();
  auto gone = std::make_shared<RecordingSubscriber>();
  subscribe(kept, request({"load.1m"}));
  subscribe(gone, request({"load.1m"}));
  gone.reset();  // the session died before remove() reached the hub
  kept->clear();
  publish(2);
  EXPECT_EQ(kept->frames.size(), 2u);
  EXPECT_EQ(hub().stats().deliveries, 2u);
}

TEST_F(StreamHubTest, FlushAllSendsEveryWaitingBatch) {
  auto a = std::make_shared<RecordingSubscriber>();
  auto b = std::make_shared<RecordingSubscriber>();
  subscribe(a, request({"load.1m"}, 10, 5s));
  subscribe(b, request({"load.5m"}, 10));
  publish(3);
  a->clear();
  b->clear();
  hub().flush_all();
  EXPECT_EQ(a->seqs(), range(1, 3));
  EXPECT_EQ(b->seqs(), range(1, 3));
  EXPECT_EQ(hub().next_deadline(), std::nullopt);
}

TEST_F(StreamHubTest, NoValueIsNullInFrames) {
  auto subscriber = std::make_shared<RecordingSubscriber>();
  subscribe(subscriber, request({"load.1m", "load.5m"}));
  subscriber->clear();
  std::vector<double> values(schema.size(), std::nan(""));
  values[id_of("load.5m")] = 0.25;
  const std::uint64_t seq = history().append(1000, values);
  hub().publish(seq, 1000, values, now);
  EXPECT_EQ(subscriber->last()["values"], json::parse("[[null],[0.25]]"));
}

// Live, catch-up and trimmed frames of a msgpack subscription all carry
// protocol 2's columns, and decode to exactly the JSON subscription's frames:
// hundredths with negative steps, no values at the start and in the middle,
// a float column.
TEST_F(StreamHubTest, MsgpackLiveCatchUpAndTrimmedFramesDecodeToTheJsonFrames) {
  const std::vector<std::string> series = {"load.1m", "load.5m", "load.15m", "mem.used_bytes"};
  const auto custom_point = [&](std::uint64_t seq) {
    std::vector<double> values(schema.size(), 0.0);
    values[id_of("load.1m")] = static_cast<double>(static_cast<std::int64_t>(seq * 37 % 1000) - 500) / 100.0;
    values[id_of("load.5m")] = seq == 1 || seq % 4 == 0 ? std::nan("") : 0.07 * static_cast<double>(seq % 3);
    values[id_of("load.15m")] = static_cast<double>(seq) / 3.0;
    values[id_of("mem.used_bytes")] = 68719476737.0 - static_cast<double>(seq % 5) * 4096.0;
    return values;
  };
  const auto publish_custom = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t seq = history().last_seq() + 1;
      const auto values = custom_point(seq);
      history().append(static_cast<std::int64_t>(seq) * 1000, values);
      hub().publish(seq, static_cast<std::int64_t>(seq) * 1000, values, now);
    }
  };
  auto keep_json = std::make_shared<RecordingSubscriber>();
  auto keep_msgpack = std::make_shared<RecordingSubscriber>();
  SubscribeRequest as_json = request(series, 3);
  SubscribeRequest as_msgpack = as_json;
  as_msgpack.format = StreamFormat::msgpack;
  subscribe(keep_json, as_json);
  subscribe(keep_msgpack, as_msgpack);
  publish_custom(10);  // three frames each, seq 10 waits
  // Joiners catch up through seq 10, then get the waiting batch trimmed.
  auto join_json = std::make_shared<RecordingSubscriber>();
  auto join_msgpack = std::make_shared<RecordingSubscriber>();
  as_json.resume_from = 0;
  as_msgpack.resume_from = 0;
  subscribe(join_json, as_json);
  subscribe(join_msgpack, as_msgpack);
  publish_custom(2);
  for (const auto& [text, binary] : {std::pair{keep_json, keep_msgpack}, std::pair{join_json, join_msgpack}}) {
    std::vector<json> text_frames = text->sample_frames();
    std::vector<json> binary_frames = binary->sample_frames();
    ASSERT_EQ(text_frames.size(), binary_frames.size());
    ASSERT_FALSE(text_frames.empty());
    for (std::size_t f = 0; f < text_frames.size(); ++f) {
      text_frames[f].erase("sub");
      binary_frames[f].erase("sub");
      EXPECT_EQ(binary_frames[f], text_frames[f]) << "frame " << f;
      for (std::size_t i = 0; i < series.size(); ++i) {
        for (std::size_t k = 0; k < text_frames[f]["t"].size(); ++k) {
          const json& a = text_frames[f]["values"][i][k];
          const json& b = binary_frames[f]["values"][i][k];
          ASSERT_EQ(a.is_null(), b.is_null());
          if (!a.is_null()) {
            EXPECT_EQ(std::bit_cast<std::uint64_t>(a.get<double>()), std::bit_cast<std::uint64_t>(b.get<double>()));
          }
        }
      }
    }
    EXPECT_EQ(text->seqs(), binary->seqs());
  }
  EXPECT_EQ(join_msgpack->seqs(), range(1, 12));
  // The frames really were protocol 2's columns: load.15m is a float column.
  const OutboundFrame& raw = join_msgpack->frames.back();
  const json columns = json::from_msgpack(std::vector<std::uint8_t>(raw.bytes->begin(), raw.bytes->end()))["cols"];
  EXPECT_EQ(columns[0][0], 2);
  EXPECT_TRUE(columns[2][0].is_null());
  EXPECT_EQ(columns[3][0], 0);
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

// The schema grows (a CPU comes online) while a glob subscription is open:
// its batch with the old columns goes out first, then frames carry the new
// series too; a retired series leaves the columns.
TEST(StreamHubSchemaTest, GlobSubscriptionsFollowSeriesThatAppearAndRetire) {
  const SchemaSnapshot one_cpu = testing_support::platform_schema({0});
  // cpu1 comes online at point 3, as the registry would record it.
  const SchemaSnapshot as_built = testing_support::platform_schema({0, 1});
  std::vector<SeriesInfo> grown(as_built->series().begin(), as_built->series().end());
  for (SeriesInfo& info : grown) {
    if (!info.labels.empty() && info.labels[0].value == "1") info.first_seq = 3;
  }
  const SchemaSnapshot two_cpus = std::make_shared<const Schema>(std::move(grown), one_cpu->version() + 1);
  const std::uint32_t cpu0 = *two_cpus->find("cpu.0.busy_pct");
  const std::uint32_t cpu1 = *two_cpus->find("cpu.1.busy_pct");
  History history(two_cpus->size(), 100);
  StreamHub hub(one_cpu, history);
  auto subscriber = std::make_shared<RecordingSubscriber>();
  SubscribeRequest request;
  request.series = selectors_from_patterns(std::vector<std::string>{"cpu.*.busy_pct"});
  request.batch = BatchSettings{3, 0ms};
  const Clock::time_point now{};
  ASSERT_NE(hub.subscribe(subscriber, request, 16, now), 0u);
  EXPECT_EQ(subscriber->last()["series"], json({cpu0}));

  std::vector<double> values(two_cpus->size(), 1.0);
  const auto publish = [&](std::uint64_t seq) {
    history.append(static_cast<std::int64_t>(seq) * 1000, values);
    hub.publish(seq, static_cast<std::int64_t>(seq) * 1000, values, now);
  };
  publish(1);
  publish(2);
  EXPECT_TRUE(subscriber->sample_frames().empty()) << "the batch of 3 is not full yet";
  hub.update_schema(two_cpus);
  auto frames = subscriber->sample_frames();
  ASSERT_EQ(frames.size(), 1u) << "the old columns' batch goes out before the change";
  EXPECT_EQ(frames[0]["series"], json({cpu0}));
  EXPECT_EQ(frames[0]["t"].size(), 2u);
  publish(3);
  publish(4);
  publish(5);
  frames = subscriber->sample_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1]["series"], json({cpu0, cpu1}));
  EXPECT_EQ(frames[1]["seq_first"], 3);

  // cpu0 retires: only cpu1 is left.
  std::vector<SeriesInfo> series(two_cpus->series().begin(), two_cpus->series().end());
  for (SeriesInfo& info : series) {
    if (!info.labels.empty() && info.labels[0].value == "0") {
      info.live = false;
      info.retired_seq = 6;
    }
  }
  hub.update_schema(std::make_shared<const Schema>(std::move(series), two_cpus->version() + 1));
  publish(6);
  publish(7);
  publish(8);
  frames = subscriber->sample_frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2]["series"], json({cpu1}));
  EXPECT_EQ(subscriber->seqs(), range(1, 8)) << "no gap across the changes";

  // A resume from 0 now gets what the subscriber above got, column set by column set.
  auto late = std::make_shared<RecordingSubscriber>();
  request.resume_from = 0;
  request.batch = BatchSettings{1, 0ms};
  ASSERT_NE(hub.subscribe(late, request, 16, now), 0u);
  const auto catch_up = late->sample_frames();
  ASSERT_EQ(catch_up.size(), 3u);
  EXPECT_EQ(catch_up[0]["series"], json({cpu0}));
  EXPECT_EQ(catch_up[0]["seq_first"], 1);
  EXPECT_EQ(catch_up[0]["seq_last"], 2);
  EXPECT_EQ(catch_up[1]["series"], json({cpu0, cpu1}));
  EXPECT_EQ(catch_up[1]["seq_last"], 5);
  EXPECT_EQ(catch_up[2]["series"], json({cpu1}));
  EXPECT_EQ(catch_up[2]["seq_last"], 8);
}

}  // namespace
}  // namespace hostpulse
