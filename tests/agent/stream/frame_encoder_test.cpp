#include "agent/stream/frame_encoder.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/msgpack_samples.hpp"

namespace hostpulse {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::vector<std::uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

std::string hex(const std::string& text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// Writes one value and returns the encoded bytes.
template <typename Write>
std::string written(Write write) {
  std::string out;
  MsgpackWriter writer(out);
  write(writer);
  return out;
}

// --- MsgpackWriter: every size class boundary, checked byte-exactly and by decoding.

TEST(MsgpackWriterTest, UnsignedIntegerSizeClasses) {
  struct Case { std::uint64_t value; const char* hex; };
  const Case cases[] = {
      {0, "00"},
      {127, "7f"},                                   // positive fixint
      {128, "cc80"},                                 // uint8
      {255, "ccff"},
      {256, "cd0100"},                               // uint16
      {65535, "cdffff"},
      {65536, "ce00010000"},                         // uint32
      {4294967295u, "ceffffffff"},
      {4294967296u, "cf0000000100000000"},           // uint64
      {std::numeric_limits<std::uint64_t>::max(), "cfffffffffffffffff"},
  };
  for (const Case& c : cases) {
    const std::string out = written([&](MsgpackWriter& w) { w.unsigned_integer(c.value); });
    EXPECT_EQ(hex(out), c.hex) << c.value;
    const json decoded = json::from_msgpack(bytes_of(out));
    EXPECT_TRUE(decoded.is_number_unsigned() || (c.value == 0 && decoded.is_number_integer())) << c.value;
    EXPECT_EQ(decoded.get<std::uint64_t>(), c.value);
  }
}

TEST(MsgpackWriterTest, SignedIntegerSizeClasses) {
  struct Case { std::int64_t value; const char* hex; };
  const Case cases[] = {
      {5, "05"},                                     // non-negative: the unsigned forms
      {200, "ccc8"},
      {-1, "ff"},                                    // negative fixint
      {-32, "e0"},
      {-33, "d0df"},                                 // int8
      {-128, "d080"},
      {-129, "d1ff7f"},                              // int16
      {-32768, "d18000"},
      {-32769, "d2ffff7fff"},                        // int32
      {std::numeric_limits<std::int32_t>::min(), "d280000000"},
      {std::int64_t{std::numeric_limits<std::int32_t>::min()} - 1, "d3ffffffff7fffffff"},  // int64
      {std::numeric_limits<std::int64_t>::min(), "d38000000000000000"},
  };
  for (const Case& c : cases) {
    const std::string out = written([&](MsgpackWriter& w) { w.signed_integer(c.value); });
    EXPECT_EQ(hex(out), c.hex) << c.value;
    const json decoded = json::from_msgpack(bytes_of(out));
    EXPECT_TRUE(decoded.is_number_integer()) << c.value;
    EXPECT_EQ(decoded.get<std::int64_t>(), c.value);
  }
}

TEST(MsgpackWriterTest, StringSizeClasses) {
  struct Case { std::size_t length; const char* header_hex; };
  const Case cases[] = {
      {0, "a0"},          {31, "bf"},                // fixstr
      {32, "d920"},       {255, "d9ff"},             // str8
      {256, "da0100"},    {65535, "daffff"},         // str16
      {65536, "db00010000"},                         // str32
  };
  for (const Case& c : cases) {
    const std::string text(c.length, 'x');
    const std::string out = written([&](MsgpackWriter& w) { w.string(text); });
    const std::string header_hex = c.header_hex;
    ASSERT_EQ(out.size(), header_hex.size() / 2 + c.length) << c.length;
    EXPECT_EQ(hex(out.substr(0, header_hex.size() / 2)), header_hex) << c.length;
    const json decoded = json::from_msgpack(bytes_of(out));
    ASSERT_TRUE(decoded.is_string()) << c.length;
    EXPECT_EQ(decoded.get<std::string>(), text);
  }
  // Bytes are copied as they are (UTF-8 is the caller's business).
  const std::string out = written([](MsgpackWriter& w) { w.string("h\xc3\xa9"); });
  EXPECT_EQ(hex(out), "a368c3a9");
  EXPECT_EQ(json::from_msgpack(bytes_of(out)).get<std::string>(), "h\xc3\xa9");
}

TEST(MsgpackWriterTest, ArrayHeaderSizeClasses) {
  struct Case { std::size_t entries; const char* header_hex; };
  const Case cases[] = {
      {0, "90"},      {1, "91"},        {15, "9f"},    // fixarray
      {16, "dc0010"}, {65535, "dcffff"},               // array16
      {65536, "dd00010000"}, {70000, "dd00011170"},    // array32
  };
  for (const Case& c : cases) {
    std::string out;
    MsgpackWriter w(out);
    w.array_header(c.entries);
    const std::string header_hex = c.header_hex;
    EXPECT_EQ(hex(out), header_hex) << c.entries;
    // Element k is k % 100 (one byte each), so the decoded array shows the count.
    for (std::size_t k = 0; k < c.entries; ++k) w.unsigned_integer(k % 100);
    ASSERT_EQ(out.size(), header_hex.size() / 2 + c.entries);
    const json decoded = json::from_msgpack(bytes_of(out));
    ASSERT_TRUE(decoded.is_array());
    ASSERT_EQ(decoded.size(), c.entries);
    for (std::size_t k = 0; k < c.entries; k += 997) EXPECT_EQ(decoded[k].get<std::uint64_t>(), k % 100);
    if (c.entries > 0) {
      EXPECT_EQ(decoded.back().get<std::uint64_t>(), (c.entries - 1) % 100);
    }
  }
}

TEST(MsgpackWriterTest, MapHeaderSizeClasses) {
  struct Case { std::size_t entries; const char* header_hex; };
  const Case cases[] = {
      {0, "80"},      {15, "8f"},                      // fixmap
      {16, "de0010"}, {65535, "deffff"},               // map16
      {65536, "df00010000"},                           // map32
  };
  for (const Case& c : cases) {
    std::string out;
    MsgpackWriter w(out);
    w.map_header(c.entries);
    const std::string header_hex = c.header_hex;
    EXPECT_EQ(hex(out), header_hex) << c.entries;
    for (std::size_t k = 0; k < c.entries; ++k) {
      w.string("k" + std::to_string(k));
      w.unsigned_integer(k);
    }
    const json decoded = json::from_msgpack(bytes_of(out));
    ASSERT_TRUE(decoded.is_object());
    ASSERT_EQ(decoded.size(), c.entries);
    if (c.entries > 0) {
      EXPECT_EQ(decoded.at("k0").get<std::uint64_t>(), 0u);
      const std::string last = "k" + std::to_string(c.entries - 1);
      EXPECT_EQ(decoded.at(last).get<std::uint64_t>(), c.entries - 1);
    }
  }
}

TEST(MsgpackWriterTest, FloatsNilAndBooleans) {
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.float32(1.5f); })), "ca3fc00000");
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.float64(0.1); })), "cb3fb999999999999a");
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.float64(-2.0); })), "cbc000000000000000");
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.nil(); })), "c0");
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.boolean(true); })), "c3");
  EXPECT_EQ(hex(written([](MsgpackWriter& w) { w.boolean(false); })), "c2");

  EXPECT_EQ(json::from_msgpack(bytes_of(written([](MsgpackWriter& w) { w.float32(1.5f); }))).get<double>(), 1.5);
  EXPECT_EQ(json::from_msgpack(bytes_of(written([](MsgpackWriter& w) { w.float64(0.1); }))).get<double>(), 0.1);
  EXPECT_TRUE(json::from_msgpack(bytes_of(written([](MsgpackWriter& w) { w.nil(); }))).is_null());
  EXPECT_EQ(json::from_msgpack(bytes_of(written([](MsgpackWriter& w) { w.boolean(true); }))), json(true));
  EXPECT_EQ(json::from_msgpack(bytes_of(written([](MsgpackWriter& w) { w.boolean(false); }))), json(false));
}

