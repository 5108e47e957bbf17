#pragma once

#include <cstddef>
#include <cstdint>
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

// Encodes a samples frame into out (cleared first; its capacity is reused).
// JSON: {"type":"samples","sub":N,"seq_first":..,"seq_last":..,"t":[..],"series":[ids],"values":[[..],..]}
// with the shortest decimal that round-trips each value and null for NaN.
// msgpack: the same map; whole numbers as integers, fractional values as
// float32 when within float32's exact-integer range (2^24), else float64, NaN as nil.
void encode_samples(const SamplesBatch& batch, StreamFormat format, std::string& out);

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
  // Whole numbers as integers, others as float32 or float64 (see encode_samples).
  void number(double value);

 private:
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void big_endian(std::uint64_t value, int bytes);
  std::string& out_;
};

}  // namespace hostpulse
