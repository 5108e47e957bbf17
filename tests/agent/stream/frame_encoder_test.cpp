#include "agent/stream/frame_encoder.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

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

// number(): whole numbers as integers (exact up to 2^53), fractions as float32
// below 2^24 and float64 above, NaN and infinities as nil.
TEST(MsgpackWriterTest, NumberChoosesTheSmallestFaithfulForm) {
  struct Case { double value; const char* hex; };
  const Case cases[] = {
      {0.0, "00"},
      {-0.0, "00"},
      {42.0, "2a"},
      {127.0, "7f"},
      {128.0, "cc80"},
      {-5.0, "fb"},
      {-33.0, "d0df"},
      {65536.0, "ce00010000"},
      {17179869184.0, "cf0000000400000000"},              // 16 GiB: an exact integer
      {9007199254740991.0, "cf001fffffffffffff"},         // 2^53 - 1: last exact integer
      {-9007199254740991.0, "d3ffe0000000000001"},
      {9007199254740992.0, "cb4340000000000000"},         // 2^53: float64
      {1e300, "cb7e37e43c8800759c"},
      {0.5, "ca3f000000"},                                // fraction below 2^24: float32
      {-0.25, "cabe800000"},
      {16777215.5, "ca4b800000"},                         // just below 2^24: float32 (rounds to 2^24)
      {16777216.5, "cb4170000008000000"},                 // just above 2^24: float64, exact
      {-16777216.5, "cbc170000008000000"},
      {kNaN, "c0"},
      {kInfinity, "c0"},
      {-kInfinity, "c0"},
  };
  for (const Case& c : cases) {
    const std::string out = written([&](MsgpackWriter& w) { w.number(c.value); });
    EXPECT_EQ(hex(out), c.hex) << c.value;
  }
  // Decoded: integers stay integers, float32 within float32 precision, float64 exact.
  const auto decode = [](double value) {
    return json::from_msgpack(bytes_of(written([&](MsgpackWriter& w) { w.number(value); })));
  };
  EXPECT_TRUE(decode(17179869184.0).is_number_integer());
  EXPECT_EQ(decode(17179869184.0).get<std::uint64_t>(), 17179869184u);
  EXPECT_EQ(decode(68719476737.0).get<std::uint64_t>(), 68719476737u);  // odd, above 2^32
  EXPECT_EQ(decode(-9007199254740991.0).get<std::int64_t>(), -9007199254740991);
  EXPECT_TRUE(decode(9007199254740992.0).is_number_float());
  EXPECT_EQ(decode(9007199254740992.0).get<double>(), 9007199254740992.0);
  EXPECT_EQ(decode(12.34).get<double>(), static_cast<double>(12.34f));
  EXPECT_NEAR(decode(12.34).get<double>(), 12.34, 12.34 * 1e-7);
  EXPECT_EQ(decode(16777216.5).get<double>(), 16777216.5);
  EXPECT_TRUE(decode(kNaN).is_null());
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
                                                            "t":[],"series":[7,8],"values":[[],[]]})"));
}

TEST(EncodeSamplesTest, NonFiniteValuesAreNullInJson) {
  const SampleData data{{5}, {0, 1, 2}, {kNaN, kInfinity, -kInfinity}};
  std::string out;
  encode_samples(data.batch(2, 1, 1), StreamFormat::json, out);
  const json frame = json::parse(out);
  EXPECT_EQ(frame["values"], json::parse("[[null],[null],[null]]"));
}

// Compares one decoded msgpack value with the value encoded and the JSON frame's value.
void expect_same_value(const json& from_json, const json& from_msgpack, double original, const std::string& where) {
  if (!std::isfinite(original)) {
    EXPECT_TRUE(from_json.is_null()) << where;
    EXPECT_TRUE(from_msgpack.is_null()) << where;
    return;
  }
  // JSON prints the shortest decimal that round-trips: exact.
  ASSERT_TRUE(from_json.is_number()) << where;
  EXPECT_EQ(from_json.get<double>(), original) << where;
  ASSERT_TRUE(from_msgpack.is_number()) << where;
  const bool whole = original == std::trunc(original) && std::fabs(original) < 9007199254740992.0;
  if (whole) {
    EXPECT_TRUE(from_msgpack.is_number_integer()) << where << " " << from_msgpack;
    EXPECT_TRUE(from_json.is_number_integer()) << where << " " << from_json;
    EXPECT_EQ(from_msgpack.get<std::int64_t>(), static_cast<std::int64_t>(original)) << where;
    EXPECT_EQ(from_json, from_msgpack) << where;
  } else if (std::fabs(original) < 16777216.0) {
    EXPECT_EQ(from_msgpack.get<double>(), static_cast<double>(static_cast<float>(original))) << where;
    EXPECT_NEAR(from_msgpack.get<double>(), original, std::fabs(original) * 6e-8) << where;
  } else {
    EXPECT_EQ(from_msgpack.get<double>(), original) << where;
  }
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
  const json from_msgpack = json::from_msgpack(bytes_of(binary));

  std::vector<std::string> json_keys;
  std::vector<std::string> msgpack_keys;
  for (const auto& [key, value] : from_json.items()) json_keys.push_back(key);
  for (const auto& [key, value] : from_msgpack.items()) msgpack_keys.push_back(key);
  EXPECT_EQ(json_keys, (std::vector<std::string>{"seq_first", "seq_last", "series", "sub", "t", "type", "values"}));
  EXPECT_EQ(msgpack_keys, json_keys);

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
      expect_same_value(from_json["values"][i][k], from_msgpack["values"][i][k], data.values[i * points + k],
                        "values[" + std::to_string(i) + "][" + std::to_string(k) + "]");
    }
  }
}

TEST(EncodeSamplesTest, ExtremeSeqsAndTimesSurviveBothFormats) {
  const std::uint64_t max_seq = std::numeric_limits<std::uint64_t>::max();
  const SampleData data{{-1, 0, std::numeric_limits<std::int64_t>::max()}, {4294967295u}, {1.0, 2.0, 3.0}};
  for (StreamFormat format : {StreamFormat::json, StreamFormat::msgpack}) {
    std::string out;
    encode_samples(data.batch(std::numeric_limits<std::uint32_t>::max(), max_seq - 2, max_seq), format, out);
    const json frame = format == StreamFormat::json ? json::parse(out) : json::from_msgpack(bytes_of(out));
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
  EXPECT_EQ(json::from_msgpack(bytes_of(out)), json::parse(first));
}

TEST(EncodeSamplesTest, FormatNames) {
  EXPECT_EQ(format_name(StreamFormat::json), "json");
  EXPECT_EQ(format_name(StreamFormat::msgpack), "msgpack");
}

}  // namespace
}  // namespace hostpulse
