#include "agent/pipeline/history_block.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace hostpulse {

namespace {

constexpr std::uint8_t kFormat = 1;
// Integers up to 2^53 convert to double and back exactly.
constexpr double kExactIntegerLimit = 9007199254740992.0;
// Above 2^50 the rounding of value * 10^d may miss the k that divides back
// to the value, so k - 1 and k + 1 are tried as well.
constexpr double kRoundingFindsScaledInteger = 1125899906842624.0;
constexpr double kPowersOfTen[kMaxBlockDecimals + 1] = {1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6};
// Header: format, encoding, seq_first and count varints, decimals, order,
// three bucket widths, step and base varints.
constexpr std::size_t kMaxHeaderBytes = 2 + 10 + 10 + 1 + 1 + 3 + 10 + 10;
// The longest code per value: XOR's '11' + 5 + 6 + 64 bits, the scaled
// stream's raw bucket (5 + 64 bits) being shorter.
constexpr std::size_t kMaxBitsPerValue = 2 + 5 + 6 + 64;

std::uint64_t bits_of(double value) { return std::bit_cast<std::uint64_t>(value); }
const std::uint64_t kNoValueBits = bits_of(std::numeric_limits<double>::quiet_NaN());

// The integer k with k / 10^decimals == value, same bits (so -0.0 has none).
bool scaled_integer(double value, int decimals, std::int64_t& k) {
  if (decimals == 0) {
    if (!(std::fabs(value) < kExactIntegerLimit)) return false;
    k = static_cast<std::int64_t>(value);
    return bits_of(static_cast<double>(k)) == bits_of(value);
  }
  const double scale = kPowersOfTen[decimals];
  const double scaled = value * scale;
  if (!(std::fabs(scaled) < kExactIntegerLimit)) return false;
  k = static_cast<std::int64_t>(scaled + (scaled < 0 ? -0.5 : 0.5));
  if (bits_of(static_cast<double>(k) / scale) == bits_of(value)) return true;
  if (std::fabs(scaled) < kRoundingFindsScaledInteger) return false;
  for (const std::int64_t candidate : {k - 1, k + 1}) {
    if (std::fabs(static_cast<double>(candidate)) < kExactIntegerLimit &&
        bits_of(static_cast<double>(candidate) / scale) == bits_of(value)) {
      k = candidate;
      return true;
    }
  }
  return false;
}

// The decoder's side of scaled_integer: the same expression.
double unscaled(std::int64_t k, int decimals) {
  return decimals == 0 ? static_cast<double>(k) : static_cast<double>(k) / kPowersOfTen[decimals];
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// Bits most significant first, appended to a byte vector (reserved by the
// caller, so pushing does not allocate).
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void put(std::uint64_t value, int bits) {
    if (bits > 32) {
      put32(value >> 32, bits - 32);
      put32(value & 0xffffffffu, 32);
    } else {
      put32(value, bits);
    }
  }
  void finish() {
    if (pending_ > 0) out_.push_back(static_cast<std::uint8_t>(acc_ << (8 - pending_)));
    acc_ = 0;
    pending_ = 0;
  }

 private:
  void put32(std::uint64_t value, int bits) {
    if (bits == 0) return;
    acc_ = (acc_ << bits) | (value & ((std::uint64_t{1} << bits) - 1));
    pending_ += bits;
    while (pending_ >= 8) {
      pending_ -= 8;
      out_.push_back(static_cast<std::uint8_t>(acc_ >> pending_));
    }
    acc_ &= (std::uint64_t{1} << pending_) - 1;
  }

  std::vector<std::uint8_t>& out_;
  std::uint64_t acc_ = 0;
  int pending_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool byte(std::uint8_t& out) {
    if (pos_ >= bytes_.size()) return false;
    out = bytes_[pos_++];
    return true;
  }
  bool varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!byte(b)) return false;
      out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  [[nodiscard]] std::span<const std::uint8_t> rest() const { return bytes_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> bytes) : bytes_(bytes), total_(bytes.size() * 8) {}
  bool get(int bits, std::uint64_t& out) {
    if (bits > 32) {
      std::uint64_t high = 0;
      std::uint64_t low = 0;
      if (!get32(bits - 32, high) || !get32(32, low)) return false;
      out = (high << 32) | low;
      return true;
    }
    return get32(bits, out);
  }
  bool bit(bool& out) {
    if (pos_ >= total_) return false;
    out = ((bytes_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1) != 0;
    ++pos_;
    return true;
  }

 private:
  bool get32(int bits, std::uint64_t& out) {
    if (bits == 0) {
      out = 0;
      return true;
    }
    if (pos_ + static_cast<std::size_t>(bits) > total_) return false;
    std::uint64_t window = 0;
    const std::size_t first = pos_ >> 3;
    for (std::size_t i = 0; i < 8; ++i) {
      window = (window << 8) | (first + i < bytes_.size() ? bytes_[first + i] : 0u);
    }
    out = (window << (pos_ & 7)) >> (64 - bits);
    pos_ += static_cast<std::size_t>(bits);
    return true;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t total_;
  std::size_t pos_ = 0;
};

// The scaled stream's codes, per value:
//   0                 the predicted value (after a NaN: NaN again)
//   10   + w1 bits    zig-zag residual < 2^w1
//   110  + w2 bits    zig-zag residual < 2^w2
//   1110 + w3 bits    zig-zag residual < 2^w3
//   11110 + 64 bits   any zig-zag residual
//   11111             NaN
// Residuals are in steps from the predicted value (Predictor below). The
// widths are picked per block to make it smallest.
struct Buckets {
  int w1 = 6;
  int w2 = 12;
  int w3 = 20;
};
constexpr int kRawDeltaBits = 64;
// encode_scaled keeps the integers of blocks up to this long on the stack
// (4 KiB) instead of computing them in each of its passes.
constexpr std::size_t kKeptIntegers = 512;
// The bucket widths best_buckets tries (about 200 combinations).
constexpr int kMaxFirstBucketBits = 12;
constexpr int kSecondBucketSpan = 10;
constexpr int kMaxSecondBucketBits = 30;
constexpr int kThirdBucketStep = 8;
constexpr int kWidestThirdBucketBits = 40;

int bit_length(std::uint64_t v) { return v == 0 ? 0 : 64 - std::countl_zero(v); }

// Chooses widths from the histogram of the deltas' bit lengths.
Buckets best_buckets(const std::size_t (&by_length)[65], std::size_t& best_bits) {
  std::size_t at_most[65];
  std::size_t running = 0;
  for (int length = 0; length <= 64; ++length) {
    running += by_length[length];
    at_most[length] = running;
  }
  const std::size_t all = at_most[64];
  Buckets best;
  best_bits = SIZE_MAX;
  // Bucket 1 holds zig-zag 0 (an equal value right after a NaN), so it is at
  // least one bit wide. Buckets 2 and 3 are tried at a few widths only: the
  // search runs for every series at every block close, and a bit more for
  // rare large residuals costs little.
  for (int w1 = 1; w1 <= kMaxFirstBucketBits; ++w1) {
    for (int w2 = w1 + 1; w2 <= std::min(w1 + kSecondBucketSpan, kMaxSecondBucketBits); ++w2) {
      for (const int w3 : {w2 + kThirdBucketStep, kWidestThirdBucketBits}) {
        if (w3 <= w2 || w3 > kWidestThirdBucketBits) continue;
        const std::size_t bits = at_most[w1] * static_cast<std::size_t>(2 + w1) +
                                 (at_most[w2] - at_most[w1]) * static_cast<std::size_t>(3 + w2) +
                                 (at_most[w3] - at_most[w2]) * static_cast<std::size_t>(4 + w3) +
                                 (all - at_most[w3]) * static_cast<std::size_t>(5 + kRawDeltaBits);
        if (bits < best_bits) {
          best_bits = bits;
          best = Buckets{.w1 = w1, .w2 = w2, .w3 = w3};
        }
      }
    }
  }
  return best;
}

void put_header(std::vector<std::uint8_t>& out, BlockEncoding encoding, std::uint64_t seq_first, std::size_t count) {
  out.push_back(kFormat);
  out.push_back(static_cast<std::uint8_t>(encoding));
  put_varint(out, seq_first);
  put_varint(out, count);
}

// Predicts each value from the ones before: order 1 from the previous value
// (right for noisy gauges), order 2 from the previous value plus the last
// delta (right for counters and steady ramps). Both skip NaN: the prediction
// is from the last value there was.
class Predictor {
 public:
  explicit Predictor(int order, std::int64_t base) : order_(order), previous_(static_cast<std::uint64_t>(base)) {}
  [[nodiscard]] std::uint64_t predicted() const { return order_ == 2 ? previous_ + delta_ : previous_; }
  void saw(std::uint64_t k) {
    delta_ = k - previous_;
    previous_ = k;
  }

 private:
  int order_;
  // Unsigned: a corrupt block wraps instead of overflowing.
  std::uint64_t previous_;
  std::uint64_t delta_ = 0;
};

// Residuals (value - prediction) in steps, zig-zagged.
std::uint64_t residual(std::int64_t k, std::uint64_t predicted, std::uint64_t step) {
  return zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(k) - predicted) / static_cast<std::int64_t>(step));
}

