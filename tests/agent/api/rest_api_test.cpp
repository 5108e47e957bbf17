#include "agent/api/rest_api.hpp"
#include "tests/support/platform_schema.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using nlohmann::json;

struct RestApiFixture : ::testing::Test {
  const std::vector<std::uint32_t> cpus{0, 1};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  History history{schema_snapshot->size(), 8};
  static constexpr EmbeddedAsset kAssets[] = {{"/index.html", "text/html; charset=utf-8", "<html>hi</html>"},
                                              {"/app.js", "text/javascript", "let x;"}};
  SamplerStats stats;
  RestApi api{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
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

TEST_F(RestApiFixture, SeriesListsByFamilyAndLabels) {
  HttpResponse r = get("/api/v1/series?family=cpu.busy_pct&label.cpu=1");
  ASSERT_EQ(r.status, 200) << r.payload();
  json list = body(r)["series"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "cpu.1.busy_pct");
  EXPECT_EQ(list[0]["labels"], json({{"cpu", "1"}}));
  EXPECT_EQ(list[0]["live"], true);
  // Labels alone: every family; no match is an empty list, not an error.
  EXPECT_EQ(body(get("/api/v1/series?label.cpu=0"))["series"].size(), 11u);
  EXPECT_TRUE(body(get("/api/v1/series?family=disk.*"))["series"].empty());
  // The same filters select snapshot columns.
  r = get("/api/v1/snapshot?family=cpu.busy_pct&label.cpu=*");
  ASSERT_EQ(r.status, 200) << r.payload();
  EXPECT_EQ(body(r)["values"].size(), 2u);
}

TEST_F(RestApiFixture, BadSeriesFiltersAre400) {
  for (const std::string& target : std::vector<std::string>{"/api/v1/series?family=", "/api/v1/series?retired=maybe", "/api/v1/series?label.=x",
        "/api/v1/series?family=" + std::string(300, 'a'), "/api/v1/series?family=x&label.cpu=" + std::string(300, '1'),
        "/api/v1/snapshot?family=disk.*", "/api/v1/history?label.nope=1"}) {
    const HttpResponse r = get(target);
    EXPECT_EQ(r.status, 400) << target << " -> " << r.payload();
    EXPECT_TRUE(body(r)["error"]["message"].is_string()) << target;
  }
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
  std::vector<double> values(schema.size(), std::numeric_limits<double>::quiet_NaN());
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

// Bytes that are not UTF-8 in a URL are the client's mistake, not ours.
TEST_F(RestApiFixture, InvalidUtf8InTheUrlIs400) {
  for (const char* target : {"/%ff", "/api/v1/snapshot?series=%ff", "/api/v1/silences/%ff", "/api/v1/nope%c3"}) {
    const HttpResponse r = get(target);
    EXPECT_EQ(r.status, 400u) << target;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("invalid UTF-8"), std::string::npos) << target;
  }
}

// REST and the stream share one cap on the size of a history reply.
TEST_F(RestApiFixture, HistoryRepliesAreCappedLikeTheStream) {
  for (int i = 0; i < 8; ++i) append_point(1000 * (i + 1), i);
  RestApiSources sources{[this] { return schema_snapshot; }, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
                         std::chrono::milliseconds(500), [this] { return stats; }, {}, kAssets};
  sources.max_history_values = 20;
  const RestApi capped(sources);
  const auto ask = [&](const std::string& target) { return capped.handle(HttpRequest{"GET", target, {}, {}}); };
  HttpResponse r = ask("/api/v1/history?series=load.1m,load.5m");  // 16 values
  EXPECT_EQ(r.status, 200u);
  r = ask("/api/v1/history?series=load.1m,load.5m,load.15m");  // 24 values
  ASSERT_EQ(r.status, 400u);
  EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("reply would hold 24 values"), std::string::npos);
  EXPECT_EQ(ask("/api/v1/history?series=load.1m,load.5m,load.15m&since_seq=1").status, 400u);  // 7 points x 3 series
  EXPECT_EQ(ask("/api/v1/history?series=load.1m,load.5m,load.15m&since_seq=2").status, 200u);  // 6 points x 3 series
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

// Error messages quoting client bytes that are not UTF-8 made json::dump()
// throw (found by tests/fuzz/rest_api_fuzz), and the server answered 500.
// Such a path is now refused as a bad target; a method is still quoted.
TEST_F(RestApiFixture, ErrorsQuotingInvalidUtf8AreStillJson) {
  HttpResponse r = get("/api/v1/%FF%C3");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(body(r)["error"]["status"], 400);
  r = get("/api/v1/history", "\x8e");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(body(r)["error"]["status"], 405);
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
  stats.collectors = {CollectorStats{.name = "proc_stat", .successes = 7, .last_ok = true, .last_duration_us = 10, .max_duration_us = 20},
                      CollectorStats{.name = "proc_meminfo", .successes = 6, .failures = 1, .last_ok = false,
                                     .last_error = "meminfo: MemTotal missing", .last_error_t_ms = 1234,
                                     .last_duration_us = 5, .max_duration_us = 9}};
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
  EXPECT_EQ(j["collectors"][1]["available"], true);
  EXPECT_TRUE(j["collectors"][1]["unavailable_reason"].is_null());
}

// A source the host does not have (no PSI, no battery) is reported with its
// reason and does not make the agent degraded; a failing one still does.
TEST_F(RestApiFixture, HealthReportsUnavailableSourcesWithoutDegrading) {
  stats.collectors = {CollectorStats{.name = "proc_stat", .successes = 3, .last_ok = true},
                      CollectorStats{.name = "pressure", .last_ok = false, .available = false,
                                     .unavailable_reason = "/proc/pressure: not present (kernel without PSI)"}};
  json j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["collectors"][1]["available"], false);
  EXPECT_EQ(j["collectors"][1]["ok"], false);
  EXPECT_EQ(j["collectors"][1]["unavailable_reason"], "/proc/pressure: not present (kernel without PSI)");
  stats.collectors[1].available = true;
  j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "degraded");
}

