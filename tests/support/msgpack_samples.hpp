#pragma once

// Protocol 2's binary "samples" frame, decoded by the tests' own reading of
// docs/protocol.md (not the client library's), back to the JSON frame's
// shape: "t" absolute, "values" with null for no value. Tests compare it with
// the JSON frame of the same batch. Header-only: the agent's unit tests and
// the stream end-to-end tests both use it.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace hostpulse::test {

// The value as nlohmann's JSON parser holds the agent's text: whole numbers
// as integers, fractions as doubles.
inline nlohmann::json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    if (value >= 0) return static_cast<std::uint64_t>(value);
    return static_cast<std::int64_t>(value);
  }
  return value;
}

// A decoded msgpack samples frame with "cols" -> the same frame with "values".
// Throws std::runtime_error when it does not follow the contract.
inline nlohmann::json samples_as_json_shape(nlohmann::json frame) {
  using nlohmann::json;
  static constexpr double kPowersOfTen[] = {1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6};
  if (!frame.contains("cols") || frame.contains("values")) throw std::runtime_error("binary samples without cols");
  json& times = frame.at("t");
  for (std::size_t k = 1; k < times.size(); ++k) {
    times[k] = times[k - 1].get<std::int64_t>() + times[k].get<std::int64_t>();
  }
  const std::size_t points = times.size();
  json values = json::array();
  for (const json& column : frame.at("cols")) {
    if (!column.is_array() || column.empty() || column.size() > points + 1) {
      throw std::runtime_error("binary samples: bad column " + column.dump());
    }
    json out = json::array();
    if (column[0].is_null()) {
      if (column.size() != points + 1) throw std::runtime_error("float column of the wrong length");
      for (std::size_t k = 1; k < column.size(); ++k) {
        out.push_back(column[k].is_null() ? json(nullptr) : json_number(column[k].get<double>()));
      }
    } else {
      const auto decimals = column[0].get<int>();
      if (decimals < 0 || decimals > 6) throw std::runtime_error("decimals out of 0..6");
      std::int64_t scaled = 0;
      for (std::size_t k = 0; k < points; ++k) {
        const bool present = k + 1 < column.size();  // left-out trailing deltas are 0
        if (present && column[k + 1].is_null()) {
          out.push_back(nullptr);
          continue;
        }
        if (present) {
          if (!column[k + 1].is_number_integer()) throw std::runtime_error("a delta is not an integer");
          scaled += column[k + 1].get<std::int64_t>();
        }
        const auto whole = static_cast<double>(scaled);
        out.push_back(json_number(decimals == 0 ? whole : whole / kPowersOfTen[decimals]));
      }
    }
    values.push_back(std::move(out));
  }
  frame.erase("cols");
  frame["values"] = std::move(values);
  return frame;
}

}  // namespace hostpulse::test