// exact_float(): float32 only when it converts back to the same double; nil
// when not finite.
TEST(MsgpackWriterTest, ExactFloatNarrowsOnlyWithoutLoss) {
  struct Case { double value; const char* hex; };
  const Case cases[] = {
      {0.5, "ca3f000000"},
      {-0.25, "cabe800000"},
      {-0.0, "ca80000000"},                          // the sign survives
      {16777216.0, "ca4b800000"},                    // 2^24: exact in float32
      {16777217.0, "cb4170000010000000"},            // not exact in float32
      {0.1, "cb3fb999999999999a"},                   // float32's 0.1 is another number
      {1e300, "cb7e37e43c8800759c"},                 // beyond float32's range
      {3.4028234663852886e38, "ca7f7fffff"},         // float32's largest
      {kNaN, "c0"},
      {kInfinity, "c0"},
      {-kInfinity, "c0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(hex(written([&](MsgpackWriter& w) { w.exact_float(c.value); })), c.hex) << c.value;
  }
}

// The smallest decimals that give back every finite value exactly, or none.
TEST(ColumnDecimalsTest, SmallestExactScale) {
  struct Case { std::vector<double> column; std::optional<int> decimals; };
  const Case cases[] = {
      {{}, 0},
      {{kNaN, kInfinity}, 0},                        // nothing to scale
      {{1, 2, 25276502016.0, -7}, 0},
      {{0.5, 1}, 1},
      {{0.07, 33.33, 100}, 2},
      {{12.5, kNaN, 0.125}, 3},
      {{0.000001}, 6},
      {{0.0000001}, std::nullopt},                   // seven decimals
      {{1.0 / 3.0}, std::nullopt},
      {{0.1 + 0.2}, std::nullopt},                   // 0.30000000000000004 is not 3/10
      {{-0.0}, std::nullopt},                        // no integer k gives -0 back
      {{9007199254740991.0, -9007199254740991.0}, 0},
      {{9007199254740992.0}, std::nullopt},          // 2^53
      {{123456789012.34}, 2},
      {{90071992547409.91}, 1},                      // that double is also 900719925474099 / 10
      {{1e300}, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(column_decimals(c.column), c.decimals) << ::testing::PrintToString(c.column);
  }
}

// --- encode_samples

struct SampleData {
  std::vector<std::int64_t> t_ms;
  std::vector<std::uint32_t> series;
  std::vector<double> values;  // series-major
  SamplesBatch batch(std::uint32_t sub, std::uint64_t first, std::uint64_t last) const {
    return SamplesBatch{sub, first, last, t_ms, series, values};
  }
};

TEST(EncodeSamplesTest, JsonTextIsExact) {
  const SampleData data{{1000, 2000}, {0, 4}, {1.5, kNaN, 2.0, 0.1}};
  std::string out = "left over";
  encode_samples(data.batch(3, 10, 11), StreamFormat::json, out);
  EXPECT_EQ(out,
            R"({"type":"samples","sub":3,"seq_first":10,"seq_last":11,"t":[1000,2000],"series":[0,4],)"
            R"("values":[[1.5,null],[2,0.1]]})");
}

// The JSON encoder prints hundredths and whole numbers without fmt; the text
// must stay exactly fmt's shortest round-trip form.
TEST(EncodeSamplesTest, JsonNumbersAreTheShortestRoundTripForm) {
  std::vector<double> values = {0.0, -0.0, 0.01, 0.1, 0.5, 1.0, 99.99, 100.0, -12.5, 1e-5, 1.0 / 3.0,
                                123456789.01, 9999999999999.99, 1e13, 1e15, 1e16, 1e21, 4294967296.0,
                                68719476736.0, 2.5e-300, 1.7976931348623157e308, 0.07, 12.34, 33.33};
  std::uint64_t state = 12345;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto n = static_cast<std::int64_t>(state >> 20) - (std::int64_t{1} << 43);
    values.push_back(std::round(static_cast<double>(n) / 1e4 * 100.0) / 100.0);  // derive-style hundredths
    values.push_back(static_cast<double>(n) / 1000.0);                        // three decimals: the fmt path
    values.push_back(static_cast<double>(n >> (i % 40)));                     // whole numbers of every size
  }
  const std::int64_t t[] = {1};
  const std::uint32_t series[] = {0};
  std::string out;
  for (double value : values) {
    encode_samples({1, 1, 1, t, series, std::span<const double>(&value, 1)}, StreamFormat::json, out);
    const std::string expected = R"({"type":"samples","sub":1,"seq_first":1,"seq_last":1,"t":[1],"series":[0],"values":[[)" +
                                 fmt::format("{}", value) + "]]}";
    ASSERT_EQ(out, expected) << "value " << fmt::format("{:.17g}", value);
  }
}

TEST(EncodeSamplesTest, EmptyBatchIsValidInBothFormats) {
  const SampleData data{{}, {7, 8}, {}};
  std::string out;
  encode_samples(data.batch(1, 0, 0), StreamFormat::json, out);
  EXPECT_EQ(out, R"({"type":"samples","sub":1,"seq_first":0,"seq_last":0,"t":[],"series":[7,8],"values":[[],[]]})");
  encode_samples(data.batch(1, 0, 0), StreamFormat::msgpack, out);
  EXPECT_EQ(json::from_msgpack(bytes_of(out)), json::parse(R"({"type":"samples","sub":1,"seq_first":0,"seq_last":0,
                                                            "t":[],"series":[7,8],"cols":[[0],[0]]})"));
}

TEST(EncodeSamplesTest, NonFiniteValuesAreNullInJson) {
  const SampleData data{{5}, {0, 1, 2}, {kNaN, kInfinity, -kInfinity}};
  std::string out;
  encode_samples(data.batch(2, 1, 1), StreamFormat::json, out);
  const json frame = json::parse(out);
  EXPECT_EQ(frame["values"], json::parse("[[null],[null],[null]]"));
}

std::string bits(double value) {
  return std::isnan(value) ? "NaN" : std::to_string(std::bit_cast<std::uint64_t>(value));
}

// The contract's own example, byte for byte: "t" as differences, a column of
// hundredths with a negative delta, a nil that the chain skips, a float
// column, a column that holds still (its zero deltas left out).
TEST(EncodeSamplesTest, MsgpackFrameIsTheContractsShape) {
  const SampleData data{{1795321853683, 1795321854683, 1795321855683},
                        {0, 23, 24, 25},
                        {12.5, 13.25, 12.95,  // [2, 1250, 75, -30]
                         kNaN, 7, 9,          // [0, nil, 7, 2]
                         0.5, 1.0 / 3, kNaN,  // [nil, 0.5 as float32, 1/3 as float64, nil]
                         4096, 4096, 4096}};  // [0, 4096]
  std::string out;
  encode_samples(data.batch(3, 1235, 1237), StreamFormat::msgpack, out);
  EXPECT_EQ(json::from_msgpack(bytes_of(out)), json::parse(R"({"type":"samples","sub":3,"seq_first":1235,"seq_last":1237,
      "t":[1795321853683,1000,1000],"series":[0,23,24,25],
      "cols":[[2,1250,75,-30],[0,null,7,2],[null,0.5,0.3333333333333333,null],[0,4096]]})"));
  EXPECT_EQ(hex(out.substr(out.find("cols") + 4)),
            "94"                        // 4 columns
            "94" "02" "cd04e2" "4b" "e2"  // [2, 1250, 75, -30]
            "94" "00" "c0" "07" "02"      // [0, nil, 7, 2]
            "94" "c0" "ca3f000000" "cb3fd5555555555555" "c0"
            "92" "00" "cd1000");          // [0, 4096]
}

// Trailing zero deltas are cut after writing: the header is rewritten for
// the shorter column, from array16 to fixarray where it fits.
TEST(EncodeSamplesTest, MsgpackColumnHeadersShrinkWithTheirColumns) {
  SampleData data;
  const std::size_t points = 20;
  for (std::size_t k = 0; k < points; ++k) data.t_ms.push_back(static_cast<std::int64_t>(k) * 1000);
  data.series = {0, 1, 2, 3};
  for (std::size_t k = 0; k < points; ++k) data.values.push_back(5);                           // constant
  for (std::size_t k = 0; k < points; ++k) data.values.push_back(k < 17 ? double(k) : 16.0);   // 17 moves, 3 rest
  for (std::size_t k = 0; k < points; ++k) data.values.push_back(k < 5 ? double(k) : 4.0);     // 5 moves
  for (std::size_t k = 0; k < points; ++k) data.values.push_back(k == 19 ? kNaN : 0.0);        // trailing nil stays
  std::string out;
  encode_samples(data.batch(1, 1, points), StreamFormat::msgpack, out);
  const std::string cols = hex(out.substr(out.find("cols") + 4));
  EXPECT_EQ(cols.substr(0, 2 + 6), "94" "9200" "05");
  std::string moving = "dc0012" "00";  // 1 + 17 entries: still array16
  for (int k = 0; k < 17; ++k) moving += k == 0 ? "00" : "01";
  EXPECT_EQ(cols.substr(8, moving.size()), moving);
  EXPECT_EQ(cols.substr(8 + moving.size(), 14), "96" "00" "00010101" "01");
  std::string nil_last = "dc0015" "00";
  for (int k = 0; k < 19; ++k) nil_last += "00";
  EXPECT_EQ(cols.substr(8 + moving.size() + 14), nil_last + "c0");
  EXPECT_EQ(test::samples_as_json_shape(json::from_msgpack(bytes_of(out)))["values"][1][19], 16);
}

TEST(EncodeSamplesTest, MsgpackDecodesToTheJsonFrame) {
  // 17 points: the "t" and values arrays need array16 headers; series id 300 needs uint16.
  SampleData data;
  const std::vector<std::uint32_t> series = {0, 5, 300};
  data.series = series;
  const std::size_t points = 17;
  for (std::size_t k = 0; k < points; ++k) data.t_ms.push_back(1'700'000'000'000 + static_cast<std::int64_t>(k) * 1000);
  const double specials[] = {12.34,       0.1,         -3.0,           1e-7,      17179869184.0,  // 16 GiB
                             kNaN,        9007199254740992.0, 123456789.25, 0.0,   -0.5,
                             99.99,       65535.0,     4294967296.0,   -1e18,     kInfinity,
                             33.333333333, 1e300};
  for (std::size_t i = 0; i < series.size(); ++i) {
    for (std::size_t k = 0; k < points; ++k) {
      data.values.push_back(i == 0 ? specials[k] : static_cast<double>(k * 1000 + i) + (i == 2 ? 0.75 : 0.0));
    }
  }
  const std::uint64_t seq_first = 4294967290u;
  const std::uint64_t seq_last = seq_first + points - 1;  // crosses 2^32
  std::string text;
  std::string binary;
  encode_samples(data.batch(70000, seq_first, seq_last), StreamFormat::json, text);
  encode_samples(data.batch(70000, seq_first, seq_last), StreamFormat::msgpack, binary);
  EXPECT_EQ(hex(binary.substr(0, 1)), "87");  // fixmap of 7 entries
  const json from_json = json::parse(text);
  const json raw_msgpack = json::from_msgpack(bytes_of(binary));
  EXPECT_EQ(raw_msgpack["t"][1], 1000);  // differences after the first
  const json from_msgpack = test::samples_as_json_shape(raw_msgpack);

  std::vector<std::string> json_keys;
  std::vector<std::string> msgpack_keys;
  for (const auto& [key, value] : from_json.items()) json_keys.push_back(key);
  for (const auto& [key, value] : raw_msgpack.items()) msgpack_keys.push_back(key);
  EXPECT_EQ(json_keys, (std::vector<std::string>{"seq_first", "seq_last", "series", "sub", "t", "type", "values"}));
  EXPECT_EQ(msgpack_keys, (std::vector<std::string>{"cols", "seq_first", "seq_last", "series", "sub", "t", "type"}));

  for (const json* frame : {&from_json, &from_msgpack}) {
    EXPECT_EQ((*frame)["type"], "samples");
    EXPECT_EQ((*frame)["sub"], 70000);
    EXPECT_EQ((*frame)["seq_first"].get<std::uint64_t>(), seq_first);
    EXPECT_EQ((*frame)["seq_last"].get<std::uint64_t>(), seq_last);
    EXPECT_EQ((*frame)["t"].get<std::vector<std::int64_t>>(), data.t_ms);
    EXPECT_EQ((*frame)["series"].get<std::vector<std::uint32_t>>(), series);
  }
  ASSERT_EQ(from_json["values"].size(), series.size());
  ASSERT_EQ(from_msgpack["values"].size(), series.size());
  for (std::size_t i = 0; i < series.size(); ++i) {
    ASSERT_EQ(from_json["values"][i].size(), points);
    ASSERT_EQ(from_msgpack["values"][i].size(), points);
    for (std::size_t k = 0; k < points; ++k) {
      const std::string where = "values[" + std::to_string(i) + "][" + std::to_string(k) + "]";
      const json& a = from_json["values"][i][k];
      const json& b = from_msgpack["values"][i][k];
      ASSERT_EQ(a.is_null(), b.is_null()) << where;
      if (!a.is_null()) {
        EXPECT_EQ(bits(b.get<double>()), bits(a.get<double>())) << where << " " << a << " " << b;
      }
    }
  }
  EXPECT_EQ(from_msgpack, from_json);
  // Series 1 and 2 are scaled columns, series 0 (0.1, 1e-7, 2^53...) a float column.
  EXPECT_TRUE(raw_msgpack["cols"][0][0].is_null());
  EXPECT_EQ(raw_msgpack["cols"][1][0], 0);
  EXPECT_EQ(raw_msgpack["cols"][2][0], 2);
}

TEST(EncodeSamplesTest, ExtremeSeqsAndTimesSurviveBothFormats) {
  const std::uint64_t max_seq = std::numeric_limits<std::uint64_t>::max();
  const SampleData data{{-1, 0, std::numeric_limits<std::int64_t>::max()}, {4294967295u}, {1.0, 2.0, 3.0}};
  for (StreamFormat format : {StreamFormat::json, StreamFormat::msgpack}) {
    std::string out;
    encode_samples(data.batch(std::numeric_limits<std::uint32_t>::max(), max_seq - 2, max_seq), format, out);
    const json frame =
        format == StreamFormat::json ? json::parse(out) : test::samples_as_json_shape(json::from_msgpack(bytes_of(out)));
    EXPECT_EQ(frame["sub"].get<std::uint64_t>(), 4294967295u) << format_name(format);
    EXPECT_EQ(frame["seq_first"].get<std::uint64_t>(), max_seq - 2) << format_name(format);
    EXPECT_EQ(frame["seq_last"].get<std::uint64_t>(), max_seq) << format_name(format);
    EXPECT_EQ(frame["t"].get<std::vector<std::int64_t>>(), data.t_ms) << format_name(format);
    EXPECT_EQ(frame["series"][0].get<std::uint64_t>(), 4294967295u) << format_name(format);
    EXPECT_EQ(frame["values"], json::parse("[[1,2,3]]")) << format_name(format);
  }
}

TEST(EncodeSamplesTest, OutputBufferIsReplacedNotAppended) {
  const SampleData data{{1}, {0}, {1.0}};
  std::string out;
  encode_samples(data.batch(1, 1, 1), StreamFormat::json, out);
  const std::string first = out;
  encode_samples(data.batch(1, 1, 1), StreamFormat::json, out);
  EXPECT_EQ(out, first);
  encode_samples(data.batch(1, 1, 1), StreamFormat::msgpack, out);
  const std::string binary = out;
  encode_samples(data.batch(1, 1, 1), StreamFormat::msgpack, out);
  EXPECT_EQ(out, binary);
  EXPECT_EQ(test::samples_as_json_shape(json::from_msgpack(bytes_of(out))), json::parse(first));
}

TEST(EncodeSamplesTest, FormatNames) {
  EXPECT_EQ(format_name(StreamFormat::json), "json");
  EXPECT_EQ(format_name(StreamFormat::msgpack), "msgpack");
}

}  // namespace
}  // namespace hostpulse
