#include "agent/pipeline/history_block.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/source.hpp"

namespace hostpulse {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

struct Encoded {
  std::vector<std::uint8_t> bytes;
  BlockHeader header;
};

// Encodes, checks the bound, decodes and expects the very same bits back.
Encoded round_trip(const std::vector<double>& values, int decimals, std::uint64_t seq_first = 1) {
  Encoded encoded;
  encode_block(seq_first, values, decimals, encoded.bytes);
  EXPECT_LE(encoded.bytes.size(), max_encoded_block_bytes(values.size()));
  EXPECT_TRUE(decode_block_header(encoded.bytes, encoded.header).ok());
  EXPECT_EQ(encoded.header.seq_first, seq_first);
  EXPECT_EQ(encoded.header.count, values.size());
  std::vector<double> decoded(values.size(), 12345.0);
  const Status status = decode_block(encoded.bytes, decoded);
  EXPECT_TRUE(status.ok()) << status.error;
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(bits(decoded[i]), bits(values[i])) << "value " << i << " (" << values[i] << ")";
  }
  return encoded;
}

TEST(HistoryBlockTest, ConstantAndAbsentSeriesCostOnlyAHeader) {
  const Encoded flat = round_trip(std::vector<double>(120, 42.5), 2);
  EXPECT_EQ(flat.header.encoding, BlockEncoding::constant);
  EXPECT_LE(flat.bytes.size(), 14u);
  const Encoded absent = round_trip(std::vector<double>(120, kNaN), 2);
  EXPECT_EQ(absent.header.encoding, BlockEncoding::constant);
  round_trip({}, 2);
}

TEST(HistoryBlockTest, PercentagesAreScaledIntegersOfAboutOneByte) {
  std::mt19937 random(1);
  std::vector<double> values;
  double level = 2000;
  for (int i = 0; i < 120; ++i) {
    level = std::clamp(level + static_cast<double>(static_cast<int>(random() % 101) - 50), 0.0, 10000.0);
    values.push_back(level / 100.0);  // as the derive rounds: k / 100
  }
  const Encoded encoded = round_trip(values, 2);
  EXPECT_EQ(encoded.header.encoding, BlockEncoding::scaled);
  EXPECT_EQ(encoded.header.decimals, 2);
  // Deltas within +-0.50: 7 bits of zig-zag, plus the bucket code.
  EXPECT_LT(encoded.bytes.size(), 120u * 10 / 8 + 16);
}

TEST(HistoryBlockTest, ByteCountsUseTheirCommonStep) {
  // Memory read in KiB: every delta is a multiple of 1024.
  std::vector<double> values;
  for (int i = 0; i < 120; ++i) values.push_back(8e9 + 1024.0 * ((i * 37) % 11));
  const Encoded encoded = round_trip(values, 0);
  EXPECT_EQ(encoded.header.encoding, BlockEncoding::scaled);
  EXPECT_LT(encoded.bytes.size(), 120u * 8 / 8 + 24);
}

TEST(HistoryBlockTest, NaNRunsAndValuesAfterThemRoundTrip) {
  round_trip({kNaN, kNaN, 1.5, 1.5, kNaN, 1.5, kNaN, kNaN, 2.25, 2.25}, 2);
  round_trip({1.5, kNaN, 1.5}, 2);
  round_trip({kNaN, 0.0, kNaN, 0.0}, 0);
  round_trip({kNaN, 0.0, kNaN, 0.0}, kFloatDecimals);
}

TEST(HistoryBlockTest, ValuesThatDoNotFitTheScaleFallBackToFloatsForTheBlock) {
  // 1/3 has no two-decimal form; -0.0 has no integer form; a NaN with a
  // payload is not the "no value" NaN: each sends the block to XOR floats.
  const std::vector<std::vector<double>> cases = {
      {1.25, 1.0 / 3.0, 2.5},
      {0.0, -0.0, 0.0},
      {1.0, std::bit_cast<double>(std::uint64_t{0x7ff8000000000abc}), 1.0},
      {1.0, kInf, -kInf},
      {1e300, 1.0},
      {std::numeric_limits<double>::denorm_min(), 0.0},
      {9007199254740992.0, 1.0},  // 2^53 needs 54 bits as an integer
  };
  for (const auto& values : cases) {
    // Floats: XOR, or for so few values the plain doubles, which are smaller.
    const BlockEncoding encoding = round_trip(values, 2).header.encoding;
    EXPECT_TRUE(encoding == BlockEncoding::xor_float || encoding == BlockEncoding::raw) << static_cast<int>(encoding);
  }
}

