#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/pipeline/history.hpp"
#include <nlohmann/json.hpp>

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
// {"type":"schema","version":V,"seq":S,"added":[<series>...],"retired":[ids]}:
// what changed to make `schema` (version V), applying from point seq S.
std::string encode_schema_change(const Schema& schema, const SchemaChange& change, std::uint64_t seq);
// One series as the REST API describes it (with its description).
nlohmann::ordered_json series_json(const SeriesInfo& info);
// Series grouped by family, as hello and schema messages carry them: the
// family's unit, kind, decimals and description once, then each series' id,
// name and labels (omitted when empty). A 256-CPU host's schema is ~150 KB
// this way instead of ~550 KB flat. Families in order of their first id.
nlohmann::ordered_json families_json(const Schema& schema, std::span<const std::uint32_t> ids);

std::string encode_subscribed(const RequestId& id, std::uint32_t subscription, const Schema& schema,
                              std::span<const std::uint32_t> series, StreamFormat format, const BatchSettings& batch,
                              std::uint32_t every, std::uint64_t seq);
std::string encode_unsubscribed(const RequestId& id, std::uint32_t subscription);
std::string encode_error(const RequestId& id, std::string_view code, std::string_view message);
std::string encode_pong(const RequestId& id, std::int64_t server_t_ms);
std::string encode_history_reply(const RequestId& id, const Schema& schema, const HistoryColumns& columns);

}  // namespace hostpulse
