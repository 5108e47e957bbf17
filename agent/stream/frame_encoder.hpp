#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/pipeline/schema.hpp"

namespace hostpulse {

enum class StreamFormat : std::uint8_t { json, msgpack };
std::string_view format_name(StreamFormat format);

// One "samples" frame in columnar form. values is series-major:
// values[i * points + k] is series[i] at t_ms[k]; NaN means no value.
struct SamplesBatch {
  std::uint32_t subscription = 0;
  std::uint64_t seq_first = 0;
  std::uint64_t seq_last = 0;
  std::span<const std::int64_t> t_ms;
  std::span<const std::uint32_t> series;
  std::span<const double> values;
};

// Encodes a samples frame into out (cleared first; its capacity is reused, so
// a steady tick allocates nothing once out has grown to the frame's size).
// JSON: {"type":"samples","sub":N,"seq_first":..,"seq_last":..,"t":[..],"series":[ids],"values":[[..],..]}
// with the shortest decimal that round-trips each value and null for
// non-finite values.
// msgpack (docs/protocol.md, protocol 2): the same header, "t" as the first
// time then differences, and "cols" instead of "values": per series either
// [decimals, delta...] over the values scaled by 10^decimals (nil for
// non-finite, skipped by the deltas) or, when no decimals in 0..6 are exact,
// [nil, value...] raw float32/float64. Decoding gives back exactly the
// doubles that the JSON frame's numbers parse to.
void encode_samples(const SamplesBatch& batch, StreamFormat format, std::string& out);

// The decimals of a msgpack column: the smallest d in 0..kMaxColumnDecimals
// such that every finite value is k / 10^d exactly (same bits) for an integer
// k with |k| < 2^53; nullopt when there is none (a float column).
inline constexpr int kMaxColumnDecimals = 6;  // microunits: finer than anything derive produces
std::optional<int> column_decimals(std::span<const double> column);

// A minimal MessagePack writer: just what hostpulse frames need.
class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out) : out_(out) {}
  void map_header(std::size_t entries);
  void array_header(std::size_t entries);
  void string(std::string_view text);
  void unsigned_integer(std::uint64_t value);
  void signed_integer(std::int64_t value);
  void float32(float value);
  void float64(double value);
  void nil();
  void boolean(bool value);
  // float32 when it converts back to the same double, else float64; nil when not finite.
  void exact_float(double value);

 private:
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  // tag, then value in its low `bytes` bytes, big-endian.
  void tagged(std::uint8_t tag, std::uint64_t value, int bytes);
  std::string& out_;
};

}  // namespace hostpulse