TEST(HistoryBlockTest, AdversarialShapesRoundTripAtEveryScale) {
  const double big = std::numeric_limits<double>::max();
  const double tiny = std::numeric_limits<double>::min();
  const std::vector<std::vector<double>> cases = {
      {big, -big, big, -big},
      {tiny, -tiny, tiny},
      {0.0, 1e15, -1e15, 0.0, 1e15},               // scaled deltas near 2^53
      {4503599627370495.5, 4503599627370496.0},   // the last half-integers
      {1.0, -1.0, 1.0, -1.0, 1.0, -1.0},          // alternating
      {0.01, 0.02, 0.03, 99.99, 0.0, 100.0},
      {-123456.789, 123456.789},
      {kNaN},
      {3.0},
  };
  for (const auto& values : cases) {
    for (const int decimals : {kFloatDecimals, 0, 1, 2, 3, 6}) round_trip(values, decimals);
  }
}

TEST(HistoryBlockTest, PatternlessValuesCostNoMoreThanPlainDoubles) {
  std::mt19937_64 random(3);
  std::vector<double> values(120);
  for (double& v : values) v = std::bit_cast<double>(random() & 0x7fefffffffffffffu);  // finite, no pattern
  const Encoded encoded = round_trip(values, kFloatDecimals);
  EXPECT_EQ(encoded.header.encoding, BlockEncoding::raw);
  EXPECT_LE(encoded.bytes.size(), 120u * 8 + 8);
}

TEST(HistoryBlockTest, FloatSeriesOfWholeNumbersAreStoredAsIntegers) {
  std::vector<double> values;
  for (int i = 0; i < 120; ++i) values.push_back(1.0e6 + i * 3);
  const Encoded encoded = round_trip(values, kFloatDecimals);
  EXPECT_EQ(encoded.header.encoding, BlockEncoding::scaled);
  EXPECT_LT(encoded.bytes.size(), 40u);
}

TEST(HistoryBlockTest, RandomBlocksRoundTrip) {
  std::mt19937_64 random(99);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t count = 1 + random() % 200;
    std::vector<double> values(count);
    const int shape = static_cast<int>(random() % 4);
    for (std::size_t i = 0; i < count; ++i) {
      switch (shape) {
        case 0: values[i] = std::bit_cast<double>(random()); break;  // any bits, NaN payloads included
        case 1: values[i] = static_cast<double>(static_cast<std::int64_t>(random() % 2000001) - 1000000) / 100.0; break;
        case 2: values[i] = (random() % 5 == 0) ? kNaN : static_cast<double>(random() % 1000); break;
        default: values[i] = i > 0 && random() % 3 != 0 ? values[i - 1] : std::ldexp(1.0, static_cast<int>(random() % 2000) - 1000); break;
      }
    }
    const int decimals = static_cast<int>(random() % 8) - 1;
    round_trip(values, decimals, random() % 1000000);
    if (HasFailure()) return;
  }
}

TEST(HistoryBlockTest, CorruptBytesFailWithoutReadingOutside) {
  std::vector<double> values;
  for (int i = 0; i < 120; ++i) values.push_back(i % 3 == 0 ? kNaN : i * 0.25);
  for (const int decimals : {2, kFloatDecimals}) {
    std::vector<std::uint8_t> bytes;
    encode_block(1, values, decimals, bytes);
    std::vector<double> out(kMaxBlockPoints);
    // Every truncation fails (a truncated stream reads past its end).
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
      EXPECT_FALSE(decode_block(cut, out).ok()) << "length " << length;
    }
    // Flipped bits and random bytes either decode or fail; never crash.
    std::mt19937 random(5);
    for (int trial = 0; trial < 5000; ++trial) {
      std::vector<std::uint8_t> broken = bytes;
      broken[random() % broken.size()] ^= static_cast<std::uint8_t>(1u << (random() % 8));
      (void)decode_block(broken, out);
      std::vector<std::uint8_t> noise(random() % 64);
      for (auto& b : noise) b = static_cast<std::uint8_t>(random());
      (void)decode_block(noise, out);
    }
  }
  // A block claiming more points than the output is refused.
  std::vector<std::uint8_t> bytes;
  encode_block(1, values, 2, bytes);
  std::vector<double> small(10);
  EXPECT_FALSE(decode_block(bytes, small).ok());
}

}  // namespace
}  // namespace hostpulse
