#include "agent/stream/messages.hpp"
#include "tests/support/platform_schema.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ordered = nlohmann::ordered_json;

struct MessagesTest : ::testing::Test {
  const std::vector<std::uint32_t> cpus{0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  std::uint32_t id_of(std::string_view name) const { return *schema.find(name); }
};

TEST_F(MessagesTest, Hello) {
  const std::string text = encode_hello(HelloInfo{"1.2.3", "box", 500ms, 77}, schema, 1'700'000'000'123);
  const ordered message = ordered::parse(text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : message.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"type", "protocol", "version", "host", "interval_ms", "seq", "started_t",
                                            "schema_version", "families"}));
  EXPECT_EQ(message["type"], "hello");
  EXPECT_EQ(message["protocol"], kStreamProtocolVersion);
  EXPECT_EQ(kStreamProtocolVersion, 2);  // docs/protocol.md: binary samples carry scaled delta columns
  EXPECT_EQ(message["version"], "1.2.3");
  EXPECT_EQ(message["host"], "box");
  EXPECT_EQ(message["interval_ms"], 500);
  EXPECT_EQ(message["seq"], 77);
  EXPECT_EQ(message["started_t"], 1'700'000'000'123);
  EXPECT_EQ(message["schema_version"], schema.version());
  // Every series once, grouped by family, families in order of first id.
  std::size_t series = 0;
  for (const ordered& family : message["families"]) series += family["series"].size();
  EXPECT_EQ(series, schema.size());
  const ordered& first = message["families"][0];
  EXPECT_EQ(first, ordered::parse(R"x({"family":"cpu.busy_pct","unit":"percent","kind":"gauge","decimals":2,)x"
                                  R"x("description":"CPU time not idle and not waiting for I/O (100 - idle - iowait)",)x"
                                  R"x("series":[{"id":0,"name":"cpu.busy_pct"},)x"
                                  R"x({"id":)x" + std::to_string(id_of("cpu.0.busy_pct")) +
                                  R"x(,"name":"cpu.0.busy_pct","labels":{"cpu":"0"}}]})x"));
  bool found_load = false;
  for (const ordered& family : message["families"]) {
    if (family["family"] != "load.1m") continue;
    found_load = true;
    EXPECT_EQ(family["series"], ordered::parse(R"([{"id":)" + std::to_string(id_of("load.1m")) + R"(,"name":"load.1m"}])"));
    EXPECT_EQ(family["unit"], "load");
  }
  EXPECT_TRUE(found_load);
  EXPECT_FALSE(message.contains("id"));
}

TEST_F(MessagesTest, SchemaChangeCarriesTheAddedSeriesByFamilyAndTheRetiredIds) {
  const SchemaSnapshot grown = testing_support::platform_schema({0, 1});
  const std::uint32_t added[] = {*grown->find("cpu.1.busy_pct"), *grown->find("cpu.1.idle_pct")};
  SchemaChange change;
  change.added.assign(std::begin(added), std::end(added));
  change.retired = {*grown->find("cpu.0.user_pct")};
  const ordered message = ordered::parse(encode_schema_change(*grown, change, 1234));
  EXPECT_EQ(message["type"], "schema");
  EXPECT_EQ(message["version"], grown->version());
  EXPECT_EQ(message["seq"], 1234);
  ASSERT_EQ(message["added"].size(), 2u) << "two families";
  EXPECT_EQ(message["added"][0]["family"], "cpu.busy_pct");
  EXPECT_EQ(message["added"][0]["series"][0]["labels"]["cpu"], "1");
  EXPECT_EQ(message["added"][1]["family"], "cpu.idle_pct");
  EXPECT_EQ(message["retired"], ordered::parse("[" + std::to_string(change.retired[0]) + "]"));
}

TEST_F(MessagesTest, Subscribed) {
  const std::vector<std::uint32_t> series{id_of("load.1m"), id_of("mem.used_bytes")};
  const std::string text = encode_subscribed(R"("chart")", 3, schema, series, StreamFormat::msgpack,
                                             BatchSettings{10, 2000ms}, 5, 1234);
  EXPECT_EQ(text, R"({"type":"subscribed","id":"chart","sub":3,"series":[)" + std::to_string(series[0]) + "," +
                      std::to_string(series[1]) +
                      R"(],"names":["load.1m","mem.used_bytes"],"format":"msgpack",)"
                      R"("batch":{"max_samples":10,"max_delay_ms":2000},"every":5,"seq":1234})");
  // Without an id there is no "id" key; json is the default format name.
  const json plain = json::parse(encode_subscribed("", 1, schema, series, StreamFormat::json, BatchSettings{}, 1, 0));
  EXPECT_FALSE(plain.contains("id"));
  EXPECT_EQ(plain["format"], "json");
  EXPECT_EQ(plain["batch"], json::parse(R"({"max_samples":1,"max_delay_ms":0})"));
}

