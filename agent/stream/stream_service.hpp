#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/stream/hub.hpp"
#include "agent/stream/messages.hpp"
#include "agent/stream/stream_options.hpp"

namespace hostpulse {

// Close codes the stream uses (RFC 6455 + 4001).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t abnormal = 1006;  // never sent: the connection dropped without a close frame
inline constexpr std::uint16_t policy = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t overloaded = 1013;
inline constexpr std::uint16_t unauthorized = 4001;
}  // namespace close_code

// Counters for /api/v1/health; updated from session strands.
struct StreamStats {
  static constexpr std::array<std::uint16_t, 8> kTrackedCloseCodes = {1000, 1001, 1006, 1008, 1009, 1011, 1013, 4001};
  std::atomic<std::uint64_t> sessions_active{0};
  std::atomic<std::uint64_t> sessions_total{0};
  std::atomic<std::uint64_t> sessions_rejected{0};
  std::atomic<std::uint64_t> frames_sent{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> frames_dropped{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> queue_bytes{0};        // sum over sessions, now
  std::atomic<std::uint64_t> queue_bytes_max{0};    // largest single queue seen
  std::array<std::atomic<std::uint64_t>, kTrackedCloseCodes.size() + 1> closes{};  // last: other codes

  void count_close(std::uint16_t code);
};

// A live stream connection as the service sees it.
class StreamSession : public StreamSubscriber {
 public:
  // Close with 1001 once everything queued is sent.
  virtual void close_for_shutdown() = 0;
  // Drop the connection now (the process is exiting).
  virtual void abort() = 0;
};

// Owns the hub and runs it on its own strand; the bridge between the sampler
// thread, the sessions' strands and the hub. No Beast here.
class StreamService {
 public:
  StreamService(boost::asio::io_context& io, SchemaSnapshot schema, const History& history, HelloInfo hello,
                std::int64_t started_t_ms, StreamOptions options);

  // Sampler thread: copies the point and posts it to the hub. Never blocks.
  // A schema change in it reaches every connection before the point's frames.
  void publish(const SampledPoint& point);

  // Session side (any thread).
  enum class Admission { admitted, too_many, too_many_from_address };
  Admission admit(const std::string& remote_address);
  void release(const std::string& remote_address);
  void attach(const std::shared_ptr<StreamSession>& session);
  void subscribe(const std::shared_ptr<StreamSession>& session, SubscribeRequest request);
  void unsubscribe(const std::shared_ptr<StreamSession>& session, UnsubscribeRequest request);
  void detach(const StreamSession* session);

  // The "hello" for a new connection (encoded at most once per tick).
  std::shared_ptr<const std::string> hello();

  // Alert events go to every connection that has not turned them off; they
  // are never dropped for slow clients. Any thread.
  void publish_alert(std::string message);
  // What a new connection gets after hello: {"type":"alerts","active":[...]}.
  void set_active_alerts_source(std::function<std::string()> source) { active_alerts_source_ = std::move(source); }
  [[nodiscard]] std::shared_ptr<const std::string> active_alerts_message() const;

  // Final flush, then every session closes with 1001.
  void shutdown();
  // Drops every connection still open (after shutdown() had its chance).
  void abort_all();

  [[nodiscard]] const StreamOptions& options() const { return options_; }
  // The newest schema (any thread).
  [[nodiscard]] SchemaSnapshot schema() const;
  [[nodiscard]] const History& history() const { return history_; }
  StreamStats& stats() { return stats_; }
  [[nodiscard]] HubStats hub_stats() const;

 private:
  void arm_flush_timer();
  void snapshot_hub_stats();
  // Calls f on every live session (on strand_).
  template <typename F>
  void for_each_session(F&& f) {
    for (auto& [key, weak] : sessions_) {
      if (auto session = weak.lock()) f(*session);
    }
  }

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer flush_timer_;
  const History& history_;
  HelloInfo hello_info_;
  std::string hello_host_;
  std::string hello_version_;
  std::int64_t started_t_ms_;
  StreamOptions options_;
  StreamHub hub_;  // touched only on strand_
  std::unordered_map<const StreamSession*, std::weak_ptr<StreamSession>> sessions_;  // strand_ only
  StreamStats stats_;
  std::function<std::string()> active_alerts_source_;

  mutable std::mutex hub_stats_mutex_;
  HubStats hub_stats_;

  mutable std::mutex hello_mutex_;  // guards schema_ and the hello cache
  SchemaSnapshot schema_;
  std::uint64_t hello_seq_ = UINT64_MAX;
  std::shared_ptr<const std::string> hello_cache_;

  std::mutex admission_mutex_;
  std::size_t admitted_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace hostpulse
