#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.hpp"

namespace hostpulse {

// One series' values over a run of consecutive points (seq_first,
// seq_first + 1, ...), compressed. A closed block never changes; its bytes
// are self-contained (a decode needs nothing else), so they can be kept or
// written out as they are. Timestamps are not in it: every series shares one
// timeline of points, stored once beside the blocks.
//
// Byte form: format byte, encoding byte, varint seq_first, varint count, then
// per encoding
//   constant:  the 8 bytes of the one value (NaN payloads included)
//   scaled:    decimals byte, predictor order byte (1: previous value,
//              2: previous value + last delta), three bucket widths, varint
//              step (gcd of the deltas), zig-zag varint base (first value),
//              then a bit stream of residuals in steps from the prediction
//   xor_float: a bit stream of each value XORed with the previous one
//              (Facebook's Gorilla encoding), the first value in full
//   raw:       the 8 bytes of each value, when XOR would be larger
// NaN ("no value") round-trips with its exact bits in every encoding.
enum class BlockEncoding : std::uint8_t {
  constant = 1,   // every value has the same bits (a flat or an absent series)
  scaled = 2,     // every value is k / 10^decimals for an integer k
  xor_float = 3,  // anything else
  raw = 4,        // values without a pattern (XOR would be larger)
};

struct BlockHeader {
  BlockEncoding encoding = BlockEncoding::constant;
  std::uint64_t seq_first = 0;
  std::size_t count = 0;
  int decimals = 0;  // scaled only
};

// A decode refuses a block claiming more points than this: blocks are short
// (minutes), and a corrupt count must not make the caller allocate gigabytes.
inline constexpr std::size_t kMaxBlockPoints = 65'536;
// Scales tried for values as integers: 10^6 is where rates and percentages
// stop (the stream's frames use the same bound).
inline constexpr int kMaxBlockDecimals = 6;

// Compresses values (NaN = no value) into out, replacing its contents. With
// decimals >= 0 (the series' declared scale) the block is stored as scaled
// integers when every value fits that scale exactly, else as XOR floats;
// with decimals < 0 as XOR floats, or as integers when that is smaller.
// Decoding gives back the same bits. values.size() <= kMaxBlockPoints.
void encode_block(std::uint64_t seq_first, std::span<const double> values, int decimals,
                  std::vector<std::uint8_t>& out);

// An upper bound of encode_block's output for `points` values, so a caller
// can reserve a scratch buffer once and encode without allocating.
[[nodiscard]] std::size_t max_encoded_block_bytes(std::size_t points);

// Reads the header of a block's byte form.
Status decode_block_header(std::span<const std::uint8_t> bytes, BlockHeader& header);
// Decodes every value into out (out.size() >= header.count). Corrupt or
// truncated bytes give a failure, never a read outside `bytes`.
Status decode_block(std::span<const std::uint8_t> bytes, std::span<double> out);

}  // namespace hostpulse