TEST_F(MessagesTest, IdIsEchoedWithItsJsonType) {
  EXPECT_EQ(encode_unsubscribed("42", 7), R"({"type":"unsubscribed","id":42,"sub":7})");
  EXPECT_EQ(encode_unsubscribed("-1", 7), R"({"type":"unsubscribed","id":-1,"sub":7})");
  EXPECT_EQ(encode_unsubscribed(R"("a\"b")", 7), R"({"type":"unsubscribed","id":"a\"b","sub":7})");
  EXPECT_EQ(encode_unsubscribed("", 7), R"({"type":"unsubscribed","sub":7})");
  EXPECT_EQ(encode_pong(R"("p")", 1'700'000'000'000), R"({"type":"pong","id":"p","t":1700000000000})");
  EXPECT_EQ(encode_pong("", -5), R"({"type":"pong","t":-5})");
}

TEST_F(MessagesTest, Error) {
  EXPECT_EQ(encode_error(R"("r1")", error_code::unknown_series, "unknown series 'nope'"),
            R"({"type":"error","id":"r1","code":"unknown_series","message":"unknown series 'nope'"})");
  EXPECT_EQ(encode_error("", error_code::bad_json, "quote \" and newline \n"),
            R"({"type":"error","code":"bad_json","message":"quote \" and newline \n"})");
}

TEST_F(MessagesTest, ErrorWithInvalidUtf8DoesNotThrow) {
  // A type name cut at 64 bytes can end inside a UTF-8 sequence.
  std::string text;
  ASSERT_NO_THROW(text = encode_error("", error_code::unknown_type, "unknown message type 'ab\xc3' and \xff\xfe"));
  const json message = json::parse(text);  // valid UTF-8 again
  EXPECT_EQ(message["message"], "unknown message type 'ab\xef\xbf\xbd' and \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(message["code"], "unknown_type");
}

TEST_F(MessagesTest, HistoryReply) {
  HistoryColumns columns;
  columns.seq_first = 5;
  columns.seq_last = 6;
  columns.t_ms = {5000, 6000};
  columns.series = {id_of("load.1m"), id_of("mem.total_bytes")};
  columns.values = {{0.25, std::numeric_limits<double>::quiet_NaN()}, {17179869184.0, 8.0}};
  const ordered message = ordered::parse(encode_history_reply("3", schema, columns));
  std::vector<std::string> keys;
  for (const auto& [key, value] : message.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"type", "id", "seq_first", "seq_last", "t", "series", "names", "values"}));
  EXPECT_EQ(message["type"], "history");
  EXPECT_EQ(message["id"], 3);
  EXPECT_EQ(message["seq_first"], 5);
  EXPECT_EQ(message["seq_last"], 6);
  EXPECT_EQ(message["t"], ordered::parse("[5000,6000]"));
  EXPECT_EQ(message["series"], ordered({columns.series[0], columns.series[1]}));
  EXPECT_EQ(message["names"], ordered::parse(R"(["load.1m","mem.total_bytes"])"));
  EXPECT_EQ(message["values"][0][0].get<double>(), 0.25);
  EXPECT_TRUE(message["values"][0][1].is_null());
  EXPECT_EQ(message["values"][1][0].get<double>(), 17179869184.0);
  EXPECT_EQ(message["values"][1][1].get<double>(), 8.0);

  // Empty history: empty arrays, one per series.
  HistoryColumns empty;
  empty.series = {0};
  empty.values = {{}};
  const json reply = json::parse(encode_history_reply("", schema, empty));
  EXPECT_EQ(reply, json::parse(R"({"type":"history","seq_first":0,"seq_last":0,"t":[],"series":[0],
                                    "names":["cpu.busy_pct"],"values":[[]]})"));
}

}  // namespace
}  // namespace hostpulse