// Scaled integers at `decimals`, appended to out; false (out unchanged in
// length) when a value does not fit or a NaN has a payload of its own.
bool encode_scaled(std::uint64_t seq_first, std::span<const double> values, int decimals,
                   std::vector<std::uint8_t>& out) {
  // First pass: every value fits, and the step (gcd of the deltas). The
  // integers of a default-sized block are kept; a longer block computes
  // them again in each pass.
  std::int64_t kept[kKeptIntegers];
  const bool keep = values.size() <= kKeptIntegers;
  bool have_previous = false;
  std::int64_t base = 0;
  std::int64_t previous = 0;
  std::uint64_t step = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double value = values[i];
    if (std::isnan(value)) {
      if (bits_of(value) != kNoValueBits) return false;
      continue;
    }
    std::int64_t k = 0;
    if (!scaled_integer(value, decimals, k)) return false;
    if (keep) kept[i] = k;
    if (!have_previous) {
      base = k;
      have_previous = true;
    } else if (k != previous && step != 1) {  // a step of 1 is final; gcd divides
      step = std::gcd(step, static_cast<std::uint64_t>(k > previous ? k - previous : previous - k));
    }
    previous = k;
  }
  if (step == 0) step = 1;
  const auto integer = [&](std::size_t i) {
    if (keep) return kept[i];
    std::int64_t k = 0;
    scaled_integer(values[i], decimals, k);
    return k;
  };
  // Second pass: the residuals' lengths under both predictors at once.
  std::size_t by_length[2][65] = {};
  {
    Predictor first(1, base);
    Predictor second(2, base);
    bool previous_nan = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) {
        previous_nan = true;
        continue;
      }
      const std::int64_t k = integer(i);
      const std::uint64_t r1 = residual(k, first.predicted(), step);
      const std::uint64_t r2 = residual(k, second.predicted(), step);
      if (r1 != 0 || previous_nan) ++by_length[0][bit_length(r1)];
      if (r2 != 0 || previous_nan) ++by_length[1][bit_length(r2)];
      first.saw(static_cast<std::uint64_t>(k));
      second.saw(static_cast<std::uint64_t>(k));
      previous_nan = false;
    }
  }
  std::size_t cost[2] = {};
  const Buckets choices[2] = {best_buckets(by_length[0], cost[0]), best_buckets(by_length[1], cost[1])};
  const int order = cost[1] < cost[0] ? 2 : 1;
  const Buckets buckets = choices[order - 1];

  put_header(out, BlockEncoding::scaled, seq_first, values.size());
  out.push_back(static_cast<std::uint8_t>(decimals));
  out.push_back(static_cast<std::uint8_t>(order));
  out.push_back(static_cast<std::uint8_t>(buckets.w1));
  out.push_back(static_cast<std::uint8_t>(buckets.w2));
  out.push_back(static_cast<std::uint8_t>(buckets.w3));
  put_varint(out, step);
  put_varint(out, zigzag(base));
  BitWriter bits(out);
  Predictor predictor(order, base);
  bool previous_nan = false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      bits.put(previous_nan ? 0b0 : 0b11111, previous_nan ? 1 : 5);
      previous_nan = true;
      continue;
    }
    const std::int64_t k = integer(i);
    const std::uint64_t r = residual(k, predictor.predicted(), step);
    predictor.saw(static_cast<std::uint64_t>(k));
    if (r == 0 && !previous_nan) {
      bits.put(0b0, 1);
    } else {
      const int length = bit_length(r);
      if (length <= buckets.w1) {
        bits.put(0b10, 2);
        bits.put(r, buckets.w1);
      } else if (length <= buckets.w2) {
        bits.put(0b110, 3);
        bits.put(r, buckets.w2);
      } else if (length <= buckets.w3) {
        bits.put(0b1110, 4);
        bits.put(r, buckets.w3);
      } else {
        bits.put(0b11110, 5);
        bits.put(r, kRawDeltaBits);
      }
    }
    previous_nan = false;
  }
  bits.finish();
  return true;
}

