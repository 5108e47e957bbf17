#include "frame_decoding.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace hostpulse::client::detail {

using json = nlohmann::json;

namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

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

namespace {

// 2^53: the contract keeps scaled integers below it, where doubles are exact.
constexpr std::int64_t kScaledIntegerLimit = std::int64_t{1} << 53;
constexpr int kMaxDecimals = 6;
constexpr double kPowersOfTen[kMaxDecimals + 1] = {1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6};

double number_or_no_value(const json& value) {
  if (value.is_null()) return kNoValue;
  if (!value.is_number()) throw std::runtime_error("samples: a value must be a number or null");
  return value.get<double>();
}

std::vector<double> decode_json_column(const json& column, std::size_t points) {
  if (!column.is_array() || column.size() != points) {
    throw std::runtime_error("samples: a column's length differs from t's");
  }
  std::vector<double> values;
  values.reserve(points);
  for (const json& value : column) values.push_back(value.is_number() ? value.get<double>() : kNoValue);
  return values;
}

// A msgpack column (docs/protocol.md, "samples" in msgpack): [decimals, deltas...]
// of the values scaled by 10^decimals, trailing zero deltas left out, or
// [nil, raw values...]. k / 10^d in doubles is exactly the double the JSON
// frame's number parses to.
std::vector<double> decode_binary_column(const json& column, std::size_t points) {
  if (!column.is_array() || column.empty() || column.size() > points + 1) {
    throw std::runtime_error("samples: a column must be [decimals, deltas...] with at most one entry per t");
  }
  std::vector<double> values;
  values.reserve(points);
  if (column[0].is_null()) {
    if (column.size() != points + 1) throw std::runtime_error("samples: a float column needs one entry per t");
    for (std::size_t k = 1; k < column.size(); ++k) values.push_back(number_or_no_value(column[k]));
    return values;
  }
  const int decimals = as_integer<int>(column[0], "samples: decimals");
  if (decimals < 0 || decimals > kMaxDecimals) throw std::runtime_error("samples: decimals must be 0 to 6");
  std::int64_t scaled = 0;
  for (std::size_t k = 0; k < points; ++k) {
    const json* delta = k + 1 < column.size() ? &column[k + 1] : nullptr;  // left out: 0
    if (delta && delta->is_null()) {
      values.push_back(kNoValue);
      continue;
    }
    if (delta) {
      const auto x = as_integer<std::int64_t>(*delta, "samples: delta");
      if (__builtin_add_overflow(scaled, x, &scaled) || scaled <= -kScaledIntegerLimit ||
          scaled >= kScaledIntegerLimit) {
        throw std::runtime_error("samples: a scaled value is not below 2^53");
      }
    }
    const auto whole = static_cast<double>(scaled);
    values.push_back(decimals == 0 ? whole : whole / kPowersOfTen[decimals]);
  }
  return values;
}

// The value as the JSON frame's parser holds it: whole numbers as integers,
// so Batch::frame of a binary frame dumps like the JSON frame.
json as_json_value(double value) {
  if (!std::isfinite(value)) return nullptr;
  if (value == std::trunc(value) && std::fabs(value) < static_cast<double>(kScaledIntegerLimit) &&
      !(value == 0 && std::signbit(value))) {
    if (value >= 0) return static_cast<std::uint64_t>(value);
    return static_cast<std::int64_t>(value);
  }
  return value;
}

}  // namespace

Batch decode_samples(json& frame, bool binary, const NamesById& names_by_id) {
  Batch batch;
  batch.seq_first = as_integer<std::uint64_t>(frame.at("seq_first"), "seq_first");
  batch.seq_last = as_integer<std::uint64_t>(frame.at("seq_last"), "seq_last");
  const json& times = frame.at("t");
  if (!times.is_array()) throw std::runtime_error("samples: t must be an array");
  batch.t.reserve(times.size());
  for (const json& t : times) {
    const auto value = as_integer<std::int64_t>(t, "t");
    // msgpack: the first time, then differences (wrapping, as the agent writes them).
    batch.t.push_back(binary && !batch.t.empty()
                          ? static_cast<std::int64_t>(static_cast<std::uint64_t>(batch.t.back()) +
                                                      static_cast<std::uint64_t>(value))
                          : value);
  }
  const json& ids = frame.at("series");
  const json& columns = frame.at(binary ? "cols" : "values");
  if (!ids.is_array() || !columns.is_array() || ids.size() != columns.size()) {
    throw std::runtime_error("samples: series and values differ in length");
  }
  batch.names.reserve(ids.size());
  batch.values.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = as_integer<std::uint32_t>(ids[i], "series id");
    const auto name = names_by_id.find(id);
    batch.names.push_back(name != names_by_id.end() ? name->second : "#" + std::to_string(id));
    batch.values.push_back(binary ? decode_binary_column(columns[i], batch.t.size())
                                  : decode_json_column(columns[i], batch.t.size()));
  }
  if (binary) {
    // Batch::frame shows the JSON frame's shape whichever format came.
    json values = json::array();
    for (const std::vector<double>& column : batch.values) {
      json array = json::array();
      for (double value : column) array.push_back(as_json_value(value));
      values.push_back(std::move(array));
    }
    frame["t"] = batch.t;
    frame.erase("cols");
    frame["values"] = std::move(values);
  }
  return batch;
}

}  // namespace hostpulse::client::detail