// A stuck sampler thread updates none of its counters; health must see the
// stall from the age of the last completed tick alone.
TEST_F(RestApiFixture, HealthIsDegradedWhenTheSamplerHasNotTickedForTooLong) {
  stats.ticks = 3;
  stats.collectors = {CollectorStats{.name = "proc_stat", .successes = 3, .last_ok = true, .last_duration_us = 10, .max_duration_us = 20},
                      CollectorStats{.name = "proc_loadavg", .successes = 3, .last_ok = true, .last_duration_us = 10, .max_duration_us = 20}};
  stats.running = true;
  stats.last_progress = SteadyClock::now();
  json j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "ok") << j.dump();
  EXPECT_EQ(j["sampler"]["stalled"], false);
  EXPECT_EQ(j["sampler"]["stall_after_ms"], kMinStallAfter.count());  // 3 x 500 ms is less
  EXPECT_TRUE(j["sampler"]["busy_collector"].is_null());

  // Well past the threshold (5 s): margins of seconds, not milliseconds.
  stats.last_progress = SteadyClock::now() - 2 * kMinStallAfter;
  stats.busy_collector = 1;
  j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "degraded") << j.dump();
  EXPECT_EQ(j["sampler"]["stalled"], true);
  EXPECT_GE(j["sampler"]["since_last_tick_ms"].get<std::int64_t>(), 2 * kMinStallAfter.count());
  EXPECT_EQ(j["sampler"]["busy_collector"], "proc_loadavg");
  // Every collector still says ok: they are not what tells the stall.
  EXPECT_EQ(j["collectors"][0]["ok"], true);

  // A sampler that is not running (not started yet, or stopped) is not stalled.
  stats.running = false;
  j = body(get("/api/v1/health"));
  EXPECT_EQ(j["status"], "ok") << j.dump();
  EXPECT_EQ(j["sampler"]["stalled"], false);
}

}  // namespace
}  // namespace hostpulse

// --- Access control: token, login cookie, stream endpoint