void encode_xor(std::uint64_t seq_first, std::span<const double> values, std::vector<std::uint8_t>& out) {
  put_header(out, BlockEncoding::xor_float, seq_first, values.size());
  BitWriter bits(out);
  std::uint64_t previous = 0;
  int window_lead = -1;  // no window yet
  int window_trail = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint64_t current = bits_of(values[i]);
    if (i == 0) {
      bits.put(current, 64);
      previous = current;
      continue;
    }
    const std::uint64_t x = current ^ previous;
    previous = current;
    if (x == 0) {
      bits.put(0b0, 1);
      continue;
    }
    // Five bits hold the leading zeros, so more than 31 count as 31.
    const int lead = std::min(std::countl_zero(x), 31);
    const int trail = std::countr_zero(x);
    if (window_lead >= 0 && lead >= window_lead && trail >= window_trail) {
      bits.put(0b10, 2);
      bits.put(x >> window_trail, 64 - window_lead - window_trail);
      continue;
    }
    const int meaningful = 64 - lead - trail;
    bits.put(0b11, 2);
    bits.put(static_cast<std::uint64_t>(lead), 5);
    bits.put(static_cast<std::uint64_t>(meaningful - 1), 6);
    bits.put(x >> trail, meaningful);
    window_lead = lead;
    window_trail = trail;
  }
  bits.finish();
}

