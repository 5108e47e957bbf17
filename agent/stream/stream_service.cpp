#include "agent/stream/stream_service.hpp"

#include <boost/asio/post.hpp>

#include "base/log.hpp"

namespace hostpulse {

namespace asio = boost::asio;

void StreamStats::count_close(std::uint16_t code) {
  for (std::size_t i = 0; i < kTrackedCloseCodes.size(); ++i) {
    if (kTrackedCloseCodes[i] == code) {
      ++closes[i];
      return;
    }
  }
  ++closes.back();
}

StreamService::StreamService(asio::io_context& io, SchemaSnapshot schema, const History& history, HelloInfo hello,
                             std::int64_t started_t_ms, StreamOptions options)
    : strand_(asio::make_strand(io)),
      flush_timer_(strand_),
      history_(history),
      hello_info_(hello),
      hello_host_(hello.host),
      hello_version_(hello.version),
      started_t_ms_(started_t_ms),
      options_(options),
      hub_(schema, history),
      schema_(std::move(schema)) {
  // Half the send queue: a resumed client still has room for live frames.
  hub_.set_catch_up_limit(options_.max_history_values, options_.max_queue_bytes / 2);
  // HelloInfo holds views; keep the strings they point at.
  hello_info_.host = hello_host_;
  hello_info_.version = hello_version_;
}

void StreamService::publish(const SampledPoint& point) {
  if (point.change != nullptr && point.schema) {
    // New connections get the new schema in their hello from now on; the
    // ones already open get the change, on the strand, before the point.
    {
      std::lock_guard lock(hello_mutex_);
      schema_ = point.schema;
      hello_cache_.reset();
    }
    asio::post(strand_, [this, schema = point.schema,
                         message = std::make_shared<const std::string>(
                             encode_schema_change(*point.schema, *point.change, point.seq))] {
      hub_.update_schema(schema);
      const OutboundFrame frame{.bytes = message, .binary = false, .kind = FrameKind::schema, .subscription = 0};
      for_each_session([&frame](StreamSession& session) { session.deliver(frame); });
    });
  }
  asio::post(strand_, [this, seq = point.seq, t_ms = point.t_ms,
                       copy = std::vector<double>(point.values.begin(), point.values.end())] {
    hub_.publish(seq, t_ms, copy, std::chrono::steady_clock::now());
    arm_flush_timer();
    snapshot_hub_stats();
  });
}

void StreamService::arm_flush_timer() {
  const auto deadline = hub_.next_deadline();
  if (!deadline) return;
  if (flush_timer_.expiry() == *deadline) return;
  flush_timer_.expires_at(*deadline);  // absolute deadline: no drift
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    hub_.flush_due(std::chrono::steady_clock::now());
    arm_flush_timer();
    snapshot_hub_stats();
  });
}

void StreamService::snapshot_hub_stats() {
  const HubStats s = hub_.stats();
  std::lock_guard lock(hub_stats_mutex_);
  hub_stats_ = s;
}

HubStats StreamService::hub_stats() const {
  std::lock_guard lock(hub_stats_mutex_);
  return hub_stats_;
}

StreamService::Admission StreamService::admit(const std::string& remote_address) {
  std::lock_guard lock(admission_mutex_);
  if (admitted_ >= options_.max_connections) return Admission::too_many;
  std::size_t& from_address = per_address_[remote_address];
  if (from_address >= options_.max_connections_per_ip) {
    if (from_address == 0) per_address_.erase(remote_address);
    return Admission::too_many_from_address;
  }
  ++from_address;
  ++admitted_;
  return Admission::admitted;
}

void StreamService::release(const std::string& remote_address) {
  std::lock_guard lock(admission_mutex_);
  const auto it = per_address_.find(remote_address);
  if (it == per_address_.end()) return;
  --admitted_;
  if (--it->second == 0) per_address_.erase(it);
}

void StreamService::attach(const std::shared_ptr<StreamSession>& session) {
  asio::post(strand_, [this, weak = std::weak_ptr<StreamSession>(session), key = session.get()] {
    sessions_[key] = weak;
  });
}

void StreamService::subscribe(const std::shared_ptr<StreamSession>& session, SubscribeRequest request) {
  asio::post(strand_, [this, session, request = std::move(request)] {
    hub_.subscribe(session, request, options_.max_subscriptions, std::chrono::steady_clock::now());
    arm_flush_timer();
    snapshot_hub_stats();
  });
}

void StreamService::unsubscribe(const std::shared_ptr<StreamSession>& session, UnsubscribeRequest request) {
  asio::post(strand_, [this, session, request = std::move(request)] {
    hub_.unsubscribe(session, request);
    snapshot_hub_stats();
  });
}

void StreamService::detach(const StreamSession* session) {
  asio::post(strand_, [this, session] {
    hub_.remove(session);
    sessions_.erase(session);
    snapshot_hub_stats();
  });
}

std::shared_ptr<const std::string> StreamService::hello() {
  const std::uint64_t seq = history_.last_seq();
  std::lock_guard lock(hello_mutex_);
  if (!hello_cache_ || hello_seq_ != seq) {
    HelloInfo info = hello_info_;
    info.seq = seq;
    hello_cache_ = std::make_shared<const std::string>(encode_hello(info, *schema_, started_t_ms_));
    hello_seq_ = seq;
  }
  return hello_cache_;
}

SchemaSnapshot StreamService::schema() const {
  std::lock_guard lock(hello_mutex_);
  return schema_;
}

void StreamService::shutdown() {
  asio::post(strand_, [this] {
    flush_timer_.cancel();
    hub_.flush_all();  // what was batched goes out before the close frames
    for_each_session([](StreamSession& session) { session.close_for_shutdown(); });
  });
}

}  // namespace hostpulse

namespace hostpulse {

void StreamService::publish_alert(std::string message) {
  asio::post(strand_, [this, frame = OutboundFrame{std::make_shared<const std::string>(std::move(message)), false,
                                                   FrameKind::alert, 0}] {
    for_each_session([&frame](StreamSession& session) { session.deliver(frame); });
  });
}

std::shared_ptr<const std::string> StreamService::active_alerts_message() const {
  if (!active_alerts_source_) return nullptr;
  return std::make_shared<const std::string>(active_alerts_source_());
}

void StreamService::abort_all() {
  asio::post(strand_, [this] {
    for_each_session([](StreamSession& session) { session.abort(); });
  });
}

}  // namespace hostpulse
