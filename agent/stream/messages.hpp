#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/stream/protocol.hpp"

namespace hostpulse {

// Server -> client control messages (JSON text frames). Not on the per-tick
// path: samples frames use frame_encoder instead.
struct HelloInfo {
  std::string_view version;
  std::string_view host;
  std::chrono::milliseconds interval;
  std::uint64_t seq = 0;
};
// "started_t" lets a client tell an agent restart (seq starts again at 1)
// from a reconnect to the same process.
std::string encode_hello(const HelloInfo& info, const Schema& schema, std::int64_t started_t_ms);

std::string encode_subscribed(const RequestId& id, std::uint32_t subscription, const Schema& schema,
                              std::span<const std::uint32_t> series, StreamFormat format, const BatchSettings& batch,
                              std::uint32_t every, std::uint64_t seq);
std::string encode_unsubscribed(const RequestId& id, std::uint32_t subscription);
std::string encode_error(const RequestId& id, std::string_view code, std::string_view message);
std::string encode_pong(const RequestId& id, std::int64_t server_t_ms);
std::string encode_history_reply(const RequestId& id, const Schema& schema, const HistoryColumns& columns);

}  // namespace hostpulse