// The fewest decimals every value of a float series fits, if any.
int fitting_decimals(std::span<const double> values) {
  int decimals = 0;
  for (const double value : values) {
    if (std::isnan(value)) continue;
    std::int64_t k = 0;
    while (!scaled_integer(value, decimals, k)) {
      if (++decimals > kMaxBlockDecimals) return -1;
    }
  }
  return decimals;
}

Status corrupt(const char* what) { return Status::failure(std::string("corrupt history block: ") + what); }

Status read_header(ByteReader& reader, BlockHeader& header) {
  std::uint8_t format = 0;
  std::uint8_t encoding = 0;
  std::uint64_t count = 0;
  if (!reader.byte(format) || !reader.byte(encoding) || !reader.varint(header.seq_first) || !reader.varint(count)) {
    return corrupt("truncated header");
  }
  if (format != kFormat) return corrupt("unknown format");
  if (encoding < static_cast<std::uint8_t>(BlockEncoding::constant) ||
      encoding > static_cast<std::uint8_t>(BlockEncoding::raw)) {
    return corrupt("unknown encoding");
  }
  if (count > kMaxBlockPoints) return corrupt("too many points");
  header.encoding = static_cast<BlockEncoding>(encoding);
  header.count = static_cast<std::size_t>(count);
  header.decimals = 0;
  if (header.encoding == BlockEncoding::scaled) {
    std::uint8_t decimals = 0;
    if (!reader.byte(decimals)) return corrupt("truncated header");
    if (decimals > kMaxBlockDecimals) return corrupt("bad decimals");
    header.decimals = decimals;
  }
  return Status::success();
}

