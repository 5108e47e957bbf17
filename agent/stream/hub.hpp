#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/stream/frame_encoder.hpp"
#include "agent/stream/outbound_queue.hpp"
#include "agent/stream/protocol.hpp"

namespace hostpulse {

// A receiver of frames: the WebSocket session in the agent, a fake in tests.
// The hub knows nothing about sockets (STYLE rule 10).
class StreamSubscriber {
 public:
  virtual ~StreamSubscriber() = default;
  // Called on the hub's thread; must not block (a session posts to its strand).
  virtual void deliver(const OutboundFrame& frame) = 0;
};

struct HubStats {
  std::size_t groups = 0;          // distinct subscription shapes
  std::size_t subscriptions = 0;   // subscriber x shape
  std::uint64_t frames_encoded = 0;
  std::uint64_t bytes_encoded = 0;
  std::uint64_t deliveries = 0;    // frames handed to subscribers (encoded once, delivered many times)
};

// The fan-out core. Subscribers with the same shape (series, format, batch,
// decimation) share a group: each batch is encoded once per group and the
// same immutable buffer goes to every member (STYLE rule 8). The group's id is
// the "sub" clients see in frames.
//
// Not thread-safe by design: the agent calls it only from one strand.
class StreamHub {
 public:
  // Catch-up frames carry at most this many points, so one resume never
  // produces one giant frame.
  static constexpr std::size_t kCatchUpChunkPoints = 300;

  StreamHub(SchemaSnapshot schema, const History& history);

  // The schema after series appeared or retired, before the first point that
  // uses it. Every subscription follows it: series that match its selectors
  // join its columns, retired ones leave them. A batch being filled with the
  // old columns is sent first, so one frame never mixes two column sets.
  void update_schema(SchemaSnapshot schema);
  [[nodiscard]] const Schema& schema() const { return *schema_; }
  // Catch-up for one subscribe holds at most this many values and encoded
  // bytes (newest kept): it must fit the connection's send queue with room
  // left for live frames, since everything queued counts toward that limit.
  void set_catch_up_limit(std::size_t max_values, std::size_t max_bytes) {
    catch_up_limit_values_ = max_values;
    catch_up_limit_bytes_ = max_bytes;
  }

  // Resolves the request and either delivers "subscribed" (then, with
  // resume_from, every retained point after it, then live frames — no gap, no
  // duplicate) or an "error" frame. Returns the subscription id, 0 on error.
  std::uint32_t subscribe(const std::shared_ptr<StreamSubscriber>& subscriber, const SubscribeRequest& request,
                          std::size_t max_subscriptions_per_subscriber, std::chrono::steady_clock::time_point now);
  // Delivers "unsubscribed" or an error.
  void unsubscribe(const std::shared_ptr<StreamSubscriber>& subscriber, const UnsubscribeRequest& request);
  // Forgets a subscriber entirely (its connection closed).
  void remove(const StreamSubscriber* subscriber);

  // A new point from the sampler (already in history).
  void publish(std::uint64_t seq, std::int64_t t_ms, std::span<const double> values,
               std::chrono::steady_clock::time_point now);
  // Sends batches whose max_delay has passed.
  void flush_due(std::chrono::steady_clock::time_point now);
  // Sends every waiting batch now (shutdown's final flush).
  void flush_all();
  // When flush_due() next has work, if ever.
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> next_deadline() const;

  [[nodiscard]] std::uint64_t last_published_seq() const { return last_published_seq_; }
  [[nodiscard]] HubStats stats() const;

 private:
  struct Member {
    std::weak_ptr<StreamSubscriber> subscriber;
    const StreamSubscriber* key;
    // Resumed inside the group's pending batch: the next frame must skip
    // seqs up to here (that member gets its own, trimmed encoding once).
    std::uint64_t skip_through_seq = 0;
  };
  struct Group {
    std::uint32_t id = 0;
    std::vector<SeriesSelector> selectors;  // what was asked for
    std::vector<std::uint32_t> series;      // what it matches now (the frames' columns)
    StreamFormat format = StreamFormat::json;
    BatchSettings batch;
    std::uint32_t every = 1;
    std::vector<Member> members;
    // The batch being filled, point-major: pending_values[k * series + i].
    std::vector<std::uint64_t> pending_seq;
    std::vector<std::int64_t> pending_t_ms;
    std::vector<double> pending_values;
    std::chrono::steady_clock::time_point deadline{};
  };

  Group* find_group(std::span<const SeriesSelector> selectors, StreamFormat format, const BatchSettings& batch,
                    std::uint32_t every);
  void flush(Group& group);
  void deliver_to_members(Group& group, const OutboundFrame& frame);
  void deliver_trimmed(Group& group, Member& member, std::size_t points);
  void send_catch_up(const std::shared_ptr<StreamSubscriber>& subscriber, const Group& group,
                     std::uint64_t after_seq, std::uint64_t until_seq);
  // Frames of one run of points (keep: indexes into columns) with the
  // columns `series` (positions `column_of` in columns), newest first, within
  // what is left of the byte budget; false when the budget ran out before
  // the run's oldest point.
  bool encode_catch_up_run(const Group& group, const HistoryColumns& columns, std::span<const std::size_t> keep,
                           std::span<const std::uint32_t> series, std::span<const std::size_t> column_of,
                           std::size_t& bytes_total, std::vector<OutboundFrame>& frames) const;
  void erase_empty_groups();

  SchemaSnapshot schema_;
  const History& history_;
  std::vector<std::unique_ptr<Group>> groups_;
  std::unordered_map<const StreamSubscriber*, std::size_t> subscription_counts_;
  std::uint32_t next_group_id_ = 1;
  std::uint64_t last_published_seq_;
  std::size_t catch_up_limit_values_ = 1'000'000;
  std::size_t catch_up_limit_bytes_ = 4u << 20;
  std::string encode_buffer_;
  std::vector<double> column_buffer_;
  HubStats stats_;
};

}  // namespace hostpulse
