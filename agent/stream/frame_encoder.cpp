#include "agent/stream/frame_encoder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hostpulse {

std::string_view format_name(StreamFormat format) {
  return format == StreamFormat::msgpack ? "msgpack" : "json";
}

void MsgpackWriter::tagged(std::uint8_t tag, std::uint64_t value, int bytes) {
  // One append per number (tag and payload) rather than one call per byte.
  char buffer[9];
  buffer[0] = static_cast<char>(tag);
  for (int i = 0; i < bytes; ++i) buffer[1 + i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
  out_.append(buffer, static_cast<std::size_t>(bytes) + 1);
}

void MsgpackWriter::map_header(std::size_t entries) {
  if (entries < 16) {
    byte(static_cast<std::uint8_t>(0x80 | entries));
  } else if (entries <= 0xffff) {
    tagged(0xde, entries, 2);
  } else {
    tagged(0xdf, entries, 4);
  }
}

void MsgpackWriter::array_header(std::size_t entries) {
  if (entries < 16) {
    byte(static_cast<std::uint8_t>(0x90 | entries));
  } else if (entries <= 0xffff) {
    tagged(0xdc, entries, 2);
  } else {
    tagged(0xdd, entries, 4);
  }
}

void MsgpackWriter::string(std::string_view text) {
  const std::size_t n = text.size();
  if (n < 32) {
    byte(static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xff) {
    tagged(0xd9, n, 1);
  } else if (n <= 0xffff) {
    tagged(0xda, n, 2);
  } else {
    tagged(0xdb, n, 4);
  }
  out_.append(text);
}

void MsgpackWriter::unsigned_integer(std::uint64_t value) {
  if (value < 128) {
    byte(static_cast<std::uint8_t>(value));
  } else if (value <= 0xff) {
    tagged(0xcc, value, 1);
  } else if (value <= 0xffff) {
    tagged(0xcd, value, 2);
  } else if (value <= 0xffffffff) {
    tagged(0xce, value, 4);
  } else {
    tagged(0xcf, value, 8);
  }
}

void MsgpackWriter::signed_integer(std::int64_t value) {
  if (value >= 0) return unsigned_integer(static_cast<std::uint64_t>(value));
  if (value >= -32) {
    byte(static_cast<std::uint8_t>(static_cast<std::int8_t>(value)));
  } else if (value >= INT8_MIN) {
    tagged(0xd0, static_cast<std::uint8_t>(static_cast<std::int8_t>(value)), 1);
  } else if (value >= INT16_MIN) {
    tagged(0xd1, static_cast<std::uint16_t>(static_cast<std::int16_t>(value)), 2);
  } else if (value >= INT32_MIN) {
    tagged(0xd2, static_cast<std::uint32_t>(static_cast<std::int32_t>(value)), 4);
  } else {
    tagged(0xd3, static_cast<std::uint64_t>(value), 8);
  }
}

void MsgpackWriter::float32(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const char encoded[5] = {static_cast<char>(0xca), static_cast<char>(bits >> 24), static_cast<char>(bits >> 16),
                           static_cast<char>(bits >> 8), static_cast<char>(bits)};
  out_.append(encoded, sizeof encoded);
}

void MsgpackWriter::float64(double value) {
  tagged(0xcb, std::bit_cast<std::uint64_t>(value), 8);
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

// The integer k with k / 10^decimals == value (same bits: -0.0 has none), if
// any. Runs several times per value per frame, so no libm calls.
bool scaled_integer(double value, int decimals, std::int64_t& k) {
  if (decimals == 0) {
    if (!(std::fabs(value) < kExactIntegerLimit)) return false;
    k = static_cast<std::int64_t>(value);
    return same_bits(static_cast<double>(k), value);
  }
  const double scale = kPowersOfTen[decimals];
  const double scaled = value * scale;
  if (!(std::fabs(scaled) < kExactIntegerLimit)) return false;
  k = static_cast<std::int64_t>(scaled + (scaled < 0 ? -0.5 : 0.5));
  // Decoders compute k / 10^d: the same expression here.
  if (same_bits(static_cast<double>(k) / scale, value)) return true;
  if (std::fabs(scaled) < kRoundingFindsScaledInteger) return false;
  for (const std::int64_t candidate : {k - 1, k + 1}) {
    if (std::fabs(static_cast<double>(candidate)) < kExactIntegerLimit &&
        same_bits(static_cast<double>(candidate) / scale, value)) {
      k = candidate;
      return true;
    }
  }
  return false;
}

// The scaled integer of a value the column's decimals are known to fit:
// below 2^50 rounding gives it without scaled_integer's division.
std::int64_t known_scaled_integer(double value, int decimals) {
  if (decimals == 0) return static_cast<std::int64_t>(value);
  const double scaled = value * kPowersOfTen[decimals];
  if (std::fabs(scaled) < kRoundingFindsScaledInteger) {
    return static_cast<std::int64_t>(scaled + (scaled < 0 ? -0.5 : 0.5));
  }
  std::int64_t k = 0;
  scaled_integer(value, decimals, k);
  return k;
}

}  // namespace

std::optional<int> column_decimals(std::span<const double> column) {
  // A value that is k / 10^d is also 10k / 10^(d+1) (the same real number,
  // rounded the same way) while 10k stays below 2^53. So the column's
  // decimals are the largest of its values' own, and a value that fits the
  // decimals so far needs no search: one check per value on a steady column.
  // Near 2^53 a value can fit fewer decimals and not more: such columns are
  // checked value by value at the end.
  int decimals = 0;
  double largest = 0;
  std::int64_t k = 0;
  for (double value : column) {
    if (!std::isfinite(value)) continue;
    largest = std::max(largest, std::fabs(value));
    if (scaled_integer(value, decimals, k)) continue;
    do {
      if (++decimals > kMaxColumnDecimals) return std::nullopt;
    } while (!scaled_integer(value, decimals, k));
  }
  if (largest * kPowersOfTen[decimals] < kRoundingFindsScaledInteger) return decimals;
  for (double value : column) {
    if (std::isfinite(value) && !scaled_integer(value, decimals, k)) return std::nullopt;
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

// A MessagePack array header into at (room for 5 bytes); returns its length.
std::size_t encode_array_header(std::size_t entries, char* at) {
  if (entries < 16) {
    at[0] = static_cast<char>(0x90 | entries);
    return 1;
  }
  const bool wide = entries > 0xffff;
  at[0] = static_cast<char>(wide ? 0xdd : 0xdc);
  const int bytes = wide ? 4 : 2;
  for (int i = 0; i < bytes; ++i) at[1 + i] = static_cast<char>(entries >> (8 * (bytes - 1 - i)));
  return 1 + static_cast<std::size_t>(bytes);
}

// decimals came from column_decimals: every finite value has its scaled integer.
void write_scaled_column(std::string& out, std::span<const double> column, int decimals) {
  MsgpackWriter w(out);
  const std::size_t header_at = out.size();
  w.array_header(column.size() + 1);
  w.unsigned_integer(static_cast<std::uint64_t>(decimals));
  // Trailing zero deltas are left out (decoders read them as 0): a column that
  // holds still for the frame, as most do (idle states, totals), costs two bytes
  // and its first value instead of one byte per point. Written in one pass,
  // then cut back to the last delta that is not 0.
  std::size_t entries = 1;
  std::size_t end_of_entries = out.size();
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < column.size(); ++i) {
    if (!std::isfinite(column[i])) {
      w.nil();
    } else {
      const std::int64_t k = known_scaled_integer(column[i], decimals);
      // |k| < 2^53 on both sides: the difference cannot overflow.
      const std::int64_t delta = k - previous;
      previous = k;
      w.signed_integer(delta);
      if (delta == 0) continue;
    }
    entries = i + 2;
    end_of_entries = out.size();
  }
  out.resize(end_of_entries);
  if (entries == column.size() + 1) return;
  // Fewer entries: a header that says so, maybe shorter (a shrinking replace
  // moves the bytes in place, no allocation).
  char header[5];
  char full_header[5];
  out.replace(header_at, encode_array_header(column.size() + 1, full_header), header,
              encode_array_header(entries, header));
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
      write_scaled_column(out, column, *decimals);
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