Status decode_scaled(ByteReader& bytes, const BlockHeader& header, std::span<double> out) {
  std::uint8_t order = 0;
  if (!bytes.byte(order)) return corrupt("truncated header");
  if (order != 1 && order != 2) return corrupt("bad predictor order");
  std::uint8_t widths[3] = {};
  for (std::uint8_t& width : widths) {
    if (!bytes.byte(width)) return corrupt("truncated header");
  }
  if (!(widths[0] >= 1 && widths[0] < widths[1] && widths[1] < widths[2] && widths[2] <= kRawDeltaBits)) {
    return corrupt("bad bucket widths");
  }
  std::uint64_t step = 0;
  std::uint64_t base = 0;
  if (!bytes.varint(step) || !bytes.varint(base)) return corrupt("truncated header");
  if (step == 0) return corrupt("zero step");
  BitReader bits(bytes.rest());
  Predictor predictor(order, unzigzag(base));
  bool previous_nan = false;
  for (std::size_t i = 0; i < header.count; ++i) {
    int ones = 0;
    bool bit = true;
    while (ones < 5) {
      if (!bits.bit(bit)) return corrupt("truncated values");
      if (!bit) break;
      ++ones;
    }
    if (ones == 5 || (ones == 0 && previous_nan)) {
      out[i] = std::bit_cast<double>(kNoValueBits);
      previous_nan = true;
      continue;
    }
    std::uint64_t r = 0;
    if (ones > 0) {
      const int width = ones == 4 ? kRawDeltaBits : widths[ones - 1];
      if (!bits.get(width, r)) return corrupt("truncated values");
    }
    const std::uint64_t k = predictor.predicted() + static_cast<std::uint64_t>(unzigzag(r)) * step;
    predictor.saw(k);
    const auto value = static_cast<std::int64_t>(k);
    if (!(std::fabs(static_cast<double>(value)) < kExactIntegerLimit)) return corrupt("value out of range");
    out[i] = unscaled(value, header.decimals);
    previous_nan = false;
  }
  return Status::success();
}

Status decode_xor(ByteReader& bytes, const BlockHeader& header, std::span<double> out) {
  BitReader bits(bytes.rest());
  std::uint64_t previous = 0;
  int window_lead = -1;
  int window_trail = 0;
  for (std::size_t i = 0; i < header.count; ++i) {
    if (i == 0) {
      if (!bits.get(64, previous)) return corrupt("truncated values");
      out[0] = std::bit_cast<double>(previous);
      continue;
    }
    bool changed = false;
    if (!bits.bit(changed)) return corrupt("truncated values");
    if (changed) {
      bool new_window = false;
      if (!bits.bit(new_window)) return corrupt("truncated values");
      std::uint64_t x = 0;
      if (new_window) {
        std::uint64_t lead = 0;
        std::uint64_t meaningful_less_one = 0;
        if (!bits.get(5, lead) || !bits.get(6, meaningful_less_one)) return corrupt("truncated values");
        const int meaningful = static_cast<int>(meaningful_less_one) + 1;
        if (static_cast<int>(lead) + meaningful > 64) return corrupt("bad XOR window");
        window_lead = static_cast<int>(lead);
        window_trail = 64 - window_lead - meaningful;
      } else if (window_lead < 0) {
        return corrupt("XOR window used before it was set");
      }
      if (!bits.get(64 - window_lead - window_trail, x)) return corrupt("truncated values");
      previous ^= x << window_trail;
    }
    out[i] = std::bit_cast<double>(previous);
  }
  return Status::success();
}

}  // namespace

