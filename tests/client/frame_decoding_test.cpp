// The client's decoding of agent messages, without a connection.
#include "frame_decoding.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

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
      R"({"type":"hello","protocol":1,"version":"0.1.0","host":"box","interval_ms":1000,"started_t":17,"seq":5,)"
      R"("schema_version":3,"families":[{"family":"cpu.busy_pct","unit":"%","kind":"gauge","decimals":2,)"
      R"("series":[{"id":0,"name":"cpu.busy_pct"},{"id":9,"name":"cpu.1.busy_pct","labels":{"cpu":"1"}}]}]})"));
  EXPECT_EQ(hello.protocol, 1);
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

}  // namespace
}  // namespace hostpulse::client::detail
