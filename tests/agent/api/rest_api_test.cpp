#include "agent/api/rest_api.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using nlohmann::json;

struct RestApiFixture : ::testing::Test {
  const std::vector<std::uint32_t> cpus{0, 1};
  const Schema schema = Schema::canonical(cpus);
  History history{schema.size(), 8};
  static constexpr EmbeddedAsset kAssets[] = {{"/index.html", "text/html; charset=utf-8", "<html>hi</html>"},
                                              {"/app.js", "text/javascript", "let x;"}};
  SamplerStats stats;
  RestApi api{RestApiSources{schema, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
                             std::chrono::milliseconds(500), [this] { return stats; }, {}, kAssets}};

  void append_point(std::int64_t t_ms, double base) {
    std::vector<double> values(schema.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = base + static_cast<double>(i);
    history.append(t_ms, values);
  }
  HttpResponse get(const std::string& target, std::string_view method = "GET") const {
    return api.handle(HttpRequest{method, target, {}, {}});
  }
  static json body(const HttpResponse& r) { return json::parse(r.payload()); }
  static nlohmann::ordered_json ordered_body(const HttpResponse& r) { return nlohmann::ordered_json::parse(r.payload()); }
  double value_of(const std::string& name, double base) const { return base + *schema.find(name); }
};

TEST_F(RestApiFixture, InfoDescribesAgentAndSchema) {
  append_point(5000, 0);
  const HttpResponse r = get("/api/v1/info");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/json");
  const json j = body(r);
  EXPECT_EQ(j["version"], "9.9.9");
  EXPECT_EQ(j["host"], "box");
  EXPECT_EQ(j["kernel"], "Linux 6.1");
  EXPECT_EQ(j["cpu_count"], 2);
  EXPECT_EQ(j["interval_ms"], 500);
  EXPECT_EQ(j["seq"], 1);
  ASSERT_EQ(j["schema"].size(), schema.size());
  EXPECT_EQ(j["schema"][0]["name"], "cpu.busy_pct");
  EXPECT_EQ(j["schema"][0]["unit"], "percent");
  EXPECT_EQ(j["schema"][0]["id"], 0);
  EXPECT_TRUE(j["schema"][0].contains("kind"));
}

TEST_F(RestApiFixture, SnapshotBeforeAnyPointIsEmpty) {
  const json j = body(get("/api/v1/snapshot?series=load.1m"));
  EXPECT_EQ(j["seq"], 0);
  EXPECT_TRUE(j["t"].is_null());
  EXPECT_TRUE(j["values"]["load.1m"].is_null());
}

TEST_F(RestApiFixture, SnapshotHasTheLatestValueOfEverySeries) {
  append_point(1000, 0);
  append_point(2000, 100);
  const json j = body(get("/api/v1/snapshot"));
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["t"], 2000);
  EXPECT_EQ(j["values"].size(), schema.size());
  EXPECT_DOUBLE_EQ(j["values"]["mem.used_bytes"].get<double>(), value_of("mem.used_bytes", 100));
  // Schema order, not alphabetical.
  EXPECT_EQ(ordered_body(get("/api/v1/snapshot"))["values"].begin().key(), "cpu.busy_pct");
}

TEST_F(RestApiFixture, NoValueIsNull) {
  std::vector<double> values(schema.size(), NAN);
  history.append(1, values);
  const json j = body(get("/api/v1/snapshot?series=cpu.busy_pct"));
  EXPECT_TRUE(j["values"]["cpu.busy_pct"].is_null());
}

