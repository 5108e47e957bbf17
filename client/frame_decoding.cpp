#include "frame_decoding.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace hostpulse::client::detail {

using json = nlohmann::json;

namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
constexpr double kFloat32Exact = 16777216.0;  // 2^24: the agent sends float32 only below this

}  // namespace

std::optional<json> decode_message(std::string_view bytes, bool binary) {
  json message = binary ? json::from_msgpack(bytes, true, false) : json::parse(bytes, nullptr, false);
  if (message.is_discarded() || !message.is_object()) return std::nullopt;
  return message;
}

Hello decode_hello(const json& message) {
  Hello hello;
  hello.protocol = message.at("protocol").get<int>();
  hello.version = message.value("version", "");
  hello.host = message.value("host", "");
  hello.interval_ms = message.value("interval_ms", std::int64_t{0});
  hello.started_t = message.value("started_t", std::int64_t{0});
  hello.seq = message.value("seq", std::uint64_t{0});
  for (const json& series : message.at("schema")) {
    hello.schema.push_back(SeriesInfo{.id = series.at("id").get<std::uint32_t>(),
                                      .name = series.at("name").get<std::string>(),
                                      .unit = series.value("unit", ""),
                                      .kind = series.value("kind", "")});
  }
  return hello;
}

Batch decode_samples(json& frame, bool binary, const NamesById& names_by_id) {
  Batch batch;
  batch.seq_first = frame.at("seq_first").get<std::uint64_t>();
  batch.seq_last = frame.at("seq_last").get<std::uint64_t>();
  batch.t = frame.at("t").get<std::vector<std::int64_t>>();
  const json& ids = frame.at("series");
  json& columns = frame.at("values");
  if (!ids.is_array() || !columns.is_array() || ids.size() != columns.size()) {
    throw std::runtime_error("samples: series and values differ in length");
  }
  batch.names.reserve(ids.size());
  batch.values.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = ids[i].get<std::uint32_t>();
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
