#include "agent/stream/messages.hpp"

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

namespace hostpulse {
namespace {

using json = nlohmann::ordered_json;

json start(std::string_view type, const RequestId& id) {
  json message = {{"type", type}};
  if (!id.empty()) message["id"] = json::parse(id, nullptr, false);
  return message;
}

json labels_json(const SeriesInfo& info) {
  json labels = json::object();
  for (const SeriesLabel& label : info.labels) labels[label.name] = label.value;
  return labels;
}

json decimals_json(const SeriesInfo& info) {
  return info.decimals == kFloatDecimals ? json(nullptr) : json(info.decimals);
}

}  // namespace

json series_json(const SeriesInfo& info) {
  return json{{"id", info.id},           {"name", info.name},   {"family", info.family},
              {"labels", labels_json(info)}, {"unit", info.unit}, {"kind", info.kind},
              {"decimals", decimals_json(info)}, {"description", info.description}, {"live", info.live}};
}

json families_json(const Schema& schema, std::span<const std::uint32_t> ids) {
  json families = json::array();
  std::map<std::string_view, std::size_t> position;  // family -> index in families
  for (const std::uint32_t id : ids) {
    if (id >= schema.size()) continue;
    const SeriesInfo& info = schema[id];
    auto [found, inserted] = position.try_emplace(info.family, families.size());
    if (inserted) {
      families.push_back(json{{"family", info.family},
                              {"unit", info.unit},
                              {"kind", info.kind},
                              {"decimals", decimals_json(info)},
                              {"description", info.description},
                              {"series", json::array()}});
    }
    json series{{"id", info.id}, {"name", info.name}};
    if (!info.labels.empty()) series["labels"] = labels_json(info);
    families[found->second]["series"].push_back(std::move(series));
  }
  return families;
}

namespace {

std::vector<std::uint32_t> live_ids(const Schema& schema) {
  std::vector<std::uint32_t> ids;
  ids.reserve(schema.live_count());
  for (const SeriesInfo& info : schema.series()) {
    if (info.live) ids.push_back(info.id);
  }
  return ids;
}

}  // namespace

std::string encode_schema_change(const Schema& schema, const SchemaChange& change, std::uint64_t seq) {
  json message = start("schema", {});
  message["version"] = schema.version();
  message["seq"] = seq;
  message["added"] = families_json(schema, change.added);
  message["retired"] = change.retired;
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_hello(const HelloInfo& info, const Schema& schema, std::int64_t started_t_ms) {
  json message = start("hello", {});
  message["protocol"] = kStreamProtocolVersion;
  message["version"] = info.version;
  message["host"] = info.host;
  message["interval_ms"] = info.interval.count();
  message["seq"] = info.seq;
  message["started_t"] = started_t_ms;
  message["schema_version"] = schema.version();
  message["families"] = families_json(schema, live_ids(schema));
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
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