TEST_F(RestApiFixture, HistoryIsColumnar) {
  for (int i = 1; i <= 5; ++i) append_point(i * 1000, i * 10);
  const json j = body(get("/api/v1/history?series=load.1m,cpu.*.busy_pct&since_seq=2"));
  EXPECT_EQ(j["seq_first"], 3);
  EXPECT_EQ(j["seq_last"], 5);
  EXPECT_EQ(j["t"], json::array({3000, 4000, 5000}));
  EXPECT_EQ(j["series"], json::array({"load.1m", "cpu.0.busy_pct", "cpu.1.busy_pct"}));
  ASSERT_EQ(j["values"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["values"][0][2].get<double>(), value_of("load.1m", 50));
  EXPECT_DOUBLE_EQ(j["values"][2][0].get<double>(), value_of("cpu.1.busy_pct", 30));
}

TEST_F(RestApiFixture, HistoryByDurationAndDefaults) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  append_point(now - 600'000, 1);  // 10 minutes ago
  append_point(now - 1'000, 2);
  append_point(now, 3);
  json j = body(get("/api/v1/history?series=load.1m&last=5m"));
  EXPECT_EQ(j["seq_first"], 2);
  EXPECT_EQ(j["t"].size(), 2u);
  j = body(get("/api/v1/history?series=load.1m"));
  EXPECT_EQ(j["t"].size(), 3u);
  j = body(get("/api/v1/history?since_seq=3"));
  EXPECT_EQ(j["t"].size(), 0u);
  EXPECT_EQ(j["series"].size(), schema.size());
}

TEST_F(RestApiFixture, BadQueriesAre400WithAMessage) {
  struct Case { const char* target; const char* message; };
  const Case cases[] = {
      {"/api/v1/history?series=nope", "unknown series 'nope'"},
      {"/api/v1/history?series=disk.*", "no series matches 'disk.*'"},
      {"/api/v1/history?series=", "empty series name"},
      {"/api/v1/history?since_seq=abc", "since_seq: expected a non-negative integer"},
      {"/api/v1/history?since_seq=-1", "since_seq"},
      {"/api/v1/history?since_seq=1&last=5m", "not both"},
      {"/api/v1/history?last=soon", "last: invalid duration"},
      {"/api/v1/history?last=0s", "longer than 0s"},
      {"/api/v1/history?limit=3", "unknown query parameter 'limit'"},
      {"/api/v1/snapshot?series=a&series=b", "given twice"},
      {"/api/v1/info?verbose=1", "unknown query parameter 'verbose'"},
      {"/api/v1/history?series=%zz", "bad request target"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = get(c.target);
    EXPECT_EQ(r.status, 400u) << c.target;
    const json j = body(r);
    EXPECT_EQ(j["error"]["status"], 400);
    EXPECT_NE(j["error"]["message"].get<std::string>().find(c.message), std::string::npos)
        << c.target << " -> " << j["error"]["message"];
  }
}

TEST_F(RestApiFixture, UnknownPathsAre404AndWrongMethods405) {
  HttpResponse r = get("/api/v1/nope");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(body(r)["error"]["status"], 404);
  EXPECT_EQ(get("/nope.html").status, 404u);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    r = get("/api/v1/history", method);
    EXPECT_EQ(r.status, 405u) << method;
    bool has_allow = false;
    for (const auto& [name, value] : r.headers) has_allow = has_allow || (name == "Allow" && value == "GET, HEAD");
    EXPECT_TRUE(has_allow);
  }
  EXPECT_EQ(get("/", "POST").status, 405u);
}

TEST_F(RestApiFixture, ServesEmbeddedAssets) {
  HttpResponse r = get("/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), "<html>hi</html>");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  r = get("/app.js?v=1");
  EXPECT_EQ(r.payload(), "let x;");
  EXPECT_EQ(get("/", "HEAD").status, 200u);
}

TEST_F(RestApiFixture, HealthReportsCollectorsAndSampler) {
  stats.ticks = 7;
  stats.missed_ticks = 1;
  stats.collectors = {CollectorStats{"proc_stat", 7, 0, true, "", 0, 10, 20},
                      CollectorStats{"proc_meminfo", 6, 1, false, "meminfo: MemTotal missing", 1234, 5, 9}};
  json j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "degraded");
  EXPECT_EQ(j["sampler"]["ticks"], 7);
  EXPECT_EQ(j["sampler"]["missed_ticks"], 1);
  ASSERT_EQ(j["collectors"].size(), 2u);
  EXPECT_EQ(j["collectors"][1]["name"], "proc_meminfo");
  EXPECT_EQ(j["collectors"][1]["ok"], false);
  EXPECT_EQ(j["collectors"][1]["last_error"], "meminfo: MemTotal missing");
  EXPECT_EQ(j["history"]["capacity"], 8);
  stats.collectors[1].last_ok = true;
  j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "ok");
}

}  // namespace
}  // namespace hostpulse
