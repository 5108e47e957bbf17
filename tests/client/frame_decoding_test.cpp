// The client's decoding of agent messages, without a connection.
#include "frame_decoding.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/stream/frame_encoder.hpp"

namespace hostpulse::client::detail {
namespace {

using nlohmann::json;

json decoded(std::string_view text) {
  auto message = decode_message(text, false);
  EXPECT_TRUE(message.has_value()) << text;
  return message.value_or(json::object());
}

TEST(ClientFrameDecoding, ReadsHelloAndSamples) {
  const Hello hello = decode_hello(decoded(
      R"({"type":"hello","protocol":2,"version":"0.1.0","host":"box","interval_ms":1000,"started_t":17,"seq":5,)"
      R"("schema_version":3,"families":[{"family":"cpu.busy_pct","unit":"%","kind":"gauge","decimals":2,)"
      R"("series":[{"id":0,"name":"cpu.busy_pct"},{"id":9,"name":"cpu.1.busy_pct","labels":{"cpu":"1"}}]}]})"));
  EXPECT_EQ(hello.protocol, 2);
  EXPECT_EQ(hello.seq, 5u);
  EXPECT_EQ(hello.schema_version, 3u);
  ASSERT_EQ(hello.schema.size(), 2u);
  EXPECT_EQ(hello.schema[0].name, "cpu.busy_pct");
  EXPECT_EQ(hello.schema[0].unit, "%");
  EXPECT_TRUE(hello.schema[0].labels.empty());
  EXPECT_EQ(hello.schema[1].id, 9u);
  EXPECT_EQ(hello.schema[1].family, "cpu.busy_pct");
  EXPECT_EQ(hello.schema[1].labels, (std::vector<std::pair<std::string, std::string>>{{"cpu", "1"}}));

  json frame = decoded(R"({"type":"samples","seq_first":6,"seq_last":7,"t":[1000,2000],"series":[0,3],)"
                       R"("values":[[12.5,null],[1,2]]})");
  const Batch batch = decode_samples(frame, false, NamesById{{0, "cpu.busy_pct"}});
  EXPECT_EQ(batch.seq_first, 6u);
  EXPECT_EQ(batch.t, (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(batch.names, (std::vector<std::string>{"cpu.busy_pct", "#3"}));
  EXPECT_EQ(batch.values[0][0], 12.5);
  EXPECT_TRUE(std::isnan(batch.values[0][1]));
}

TEST(ClientFrameDecoding, NonObjectsAndGarbageDoNotDecode) {
  EXPECT_FALSE(decode_message("[1,2]", false).has_value());
  EXPECT_FALSE(decode_message("{", false).has_value());
  EXPECT_FALSE(decode_message("\xc1", true).has_value());  // never used in MessagePack
}

// Integer fields holding floats out of range were converted with a plain cast
// (undefined behaviour, found by tests/fuzz/client_frame_fuzz); out-of-range
// integers were cut. Both are malformed messages now, which the client
// answers by reconnecting.
TEST(ClientFrameDecoding, IntegerFieldsOutOfRangeAreMalformed) {
  EXPECT_THROW(decode_hello(decoded(R"({"type":"hello","protocol":1e300,"families":[]})")), std::runtime_error);
  EXPECT_THROW(decode_hello(decoded(R"({"type":"hello","protocol":1,"seq":-1e300,"families":[]})")), std::runtime_error);
  EXPECT_THROW(decode_hello(decoded(R"({"type":"hello","protocol":1,"families":[{"family":"x","series":)"
                                    R"([{"id":4294967296,"name":"x"}]}]})")),
               std::runtime_error);
  EXPECT_THROW(decode_hello(decoded(R"({"type":"hello","protocol":1,"families":[{"family":"x","series":)"
                                    R"([{"id":1,"name":"x","labels":["cpu"]}]}]})")),
               std::runtime_error);
  EXPECT_THROW(decode_hello(decoded(R"({"type":"hello","protocol":1,"families":{"a":1}})")), std::runtime_error);
  EXPECT_THROW(decode_subscribed_seq(decoded(R"({"type":"subscribed","seq":1.5e20})")), std::runtime_error);
  EXPECT_EQ(decode_subscribed_seq(decoded(R"({"type":"subscribed","seq":18446744073709551615})")), UINT64_MAX);

  const NamesById names;
  for (const char* text : {R"({"seq_first":1e300,"seq_last":1,"t":[],"series":[],"values":[]})",
                           R"({"seq_first":1,"seq_last":-1,"t":[],"series":[],"values":[]})",
                           R"({"seq_first":1,"seq_last":1,"t":[1e300],"series":[],"values":[]})",
                           R"({"seq_first":1,"seq_last":1,"t":[],"series":[1e10],"values":[[]]})"}) {
    json frame = decoded(text);
    EXPECT_THROW(decode_samples(frame, false, names), std::runtime_error) << text;
  }
}


// --- protocol 2's msgpack samples, against the agent's own encoder: both
// formats of one batch must decode to the same doubles, bit for bit.

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Columns {
  std::vector<std::int64_t> t_ms;
  std::vector<std::uint32_t> series;
  std::vector<double> values;  // series-major, as the agent's frames hold them
};

Columns columns_of(const std::vector<std::vector<double>>& series_values, std::int64_t first_t = 1'795'321'853'683) {
  Columns c;
  const std::size_t points = series_values.empty() ? 0 : series_values[0].size();
  for (std::size_t k = 0; k < points; ++k) c.t_ms.push_back(first_t + static_cast<std::int64_t>(k) * 1000 - (k == 3 ? 7 : 0));
  for (std::size_t i = 0; i < series_values.size(); ++i) {
    c.series.push_back(static_cast<std::uint32_t>(i * 7));
    c.values.insert(c.values.end(), series_values[i].begin(), series_values[i].end());
  }
  return c;
}

std::string bits(double value) {
  return std::isnan(value) ? "NaN" : std::to_string(std::bit_cast<std::uint64_t>(value));
}

// Decodes the batch's JSON and msgpack frames and checks they give the same
// Batch, the same bits for every value, and the same frame.
void expect_formats_agree(const Columns& c, const std::string& what) {
  const hostpulse::SamplesBatch batch{.subscription = 3,
                                      .seq_first = 100,
                                      .seq_last = 100 + (c.t_ms.empty() ? 0 : c.t_ms.size() - 1),
                                      .t_ms = c.t_ms,
                                      .series = c.series,
                                      .values = c.values};
  std::string text;
  std::string binary;
  hostpulse::encode_samples(batch, hostpulse::StreamFormat::json, text);
  hostpulse::encode_samples(batch, hostpulse::StreamFormat::msgpack, binary);
  auto json_frame = decode_message(text, false);
  auto binary_frame = decode_message(binary, true);
  ASSERT_TRUE(json_frame && binary_frame) << what;
  ASSERT_TRUE(binary_frame->contains("cols")) << what;
  const Batch from_json = decode_samples(*json_frame, false, {});
  const Batch from_binary = decode_samples(*binary_frame, true, {});
  EXPECT_EQ(from_binary.t, c.t_ms) << what;
  EXPECT_EQ(from_json.t, c.t_ms) << what;
  EXPECT_EQ(from_binary.names, from_json.names) << what;
  ASSERT_EQ(from_binary.values.size(), from_json.values.size()) << what;
  const std::size_t points = c.t_ms.size();
  for (std::size_t i = 0; i < from_json.values.size(); ++i) {
    ASSERT_EQ(from_binary.values[i].size(), points) << what;
    for (std::size_t k = 0; k < points; ++k) {
      const double original = c.values[i * points + k];
      const double expected = from_json.values[i][k];
      const double got = from_binary.values[i][k];
      const std::string where = what + " values[" + std::to_string(i) + "][" + std::to_string(k) + "]";
      if (!std::isfinite(original)) {
        EXPECT_TRUE(std::isnan(expected)) << where;
      } else if (original == 0 && std::signbit(original)) {
        // JSON "-0" parses to integer 0 here (JavaScript keeps -0): the float column keeps the sign.
        EXPECT_EQ(bits(got), bits(original)) << where;
        continue;
      } else {
        EXPECT_EQ(bits(expected), bits(original)) << where << " (JSON itself)";
      }
      EXPECT_EQ(bits(got), bits(expected)) << where << " msgpack " << got << " JSON " << expected;
    }
  }
  // Batch::frame of a binary frame is the JSON frame's shape.
  EXPECT_EQ(*binary_frame, *json_frame) << what;
}

TEST(ClientFrameDecoding, MsgpackColumnsDecodeToTheJsonValues) {
  const double big = 68719476737.0;  // odd, above 2^32
  expect_formats_agree(columns_of({
                           {12.5, 13.75, 11.25, 11.25, 0.0, -3.5},            // negative deltas
                           {kNaN, kNaN, 0.07, 33.33, 100.0, 0.07},            // nil at the start
                           {33.33, kNaN, 33.34, kNaN, 33.32, 33.32},          // nil in the middle
                           {25276502016.0, big, 241016832.0, big, big, big},  // whole bytes, trailing zero deltas
                           {1.0 / 3.0, 0.1 + 0.2, kNaN, 1e-7, 2.5, 1e300},    // a float column
                           {100, 100, 100, 100, 100, 100},                    // constant
                           {0, 0, 0, 0, 0, 0},
                           {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
                           {5, 5, 5, 5, 5, kNaN},                             // nil after a run
                           {-0.0, 1, 2, 3, 4, 5},                             // -0 has no scaled integer
                           {0.000001, 0.000002, 1.5, 2, -0.123456, 7},        // six decimals
                           {0.0000001, 0, 0, 0, 0, 0},                        // seven: float
                           {9007199254740991.0, -9007199254740991.0, 0, 1, 2, 3},  // 2^53 - 1 both ways
                           {9007199254740992.0, 1, 2, 3, 4, 5},               // 2^53: float
                           {90071992547409.91, 0.01, 4.5, 0, 0, 0},           // hundredths near 2^53
                           {std::numeric_limits<double>::infinity(), 1, -std::numeric_limits<double>::infinity(), 2,
                            3, 4},                                           // non-finite: null as in JSON
                       }),
                       "specials");
  expect_formats_agree(columns_of({{}, {}}), "empty batch");
  expect_formats_agree(columns_of({{42.42}}), "one point");
}

TEST(ClientFrameDecoding, MsgpackColumnsDecodeToTheJsonValuesForRandomSamples) {
  std::uint64_t state = 0x243f6a8885a308d3ULL;
  const auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::vector<double>> series(12);
    for (std::size_t k = 0; k < 17; ++k) {
      const auto n = static_cast<std::int64_t>(next() % 2'000'001) - 1'000'000;
      series[0].push_back(std::round(static_cast<double>(n) / 100.0 * 100.0) / 100.0);  // derive-style hundredths
      series[1].push_back(static_cast<double>(next() % 10001) / 100.0);                 // percentages
      series[2].push_back(static_cast<double>(next() >> (next() % 53)));              // whole numbers of every size
      series[3].push_back(static_cast<double>(n) / 1000.0);                            // three decimals
      series[4].push_back(static_cast<double>(n) / 7.0);                               // floats
      series[5].push_back(next() % 4 == 0 ? kNaN : static_cast<double>(n % 1000) / 10.0);  // nils anywhere
      series[6].push_back(static_cast<double>(next() % 1'000'000'000'000) / 1e6);       // six decimals
      series[7].push_back(static_cast<double>(n) * 4096.0 * 1024.0);                   // bytes > 2^32, negative too
      series[8].push_back(static_cast<double>(static_cast<float>(static_cast<double>(n) / 3.0)));  // float32-exact
      series[9].push_back(k < 9 ? 50.0 : static_cast<double>(n % 100));                // a run, then movement
      series[10].push_back(k % 5 == 0 ? kNaN : 0.5);                                   // nils in a constant
      series[11].push_back(static_cast<double>(n) / 100.0 + 1e9);                      // hundredths, large
    }
    expect_formats_agree(columns_of(series, static_cast<std::int64_t>(next() % 2'000'000'000'000)),
                         "round " + std::to_string(round));
    if (HasFailure()) return;
  }
}

json msgpack_frame(const json& frame) {
  const std::vector<std::uint8_t> bytes = json::to_msgpack(frame);
  return decode_message(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), true).value();
}

// Hand-made frames: what the contract says, independent of our encoder.
TEST(ClientFrameDecoding, MsgpackColumnsByTheContract) {
  json frame = msgpack_frame(json::parse(R"({"type":"samples","sub":3,"seq_first":1235,"seq_last":1238,
      "t":[1795321853683,1000,1000,999],"series":[0,23,24,25],
      "cols":[[2,1250,75,-30],[null,0.5,null,1e300,-2],[0,null,7,null],[1]]})"));
  const Batch batch = decode_samples(frame, true, {});
  EXPECT_EQ(batch.t, (std::vector<std::int64_t>{1795321853683, 1795321854683, 1795321855683, 1795321856682}));
  ASSERT_EQ(batch.values.size(), 4u);
  EXPECT_EQ(batch.values[0], (std::vector<double>{12.5, 13.25, 12.95, 12.95}));  // trailing delta left out: 0
  EXPECT_EQ(batch.values[1][0], 0.5);
  EXPECT_TRUE(std::isnan(batch.values[1][1]));
  EXPECT_EQ(batch.values[1][2], 1e300);
  EXPECT_TRUE(std::isnan(batch.values[2][0]));
  EXPECT_EQ(batch.values[2][1], 7.0);
  EXPECT_TRUE(std::isnan(batch.values[2][2]));
  EXPECT_EQ(batch.values[2][3], 7.0);                                              // the chain skips nil
  EXPECT_EQ(batch.values[3], (std::vector<double>{0, 0, 0, 0}));                   // [decimals] alone: all 0
  EXPECT_EQ(frame["t"], json::parse("[1795321853683,1795321854683,1795321855683,1795321856682]"));
  EXPECT_FALSE(frame.contains("cols"));
  EXPECT_EQ(frame["values"][2], json::parse("[null,7,null,7]"));
}

TEST(ClientFrameDecoding, MalformedMsgpackColumnsAreRefused) {
  const char* bad_columns[] = {
      R"([[]])",                       // no decimals
      R"([[7,1,2]])",                  // decimals above 6
      R"([[-1,1,2]])",
      R"([[0.5,1,2]])",
      R"([[0,1,2,3]])",                // longer than t
      R"([[null,1]])",                 // a float column must be full length
      R"([[0,"1",2]])",
      R"([[0,9007199254740992]])",     // 2^53
      R"([[0,9007199254740991,1]])",   // the sum reaches 2^53
      R"([[0,-9223372036854775807,-9223372036854775807]])",  // overflows int64
      R"([[0,1.5]])",                  // deltas are integers
      R"([[null,"x",1]])",
      R"([5])",
  };
  for (const char* columns : bad_columns) {
    json frame = msgpack_frame(json::parse(std::string(R"({"seq_first":1,"seq_last":2,"t":[1000,1000],"series":[0],"cols":)") +
                                           columns + "}"));
    EXPECT_THROW(decode_samples(frame, true, {}), std::exception) << columns;
  }
  // A protocol 1 binary frame ("values") is not protocol 2.
  json old = msgpack_frame(json::parse(R"({"seq_first":1,"seq_last":1,"t":[1],"series":[0],"values":[[1]]})"));
  EXPECT_THROW(decode_samples(old, true, {}), std::exception);
}

}  // namespace
}  // namespace hostpulse::client::detail
