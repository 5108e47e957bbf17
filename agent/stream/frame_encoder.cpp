#include "agent/stream/frame_encoder.hpp"

#include <bit>
#include <cmath>

#include <fmt/format.h>

namespace hostpulse {

std::string_view format_name(StreamFormat format) {
  return format == StreamFormat::msgpack ? "msgpack" : "json";
}

void MsgpackWriter::big_endian(std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) byte(static_cast<std::uint8_t>(value >> (8 * i)));
}

void MsgpackWriter::map_header(std::size_t entries) {
  if (entries < 16) {
    byte(static_cast<std::uint8_t>(0x80 | entries));
  } else if (entries <= 0xffff) {
    byte(0xde);
    big_endian(entries, 2);
  } else {
    byte(0xdf);
    big_endian(entries, 4);
  }
}

void MsgpackWriter::array_header(std::size_t entries) {
  if (entries < 16) {
    byte(static_cast<std::uint8_t>(0x90 | entries));
  } else if (entries <= 0xffff) {
    byte(0xdc);
    big_endian(entries, 2);
  } else {
    byte(0xdd);
    big_endian(entries, 4);
  }
}

void MsgpackWriter::string(std::string_view text) {
  const std::size_t n = text.size();
  if (n < 32) {
    byte(static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xff) {
    byte(0xd9);
    big_endian(n, 1);
  } else if (n <= 0xffff) {
    byte(0xda);
    big_endian(n, 2);
  } else {
    byte(0xdb);
    big_endian(n, 4);
  }
  out_.append(text);
}

void MsgpackWriter::unsigned_integer(std::uint64_t value) {
  if (value < 128) {
    byte(static_cast<std::uint8_t>(value));
  } else if (value <= 0xff) {
    byte(0xcc);
    big_endian(value, 1);
  } else if (value <= 0xffff) {
    byte(0xcd);
    big_endian(value, 2);
  } else if (value <= 0xffffffff) {
    byte(0xce);
    big_endian(value, 4);
  } else {
    byte(0xcf);
    big_endian(value, 8);
  }
}

void MsgpackWriter::signed_integer(std::int64_t value) {
  if (value >= 0) return unsigned_integer(static_cast<std::uint64_t>(value));
  if (value >= -32) {
    byte(static_cast<std::uint8_t>(static_cast<std::int8_t>(value)));
  } else if (value >= INT8_MIN) {
    byte(0xd0);
    big_endian(static_cast<std::uint8_t>(static_cast<std::int8_t>(value)), 1);
  } else if (value >= INT16_MIN) {
    byte(0xd1);
    big_endian(static_cast<std::uint16_t>(static_cast<std::int16_t>(value)), 2);
  } else if (value >= INT32_MIN) {
    byte(0xd2);
    big_endian(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)), 4);
  } else {
    byte(0xd3);
    big_endian(static_cast<std::uint64_t>(value), 8);
  }
}

void MsgpackWriter::float32(float value) {
  byte(0xca);
  big_endian(std::bit_cast<std::uint32_t>(value), 4);
}

void MsgpackWriter::float64(double value) {
  byte(0xcb);
  big_endian(std::bit_cast<std::uint64_t>(value), 8);
}

void MsgpackWriter::nil() { byte(0xc0); }

void MsgpackWriter::boolean(bool value) { byte(value ? 0xc3 : 0xc2); }

void MsgpackWriter::number(double value) {
  if (!std::isfinite(value)) return nil();
  // 2^53: every whole double below it is an exact integer.
  constexpr double kExactIntegerLimit = 9007199254740992.0;
  if (value == std::trunc(value) && std::fabs(value) < kExactIntegerLimit) {
    return signed_integer(static_cast<std::int64_t>(value));
  }
  // float32 keeps ~7 significant digits: plenty for percentages and load
  // (derive already rounds them to 0.01), not for large counters.
  constexpr double kFloat32Limit = 16777216.0;  // 2^24
  if (std::fabs(value) < kFloat32Limit) return float32(static_cast<float>(value));
  float64(value);
}

namespace {

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  // fmt's "{}" prints the shortest representation that round-trips.
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void encode_json(const SamplesBatch& batch, std::string& out) {
  const std::size_t points = batch.t_ms.size();
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"type":"samples","sub":{},"seq_first":{},"seq_last":{},"t":[)", batch.subscription,
                 batch.seq_first, batch.seq_last);
  for (std::size_t k = 0; k < points; ++k) {
    if (k) out.push_back(',');
    fmt::format_to(it, "{}", batch.t_ms[k]);
  }
  out.append(R"(],"series":[)");
  for (std::size_t i = 0; i < batch.series.size(); ++i) {
    if (i) out.push_back(',');
    fmt::format_to(it, "{}", batch.series[i]);
  }
  out.append(R"(],"values":[)");
  for (std::size_t i = 0; i < batch.series.size(); ++i) {
    out.append(i ? ",[" : "[");
    for (std::size_t k = 0; k < points; ++k) {
      if (k) out.push_back(',');
      append_json_number(out, batch.values[i * points + k]);
    }
    out.push_back(']');
  }
  out.append("]}");
}

void encode_msgpack(const SamplesBatch& batch, std::string& out) {
  const std::size_t points = batch.t_ms.size();
  MsgpackWriter w(out);
  w.map_header(7);
  w.string("type");
  w.string("samples");
  w.string("sub");
  w.unsigned_integer(batch.subscription);
  w.string("seq_first");
  w.unsigned_integer(batch.seq_first);
  w.string("seq_last");
  w.unsigned_integer(batch.seq_last);
  w.string("t");
  w.array_header(points);
  for (std::int64_t t : batch.t_ms) w.signed_integer(t);
  w.string("series");
  w.array_header(batch.series.size());
  for (std::uint32_t id : batch.series) w.unsigned_integer(id);
  w.string("values");
  w.array_header(batch.series.size());
  for (std::size_t i = 0; i < batch.series.size(); ++i) {
    w.array_header(points);
    for (std::size_t k = 0; k < points; ++k) w.number(batch.values[i * points + k]);
  }
}

}  // namespace

void encode_samples(const SamplesBatch& batch, StreamFormat format, std::string& out) {
  out.clear();
  if (format == StreamFormat::msgpack) {
    encode_msgpack(batch, out);
  } else {
    encode_json(batch, out);
  }
}

}  // namespace hostpulse
