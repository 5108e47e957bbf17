#include "agent/stream/frame_encoder.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hostpulse {

std::string_view format_name(StreamFormat format) {
  return format == StreamFormat::msgpack ? "msgpack" : "json";
}

void MsgpackWriter::big_endian(std::uint64_t value, int bytes) {
  // One append per number rather than one push_back per byte.
  char buffer[8];
  for (int i = 0; i < bytes; ++i) buffer[i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
  out_.append(buffer, static_cast<std::size_t>(bytes));
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
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const char encoded[5] = {static_cast<char>(0xca), static_cast<char>(bits >> 24), static_cast<char>(bits >> 16),
                           static_cast<char>(bits >> 8), static_cast<char>(bits)};
  out_.append(encoded, sizeof encoded);
}

void MsgpackWriter::float64(double value) {
  byte(0xcb);
  big_endian(std::bit_cast<std::uint64_t>(value), 8);
}

void MsgpackWriter::nil() { byte(0xc0); }

void MsgpackWriter::boolean(bool value) { byte(value ? 0xc3 : 0xc2); }

void MsgpackWriter::exact_float(double value) {
  if (!std::isfinite(value)) return nil();
  // The range check first: converting a double beyond float's range is undefined.
  if (std::fabs(value) <= static_cast<double>(std::numeric_limits<float>::max())) {
    const auto narrow = static_cast<float>(value);
    if (std::bit_cast<std::uint64_t>(static_cast<double>(narrow)) == std::bit_cast<std::uint64_t>(value)) {
      return float32(narrow);
    }
  }
  float64(value);
}

namespace {

// 2^53: every integer of smaller magnitude is exactly a double.
constexpr double kExactIntegerLimit = 9007199254740992.0;
// Below 2^50, v * 10^d is within 0.5 of k for v == k / 10^d (two roundings of
// relative 2^-53 each), so rounding finds k; above, k may be a neighbour.
constexpr double kRoundingFindsScaledInteger = 1125899906842624.0;
constexpr double kPowersOfTen[kMaxColumnDecimals + 1] = {1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6};

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// The integer k with k / 10^decimals == value (same bits: -0.0 has none), if any.
std::optional<std::int64_t> scaled_integer(double value, int decimals) {
  const double scale = kPowersOfTen[decimals];
  const double scaled = std::round(value * scale);
  if (!(std::fabs(scaled) < kExactIntegerLimit)) return std::nullopt;
  const auto k = static_cast<std::int64_t>(scaled);
  // Decoders compute k / 10^d (k alone for d = 0): the same expression here.
  const auto decodes_to_value = [&](std::int64_t candidate) {
    const double decoded = decimals == 0 ? static_cast<double>(candidate) : static_cast<double>(candidate) / scale;
    return same_bits(decoded, value);
  };
  if (decodes_to_value(k)) return k;
  if (std::fabs(scaled) >= kRoundingFindsScaledInteger) {
    for (std::int64_t candidate : {k - 1, k + 1}) {
      if (std::fabs(static_cast<double>(candidate)) < kExactIntegerLimit && decodes_to_value(candidate)) {
        return candidate;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> column_decimals(std::span<const double> column) {
  int decimals = 0;
  std::size_t k = 0;
  // Values that fit d fit every larger d too (10k / 10^(d+1) rounds the same
  // real number), except near 2^53, so after raising d start over.
  while (k < column.size()) {
    const double value = column[k];
    if (!std::isfinite(value) || scaled_integer(value, decimals)) {
      ++k;
      continue;
    }
    if (++decimals > kMaxColumnDecimals) return std::nullopt;
    k = 0;
  }
  return decimals;
}

namespace {

void append_unsigned(std::string& out, std::uint64_t value) {
  char digits[20];
  char* end = digits + sizeof digits;
  char* first = end;
  do {
    *--first = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out.append(first, end);
}

void append_signed(std::string& out, std::int64_t value) {
  if (value < 0) {
    out.push_back('-');
    append_unsigned(out, 0 - static_cast<std::uint64_t>(value));
  } else {
    append_unsigned(out, static_cast<std::uint64_t>(value));
  }
}

// Below 2^46 a double's spacing is finer than 0.01, so a value that equals
// n/100 has "n/100" (trailing zeros dropped) as its shortest round-tripping
// decimal: exactly what fmt's "{}" prints, without the general algorithm.
// derive() rounds percentages and rates to hundredths and byte counts are
// whole, so nearly every value takes this path.
constexpr double kHundredthsExactLimit = 1e13;

bool append_hundredths(std::string& out, double value) {
  if (!(std::fabs(value) < kHundredthsExactLimit)) return false;
  const double scaled = std::round(value * 100.0);
  const auto n = static_cast<std::int64_t>(scaled);
  if (static_cast<double>(n) / 100.0 != value) return false;
  const std::uint64_t magnitude = n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  if (n < 0) out.push_back('-');
  append_unsigned(out, magnitude / 100);
  const auto fraction = static_cast<unsigned>(magnitude % 100);
  if (fraction != 0) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + fraction / 10));
    if (fraction % 10 != 0) out.push_back(static_cast<char>('0' + fraction % 10));
  }
  return true;
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  if (value == 0) {  // both zeros: fmt prints -0 as "-0", keep that rare case exact
    if (std::signbit(value)) {
      out.append("-0");
    } else {
      out.push_back('0');
    }
    return;
  }
  if (append_hundredths(out, value)) return;
  // fmt's "{}" prints the shortest representation that round-trips.
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void encode_json(const SamplesBatch& batch, std::string& out) {
  const std::size_t points = batch.t_ms.size();
  // Roughly 6 bytes per value: one reservation instead of repeated growth
  // (the caller reuses out, so this allocates only while frames grow).
  out.reserve(96 + points * 15 + batch.series.size() * 6 + batch.values.size() * 7);
  out.append(R"({"type":"samples","sub":)");
  append_unsigned(out, batch.subscription);
  out.append(R"(,"seq_first":)");
  append_unsigned(out, batch.seq_first);
  out.append(R"(,"seq_last":)");
  append_unsigned(out, batch.seq_last);
  out.append(R"(,"t":[)");
  for (std::size_t k = 0; k < points; ++k) {
    if (k) out.push_back(',');
    append_signed(out, batch.t_ms[k]);
  }
  out.append(R"(],"series":[)");
  for (std::size_t i = 0; i < batch.series.size(); ++i) {
    if (i) out.push_back(',');
    append_unsigned(out, batch.series[i]);
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

// The column's scaled integers in order (nullopt for no value), through visit.
template <typename Visit>
void for_each_scaled(std::span<const double> column, int decimals, Visit visit) {
  for (double value : column) {
    // column_decimals checked every finite value, so the scaled integer exists.
    visit(std::isfinite(value) ? scaled_integer(value, decimals) : std::nullopt);
  }
}

void write_scaled_column(MsgpackWriter& w, std::span<const double> column, int decimals) {
  // Trailing zero deltas are left out (decoders read them as 0): a column that
  // holds still for the frame, as most do (idle states, totals), costs two bytes
  // and its first value instead of one byte per point.
  std::size_t written = 0;
  std::size_t index = 0;
  std::int64_t previous = 0;
  for_each_scaled(column, decimals, [&](std::optional<std::int64_t> k) {
    ++index;
    if (!k || *k != previous) written = index;
    if (k) previous = *k;
  });
  w.array_header(written + 1);
  w.unsigned_integer(static_cast<std::uint64_t>(decimals));
  index = 0;
  previous = 0;
  for_each_scaled(column, decimals, [&](std::optional<std::int64_t> k) {
    if (index++ >= written) return;
    if (!k) return w.nil();
    // |k| < 2^53 on both sides: the difference cannot overflow.
    w.signed_integer(*k - previous);
    previous = *k;
  });
}

void write_float_column(MsgpackWriter& w, std::span<const double> column) {
  w.array_header(column.size() + 1);
  w.nil();
  for (double value : column) w.exact_float(value);
}

void encode_msgpack(const SamplesBatch& batch, std::string& out) {
  const std::size_t points = batch.t_ms.size();
  // Most deltas take one or two bytes: one reservation, reused with out.
  out.reserve(64 + points * 5 + batch.series.size() * 5 + batch.values.size() * 2);
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
  for (std::size_t k = 0; k < points; ++k) {
    // Wrapping subtraction: any two int64 times give a difference that adds back exactly.
    const std::int64_t t = batch.t_ms[k];
    w.signed_integer(k == 0 ? t
                            : static_cast<std::int64_t>(static_cast<std::uint64_t>(t) -
                                                        static_cast<std::uint64_t>(batch.t_ms[k - 1])));
  }
  w.string("series");
  w.array_header(batch.series.size());
  for (std::uint32_t id : batch.series) w.unsigned_integer(id);
  w.string("cols");
  w.array_header(batch.series.size());
  for (std::size_t i = 0; i < batch.series.size(); ++i) {
    const std::span<const double> column = batch.values.subspan(i * points, points);
    if (const std::optional<int> decimals = column_decimals(column)) {
      write_scaled_column(w, column, *decimals);
    } else {
      write_float_column(w, column);
    }
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