namespace hostpulse {
namespace {

constexpr std::string_view kApiToken = "rest-api-token-0123456789";

struct RestApiAccessFixture : ::testing::Test {
  const std::vector<std::uint32_t> cpus{0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  History history{schema_snapshot->size(), 8};
  static constexpr EmbeddedAsset kAssets[] = {{"/index.html", "text/html; charset=utf-8", "<html>login</html>"},
                                              {"/app.js", "text/javascript", "let y;"}};
  AccessControl access{std::string(kApiToken), {}};
  RestApi api{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
                             std::chrono::milliseconds(500), [] { return SamplerStats{}; }, {}, kAssets, &access}};

  HttpResponse send(std::string_view method, const std::string& target, const std::string& body = {},
                    RequestCredentials credentials = {}) const {
    HttpRequest request{method, target, body, credentials};
    if (!body.empty()) request.content_type = "application/json";
    return api.handle(request);
  }
  HttpResponse get(const std::string& target, RequestCredentials credentials = {}) const {
    return send("GET", target, {}, credentials);
  }
  static RequestCredentials with_bearer(const std::string& header) {
    RequestCredentials credentials;
    credentials.authorization = header;
    return credentials;
  }
  static RequestCredentials with_cookie(const std::string& header) {
    RequestCredentials credentials;
    credentials.cookie = header;
    return credentials;
  }
  static std::optional<std::string> header(const HttpResponse& response, std::string_view name) {
    std::optional<std::string> found;
    for (const auto& [key, value] : response.headers) {
      if (key == name) {
        EXPECT_FALSE(found.has_value()) << "header " << name << " given twice";
        found = value;
      }
    }
    return found;
  }
  static nlohmann::json body(const HttpResponse& r) { return nlohmann::json::parse(r.payload()); }
  // "hostpulse_session=<id>" from a Set-Cookie header.
  static std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }
  // Logs in and returns the Cookie header a browser would send back.
  std::string log_in() const {
    const HttpResponse r = send("POST", "/api/v1/login", R"({"token":")" + std::string(kApiToken) + "\"}");
    EXPECT_EQ(r.status, 200u) << r.body;
    return cookie_pair(header(r, "Set-Cookie").value_or(""));
  }
};

TEST_F(RestApiAccessFixture, ApiNeedsTheToken) {
  const std::string bearer = "Bearer " + std::string(kApiToken);
  for (const char* target : {"/api/v1/info", "/api/v1/health", "/api/v1/snapshot", "/api/v1/history?series=load.1m",
                             "/api/v1/nope", "/api/v1/stream"}) {
    const HttpResponse r = get(target);
    EXPECT_EQ(r.status, 401u) << target;
    EXPECT_EQ(header(r, "WWW-Authenticate"), std::optional<std::string>("Bearer realm=\"hostpulse\"")) << target;
    EXPECT_EQ(body(r)["error"]["status"], 401) << target;
    EXPECT_EQ(body(r)["error"]["message"], "unauthorized: send Authorization: Bearer <token> or log in at /api/v1/login")
        << target;
    EXPECT_EQ(get(target, with_bearer("Bearer wrong-token-0123456789")).status, 401u) << target;
  }
  EXPECT_EQ(send("POST", "/api/v1/history").status, 401u);  // checked before the method
  EXPECT_EQ(get("/api/v1/info", with_bearer(bearer)).status, 200u);
  EXPECT_EQ(get("/api/v1/info", with_bearer("bearer " + std::string(kApiToken))).status, 200u);
  EXPECT_EQ(get("/api/v1/nope", with_bearer(bearer)).status, 404u);
  EXPECT_EQ(send("POST", "/api/v1/history", {}, with_bearer(bearer)).status, 405u);
}

