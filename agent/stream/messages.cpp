#include "agent/stream/messages.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace hostpulse {
namespace {

using json = nlohmann::ordered_json;

json start(std::string_view type, const RequestId& id) {
  json message = {{"type", type}};
  if (!id.empty()) message["id"] = json::parse(id, nullptr, false);
  return message;
}

}  // namespace

std::string encode_hello(const HelloInfo& info, const Schema& schema, std::int64_t started_t_ms) {
  json series = json::array();
  for (const SeriesInfo& s : schema.series()) {
    series.push_back({{"id", s.id}, {"name", s.name}, {"unit", s.unit}, {"kind", s.kind}});
  }
  json message = start("hello", {});
  message["protocol"] = kStreamProtocolVersion;
  message["version"] = info.version;
  message["host"] = info.host;
  message["interval_ms"] = info.interval.count();
  message["seq"] = info.seq;
  message["started_t"] = started_t_ms;
  message["schema"] = std::move(series);
  return message.dump();
}

std::string encode_subscribed(const RequestId& id, std::uint32_t subscription, const Schema& schema,
                              std::span<const std::uint32_t> series, StreamFormat format, const BatchSettings& batch,
                              std::uint32_t every, std::uint64_t seq) {
  json ids = json::array();
  json names = json::array();
  for (std::uint32_t s : series) {
    ids.push_back(s);
    names.push_back(schema[s].name);
  }
  json message = start("subscribed", id);
  message["sub"] = subscription;
  message["series"] = std::move(ids);
  message["names"] = std::move(names);
  message["format"] = format_name(format);
  message["batch"] = {{"max_samples", batch.max_samples}, {"max_delay_ms", batch.max_delay.count()}};
  message["every"] = every;
  message["seq"] = seq;
  return message.dump();
}

std::string encode_unsubscribed(const RequestId& id, std::uint32_t subscription) {
  json message = start("unsubscribed", id);
  message["sub"] = subscription;
  return message.dump();
}

std::string encode_error(const RequestId& id, std::string_view code, std::string_view message_text) {
  json message = start("error", id);
  message["code"] = code;
  message["message"] = message_text;
  // Invalid UTF-8 from a client echoed in a message must not throw.
  return message.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string encode_pong(const RequestId& id, std::int64_t server_t_ms) {
  json message = start("pong", id);
  message["t"] = server_t_ms;
  return message.dump();
}

std::string encode_history_reply(const RequestId& id, const Schema& schema, const HistoryColumns& columns) {
  json message = start("history", id);
  json ids = json::array();
  for (std::uint32_t s : columns.series) ids.push_back(s);
  json names = json::array();
  for (std::uint32_t s : columns.series) names.push_back(schema[s].name);
  json values = json::array();
  for (const auto& column : columns.values) {
    json array = json::array();
    for (double v : column) array.push_back(std::isfinite(v) ? json(v) : json(nullptr));
    values.push_back(std::move(array));
  }
  message["seq_first"] = columns.seq_first;
  message["seq_last"] = columns.seq_last;
  message["t"] = columns.t_ms;
  message["series"] = std::move(ids);
  message["names"] = std::move(names);
  message["values"] = std::move(values);
  return message.dump();
}

}  // namespace hostpulse
