#include "frame_decoding.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace hostpulse::client::detail {

using json = nlohmann::json;

namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
constexpr double kFloat32Exact = 16777216.0;  // 2^24: the agent sends float32 only below this

// An integer field in the range of Integer. nlohmann's get<Integer>() also
// converts floats, and a float outside Integer's range (1e300 as a seq) is
// undefined behaviour; an integer outside it would be cut silently.
template <typename Integer>
Integer as_integer(const json& value, std::string_view what) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (std::in_range<Integer>(number)) return static_cast<Integer>(number);
  } else if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    if (std::in_range<Integer>(number)) return static_cast<Integer>(number);
  }
  throw std::runtime_error(std::string(what) + ": expected an integer from " +
                           std::to_string(std::numeric_limits<Integer>::min()) + " to " +
                           std::to_string(std::numeric_limits<Integer>::max()));
}

template <typename Integer>
Integer integer_or(const json& object, const char* key, Integer fallback) {
  const auto it = object.find(key);
  return it == object.end() ? fallback : as_integer<Integer>(*it, key);
}

}  // namespace

std::optional<json> decode_message(std::string_view bytes, bool binary) {
  json message = binary ? json::from_msgpack(bytes, true, false) : json::parse(bytes, nullptr, false);
  if (message.is_discarded() || !message.is_object()) return std::nullopt;
  return message;
}

Hello decode_hello(const json& message) {
  Hello hello;
  hello.protocol = as_integer<int>(message.at("protocol"), "protocol");
  hello.version = message.value("version", "");
  hello.host = message.value("host", "");
  hello.interval_ms = integer_or(message, "interval_ms", std::int64_t{0});
  hello.started_t = integer_or(message, "started_t", std::int64_t{0});
  hello.seq = integer_or(message, "seq", std::uint64_t{0});
  hello.schema_version = integer_or(message, "schema_version", std::uint64_t{0});
  hello.schema = decode_families(message.at("families"));
  return hello;
}

std::vector<SeriesInfo> decode_families(const json& families) {
  if (!families.is_array()) throw std::runtime_error("families must be an array");
  std::vector<SeriesInfo> out;
  for (const json& family : families) {
    if (!family.is_object()) throw std::runtime_error("a family must be an object");
    const std::string name = family.at("family").get<std::string>();
    const std::string unit = family.value("unit", "");
    const std::string kind = family.value("kind", "");
    const json& series = family.at("series");
    if (!series.is_array()) throw std::runtime_error("family " + name + ": series must be an array");
    for (const json& entry : series) {
      SeriesInfo info{.id = as_integer<std::uint32_t>(entry.at("id"), "series id"),
                      .name = entry.at("name").get<std::string>(),
                      .family = name,
                      .labels = {},
                      .unit = unit,
                      .kind = kind};
      if (const auto labels = entry.find("labels"); labels != entry.end()) {
        if (!labels->is_object()) throw std::runtime_error("series " + info.name + ": labels must be an object");
        for (const auto& [label, value] : labels->items()) info.labels.emplace_back(label, value.get<std::string>());
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

std::uint64_t decode_subscribed_seq(const json& message) { return integer_or(message, "seq", std::uint64_t{0}); }

Batch decode_samples(json& frame, bool binary, const NamesById& names_by_id) {
  Batch batch;
  batch.seq_first = as_integer<std::uint64_t>(frame.at("seq_first"), "seq_first");
  batch.seq_last = as_integer<std::uint64_t>(frame.at("seq_last"), "seq_last");
  const json& times = frame.at("t");
  if (!times.is_array()) throw std::runtime_error("samples: t must be an array");
  batch.t.reserve(times.size());
  for (const json& t : times) batch.t.push_back(as_integer<std::int64_t>(t, "t"));
  const json& ids = frame.at("series");
  json& columns = frame.at("values");
  if (!ids.is_array() || !columns.is_array() || ids.size() != columns.size()) {
    throw std::runtime_error("samples: series and values differ in length");
  }
  batch.names.reserve(ids.size());
  batch.values.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = as_integer<std::uint32_t>(ids[i], "series id");
    const auto name = names_by_id.find(id);
    batch.names.push_back(name != names_by_id.end() ? name->second : "#" + std::to_string(id));
    json& column = columns[i];
    if (!column.is_array() || column.size() != batch.t.size()) {
      throw std::runtime_error("samples: a column's length differs from t's");
    }
    std::vector<double> values;
    values.reserve(column.size());
    for (const json& value : column) values.push_back(value.is_number() ? value.get<double>() : kNoValue);
    if (binary) {
      // msgpack carries fractions as float32 (docs/protocol.md); the agent
      // rounded them to 0.01 first, so rounding again restores the exact value.
      for (double& value : values) {
        if (std::isfinite(value) && std::fabs(value) < kFloat32Exact && value != std::floor(value)) {
          value = std::round(value * 100.0) / 100.0;
        }
      }
      for (std::size_t k = 0; k < values.size(); ++k) {
        if (column[k].is_number_float()) column[k] = values[k];  // the same in Batch::frame
      }
    }
    batch.values.push_back(std::move(values));
  }
  return batch;
}

}  // namespace hostpulse::client::detail