TEST_F(RestApiAccessFixture, DashboardAssetsStayPublic) {
  HttpResponse r = get("/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), "<html>login</html>");
  EXPECT_EQ(get("/app.js").status, 200u);
  EXPECT_EQ(send("HEAD", "/").status, 200u);
  r = get("/missing.css");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(header(r, "WWW-Authenticate"), std::nullopt);
}

TEST_F(RestApiAccessFixture, LoginSetsASessionCookieThatAuthorizes) {
  const HttpResponse r = send("POST", "/api/v1/login", R"({"token":")" + std::string(kApiToken) + "\"}");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(body(r), nlohmann::json::parse(R"({"ok":true})"));
  const std::optional<std::string> set_cookie = header(r, "Set-Cookie");
  ASSERT_TRUE(set_cookie.has_value());
  const std::string prefix = "hostpulse_session=";
  ASSERT_EQ(set_cookie->rfind(prefix, 0), 0u) << *set_cookie;
  const std::string id = set_cookie->substr(prefix.size(), 64);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << *set_cookie;
  EXPECT_EQ(*set_cookie, prefix + id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");

  const std::string cookie = cookie_pair(*set_cookie);
  EXPECT_EQ(get("/api/v1/info", with_cookie(cookie)).status, 200u);
  EXPECT_EQ(get("/api/v1/health", with_cookie("theme=dark; " + cookie)).status, 200u);
  EXPECT_EQ(get("/api/v1/info", with_cookie(prefix + "0000")).status, 401u);
}

TEST_F(RestApiAccessFixture, LogoutEndsTheSession) {
  const std::string cookie = log_in();
  const std::string other = log_in();
  ASSERT_EQ(get("/api/v1/info", with_cookie(cookie)).status, 200u);
  const HttpResponse r = send("POST", "/api/v1/logout", {}, with_cookie(cookie));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(body(r), nlohmann::json::parse(R"({"ok":true})"));
  EXPECT_EQ(header(r, "Set-Cookie"), std::optional<std::string>("hostpulse_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
  EXPECT_EQ(get("/api/v1/info", with_cookie(cookie)).status, 401u);
  EXPECT_EQ(get("/api/v1/info", with_cookie(other)).status, 200u);
  // Logging out without a session is fine.
  EXPECT_EQ(send("POST", "/api/v1/logout").status, 200u);
}

TEST_F(RestApiAccessFixture, WrongTokenIs401) {
  for (const char* token : {"wrong-token-0123456789", "", "rest-api-token-012345678"}) {
    const HttpResponse r = send("POST", "/api/v1/login", R"({"token":")" + std::string(token) + "\"}");
    EXPECT_EQ(r.status, 401u) << token;
    EXPECT_EQ(body(r)["error"]["message"], "wrong token") << token;
    EXPECT_EQ(header(r, "Set-Cookie"), std::nullopt) << token;
  }
}

TEST_F(RestApiAccessFixture, BadLoginBodyIs400) {
  for (const char* request_body : {"", "token", "[]", "{}", R"({"token":5})", R"({"token":null})", R"({"tok":"x"})",
                                   R"("rest-api-token-0123456789")", R"({"token":"rest-api-token-0123456789")"}) {
    const HttpResponse r = send("POST", "/api/v1/login", request_body);
    EXPECT_EQ(r.status, 400u) << request_body;
    EXPECT_EQ(body(r)["error"]["message"], "expected a JSON body {\"token\": \"...\"}") << request_body;
    EXPECT_EQ(header(r, "Set-Cookie"), std::nullopt) << request_body;
  }
}

TEST_F(RestApiAccessFixture, LoginAndLogoutArePostOnly) {
  for (const char* target : {"/api/v1/login", "/api/v1/logout"}) {
    for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
      const HttpResponse r = send(method, target);
      EXPECT_EQ(r.status, 405u) << method << " " << target;
      EXPECT_EQ(header(r, "Allow"), std::optional<std::string>("POST")) << method << " " << target;
    }
  }
}

// A page elsewhere cannot make the browser change state here: its Origin
// is refused, a text/plain body is refused, and a rebinding Host too.
TEST_F(RestApiAccessFixture, CrossSiteRequestsCannotChangeState) {
  Silences silences;
  AccessControl open_access{"", {}};
  RestApiSources sources{[this] { return schema_snapshot; }, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
                         std::chrono::milliseconds(500), [] { return SamplerStats{}; }, {}, kAssets, &open_access};
  sources.silences = &silences;
  const RestApi open_api(sources);
  const auto post = [&](std::string_view origin, std::string_view host, std::string_view content_type) {
    HttpRequest request{"POST", "/api/v1/silences", R"({"duration":"1h"})", {}};
    request.credentials.origin = origin;
    request.credentials.host = host;
    request.content_type = content_type;
    return open_api.handle(request);
  };
  HttpResponse r = post("http://evil.example", "127.0.0.1:9870", "text/plain");
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("allowed_origins"), std::string::npos);
  EXPECT_EQ(post("http://evil.example", "127.0.0.1:9870", "application/json").status, 403u);
  r = post("", "127.0.0.1:9870", "text/plain");
  EXPECT_EQ(r.status, 415u);
  EXPECT_EQ(post("", "127.0.0.1:9870", "").status, 415u);
  EXPECT_EQ(post("http://evil.example:9870", "evil.example:9870", "application/json").status, 403u);  // rebinding
  EXPECT_EQ(silences.list(0).size(), 0u);
  // The agent's own page and programs (no Origin) still can.
  EXPECT_EQ(post("http://127.0.0.1:9870", "127.0.0.1:9870", "application/json; charset=utf-8").status, 201u);
  EXPECT_EQ(post("", "localhost:9870", "Application/JSON").status, 201u);
  HttpRequest remove{"DELETE", "/api/v1/silences/1", {}, {}};
  remove.credentials.origin = "http://evil.example";
  remove.credentials.host = "127.0.0.1:9870";
  EXPECT_EQ(open_api.handle(remove).status, 403u);
  EXPECT_EQ(silences.list(0).size(), 2u);
  // Reads from a rebinding name are refused too.
  HttpRequest read{"GET", "/api/v1/info", {}, {}};
  read.credentials.host = "evil.example:9870";
  r = open_api.handle(read);
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("allowed_hosts"), std::string::npos);
}