std::size_t max_encoded_block_bytes(std::size_t points) {
  // A float series may be encoded twice (as integers and as floats) before
  // the smaller one is kept.
  return 2 * (kMaxHeaderBytes + (points * kMaxBitsPerValue + 7) / 8 + 8);
}

namespace {

void put_raw_value(std::vector<std::uint8_t>& out, std::uint64_t bits) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(bits >> shift));
}

// XOR floats appended to out, or the plain values when those are smaller
// (values without a pattern): a block never costs much more than 8 bytes a
// value.
void encode_floats(std::uint64_t seq_first, std::span<const double> values, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  encode_xor(seq_first, values, out);
  const std::size_t xor_size = out.size() - start;
  const auto varint_size = [](std::uint64_t v) { return static_cast<std::size_t>(std::bit_width(v | 1) + 6) / 7; };
  const std::size_t raw_size = 2 + varint_size(seq_first) + varint_size(values.size()) + values.size() * sizeof(double);
  if (xor_size <= raw_size) return;
  out.resize(start);
  put_header(out, BlockEncoding::raw, seq_first, values.size());
  for (const double value : values) put_raw_value(out, bits_of(value));
}

}  // namespace

void encode_block(std::uint64_t seq_first, std::span<const double> values, int decimals,
                  std::vector<std::uint8_t>& out) {
  out.clear();
  const bool constant =
      std::all_of(values.begin(), values.end(), [&](double v) { return bits_of(v) == bits_of(values.front()); });
  if (values.empty() || constant) {
    put_header(out, BlockEncoding::constant, seq_first, values.size());
    put_raw_value(out, values.empty() ? kNoValueBits : bits_of(values.front()));
    return;
  }
  if (decimals > kMaxBlockDecimals) decimals = kMaxBlockDecimals;
  if (decimals >= 0) {
    if (!encode_scaled(seq_first, values, decimals, out)) encode_floats(seq_first, values, out);
    return;
  }
  // No declared scale: integers when the values happen to be (counters,
  // whole numbers) and that is smaller than the floats.
  const int found = fitting_decimals(values);
  if (found < 0 || !encode_scaled(seq_first, values, found, out)) {
    encode_floats(seq_first, values, out);
    return;
  }
  const std::size_t scaled_size = out.size();
  encode_floats(seq_first, values, out);
  const std::size_t xor_size = out.size() - scaled_size;
  if (xor_size < scaled_size) {
    std::copy(out.begin() + static_cast<std::ptrdiff_t>(scaled_size), out.end(), out.begin());
    out.resize(xor_size);
  } else {
    out.resize(scaled_size);
  }
}

Status decode_block_header(std::span<const std::uint8_t> bytes, BlockHeader& header) {
  ByteReader reader(bytes);
  return read_header(reader, header);
}

Status decode_block(std::span<const std::uint8_t> bytes, std::span<double> out) {
  ByteReader reader(bytes);
  BlockHeader header;
  if (Status status = read_header(reader, header); !status.ok()) return status;
  if (out.size() < header.count) return Status::failure("history block holds more points than the output");
  switch (header.encoding) {
    case BlockEncoding::constant: {
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        std::uint8_t b = 0;
        if (!reader.byte(b)) return corrupt("truncated value");
        bits = (bits << 8) | b;
      }
      std::fill_n(out.begin(), header.count, std::bit_cast<double>(bits));
      return Status::success();
    }
    case BlockEncoding::scaled:
      return decode_scaled(reader, header, out);
    case BlockEncoding::xor_float:
      return decode_xor(reader, header, out);
    case BlockEncoding::raw:
      for (std::size_t i = 0; i < header.count; ++i) {
        std::uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) {
          std::uint8_t byte = 0;
          if (!reader.byte(byte)) return corrupt("truncated values");
          bits = (bits << 8) | byte;
        }
        out[i] = std::bit_cast<double>(bits);
      }
      return Status::success();
  }
  return corrupt("unknown encoding");
}

}  // namespace hostpulse