TEST_F(RestApiAccessFixture, StreamEndpointWithoutUpgradeIs426) {
  const std::string authorization = "Bearer " + std::string(kApiToken);
  const RequestCredentials credentials = with_bearer(authorization);
  for (const char* method : {"GET", "HEAD"}) {
    const HttpResponse r = send(method, "/api/v1/stream", {}, credentials);
    EXPECT_EQ(r.status, 426u) << method;
    EXPECT_EQ(header(r, "Upgrade"), std::optional<std::string>("websocket")) << method;
    EXPECT_EQ(header(r, "Connection"), std::optional<std::string>("Upgrade")) << method;
    EXPECT_EQ(body(r)["error"]["status"], 426) << method;
  }
  const HttpResponse post = send("POST", "/api/v1/stream", {}, credentials);
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(header(post, "Allow"), std::optional<std::string>("GET, HEAD"));
  EXPECT_EQ(get("/api/v1/stream", with_cookie(log_in())).status, 426u);
}

TEST_F(RestApiAccessFixture, WithoutATokenTheApiIsOpenAndLoginIs404) {
  AccessControl open("", {});
  const RestApi open_api{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{}, std::chrono::milliseconds(500), {}, {},
                                        kAssets, &open}};
  EXPECT_EQ(open_api.handle(HttpRequest{"GET", "/api/v1/info", {}, {}}).status, 200u);
  EXPECT_EQ(open_api.handle(HttpRequest{"GET", "/api/v1/stream", {}, {}}).status, 426u);
  HttpRequest login{"POST", "/api/v1/login", R"({"token":"anything-at-all-0123"})", {}};
  login.content_type = "application/json";
  const HttpResponse r = open_api.handle(login);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(body(r)["error"]["message"], "no token is configured: nothing to log in to");

  // No AccessControl at all behaves the same.
  const RestApi no_access{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{}, std::chrono::milliseconds(500), {}, {},
                                         kAssets}};
  EXPECT_EQ(no_access.handle(HttpRequest{"GET", "/api/v1/info", {}, {}}).status, 200u);
  HttpRequest login_without_token{"POST", "/api/v1/login", R"({"token":"x"})", {}};
  login_without_token.content_type = "application/json";
  EXPECT_EQ(no_access.handle(login_without_token).status, 404u);
  EXPECT_EQ(no_access.handle(HttpRequest{"POST", "/api/v1/logout", {}, {}}).status, 200u);
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

struct SilencesApiFixture : ::testing::Test {
  const std::vector<std::uint32_t> cpus{0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  History history{schema_snapshot->size(), 4};
  Silences silences;
  RestApi api{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{"1", "h", "k", 0}, std::chrono::milliseconds(1000),
                             {}, {}, {}, nullptr, nullptr, nullptr, &silences, nullptr}};

  HttpResponse call(std::string_view method, const std::string& target, std::string_view body = {},
                    std::string_view content_type = "application/json") const {
    HttpRequest request{method, target, body, {}};
    request.content_type = content_type;
    return api.handle(request);
  }
  static nlohmann::json body(const HttpResponse& r) { return nlohmann::json::parse(r.payload()); }
};

TEST_F(SilencesApiFixture, AddListAndDelete) {
  HttpResponse r = call("POST", "/api/v1/silences", R"({"rule":"cpu_*","duration":"2h","comment":"batch"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  const auto added = body(r);
  EXPECT_EQ(added["rule"], "cpu_*");
  EXPECT_EQ(added["instance"], "*");
  EXPECT_EQ(added["comment"], "batch");
  EXPECT_TRUE(silences.silenced("cpu_busy", "cpu.busy_pct", added["until"].get<std::int64_t>() - 1));
  EXPECT_FALSE(silences.silenced("load_high", "load.1m", added["until"].get<std::int64_t>() - 1));
  r = call("GET", "/api/v1/silences");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(body(r)["silences"].size(), 1u);
  const std::string id = added["id"];
  r = call("DELETE", "/api/v1/silences/" + id);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(body(call("GET", "/api/v1/silences"))["silences"].size(), 0u);
}

TEST_F(SilencesApiFixture, BadInputGetsAClearError) {
  struct Case { const char* body; unsigned status; const char* message; };
  const Case cases[] = {
      {"", 400, "expected a JSON object"},
      {"[1]", 400, "expected a JSON object"},
      {R"({"rule":"x"})", 400, "duration: required"},
      {R"({"duration":"soon"})", 400, "duration: invalid duration 'soon'"},
      {R"({"duration":"0s"})", 400, "duration: must be between 1ms and 30d"},
      {R"({"duration":"31d"})", 400, "duration: must be between 1ms and 30d"},
      {R"({"duration":5})", 400, "duration: expected a string"},
      {R"({"duration":"1h","rule":""})", 400, "rule and instance must not be empty"},
      {R"({"duration":"1h","matcher":"x"})", 400, "unknown field 'matcher'"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = call("POST", "/api/v1/silences", c.body);
    EXPECT_EQ(r.status, c.status) << c.body;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find(c.message), std::string::npos)
        << c.body << " -> " << r.body;
  }
  EXPECT_TRUE(silences.list(0).empty());
  EXPECT_EQ(call("DELETE", "/api/v1/silences/99").status, 404u);
  EXPECT_EQ(call("PUT", "/api/v1/silences").status, 405u);
  EXPECT_EQ(call("GET", "/api/v1/silences/1").status, 405u);
  // Query parameters are not read here; any is an error, as on every endpoint.
  for (const char* target : {"/api/v1/silences?rule=x", "/api/v1/silences/1?force=1"}) {
    const HttpResponse r = call(std::string_view(target).find("/1?") != std::string_view::npos ? "DELETE" : "GET", target);
    EXPECT_EQ(r.status, 400u) << target;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("unknown query parameter"), std::string::npos) << r.body;
  }
}

TEST_F(SilencesApiFixture, TheListIsBounded) {
  for (std::size_t i = 0; i < Silences::kMaxSilences; ++i) {
    ASSERT_EQ(call("POST", "/api/v1/silences", R"({"duration":"1h"})").status, 201u);
  }
  const HttpResponse r = call("POST", "/api/v1/silences", R"({"duration":"1h"})");
  EXPECT_EQ(r.status, 409u);
  EXPECT_NE(r.body.find("at most 1000 silences"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace hostpulse
