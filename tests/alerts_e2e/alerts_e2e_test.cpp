// Threshold alerts end to end: the built hostpulse binary runs against a
// private copy of a fixture procfs at --interval 100 with [[alert]] rules in
// its config; the test rewrites /proc files (atomically) to move the values
// and watches the outcome only through the public surface: the WebSocket
// stream ({"type":"alert"} events, the {"type":"alerts"} snapshot after
// hello, "alerts": false), GET /api/v1/alerts, the exit code and the log.
//
// Every wait is bounded; the whole suite runs in well under 40 s.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "alerts_e2e/alert_agent.hpp"
#include "stream/ws_test_client.hpp"
#include "support/agent_process.hpp"
#include "support/http_receiver.hpp"
#include "support/temp_dir.hpp"

namespace hostpulse::testing_support {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// linux6_2cpu's meminfo (MemTotal 24684084 kB) with MemAvailable set to available_kb.
std::string meminfo(std::uint64_t available_kb) {
  std::ifstream file(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu/meminfo");
  std::string text, line;
  while (std::getline(file, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) line = "MemAvailable:   " + std::to_string(available_kb) + " kB";
    text += line + "\n";
  }
  EXPECT_TRUE(contains(text, "MemTotal:       24684084 kB\n")) << text;
  EXPECT_TRUE(contains(text, "MemAvailable:   " + std::to_string(available_kb) + " kB\n")) << text;
  return text;
}

// Reads messages until an {"type":"alert"} one arrives (others go to `skipped`).
std::optional<json> next_alert(WsClient& client, std::vector<WsMessage>* skipped = nullptr,
                               std::chrono::milliseconds timeout = kEventTimeout) {
  return client.read_type("alert", timeout, skipped);
}

// Sends a ping and reads up to its pong: every message the server queued
// before it ends up in `received`. A read that times out would leave the
// client unusable, so this is how a test looks at "everything so far".
bool drain(WsClient& client, std::vector<WsMessage>& received, const std::string& id) {
  const auto pong = client.request(json{{"type", "ping"}, {"id", id}}, {"pong"}, 5s * kSlack, &received);
  return pong.has_value();
}

std::size_t count_type(const std::vector<WsMessage>& messages, std::string_view type) {
  return static_cast<std::size_t>(
      std::count_if(messages.begin(), messages.end(), [&](const WsMessage& m) { return m.is(type); }));
}

// Connects; the first message must be hello and the second the active-alerts snapshot.
std::optional<json> connect_and_snapshot(WsClient& client) {
  if (!client.connect()) {
    ADD_FAILURE() << "cannot connect: " << client.error();
    return std::nullopt;
  }
  const auto first = client.read(5s * kSlack);
  if (!first || !first->is("hello")) {
    ADD_FAILURE() << "first message is not hello: " << (first ? first->data : client.error());
    return std::nullopt;
  }
  const auto second = client.read(5s * kSlack);
  if (!second || !second->is("alerts")) {
    ADD_FAILURE() << "second message is not the alerts snapshot: " << (second ? second->data : client.error());
    return std::nullopt;
  }
  return second->body;
}

void expect_event(const json& event, std::string_view from, std::string_view to, std::string_view threshold,
                  double value, std::string_view rule = "load_high", std::string_view instance = "load.1m") {
  SCOPED_TRACE(event.dump());
  EXPECT_EQ(event["type"], "alert");
  EXPECT_EQ(event["rule"], rule);
  EXPECT_EQ(event["instance"], instance);
  EXPECT_EQ(event["from"], from);
  EXPECT_EQ(event["to"], to);
  EXPECT_EQ(event["threshold"], threshold);
  ASSERT_TRUE(event["value"].is_number());
  EXPECT_DOUBLE_EQ(event["value"].get<double>(), value);
  ASSERT_TRUE(event["t"].is_number_integer());
  EXPECT_NEAR(static_cast<double>(event["t"].get<std::int64_t>()), static_cast<double>(wall_ms()), 30'000.0);
  EXPECT_TRUE(event["severity"].is_string());
  EXPECT_TRUE(event["description"].is_string());
}


// ---------------------------------------------------------------------------

TEST(Alerts, LoadRuleFiresEscalatesAndResolvesEverywhere) {
  AlertAgent agent(kLoadRule);
  ASSERT_TRUE(agent.listening()) << agent.output();
  // Logged right after the "listening on" line.
  EXPECT_TRUE(agent.process().wait_for_output("1 alert rules, 1 instances", 5s)) << agent.output();

  // A: a subscriber (alerts on by default). B: a subscriber with "alerts": false.
  // C: a connection without any subscription.
  WsClient a(agent.port()), b(agent.port()), c(agent.port());
  for (WsClient* client : {&a, &b, &c}) {
    const auto snapshot = connect_and_snapshot(*client);
    ASSERT_TRUE(snapshot);
    EXPECT_EQ(*snapshot, (json{{"type", "alerts"}, {"active", json::array()}}));
  }
  auto subscribed = a.request(json{{"type", "subscribe"}, {"id", "a"}, {"series", {"load.1m"}}}, {"subscribed", "error"});
  ASSERT_TRUE(subscribed && subscribed->at("type") == "subscribed") << (subscribed ? subscribed->dump() : a.error());
  subscribed = b.request(json{{"type", "subscribe"}, {"id", "b"}, {"series", {"load.1m"}}, {"alerts", false}},
                         {"subscribed", "error"});
  ASSERT_TRUE(subscribed && subscribed->at("type") == "subscribed") << (subscribed ? subscribed->dump() : b.error());

  json rest = agent.alerts();
  EXPECT_EQ(rest, (json{{"rules", 1}, {"active", json::array()}, {"events", json::array()}}));

  // Load 7: pending, then warning once it held for 300 ms.
  agent.write_proc("loadavg", loadavg(7));
  std::vector<WsMessage> a_skipped;
  const auto pending = next_alert(a, &a_skipped);
  ASSERT_TRUE(pending) << a.error();
  expect_event(*pending, "ok", "pending", "> 5", 7);
  const auto warning = next_alert(a, &a_skipped);
  ASSERT_TRUE(warning) << a.error();
  expect_event(*warning, "pending", "warning", "> 5", 7);
  EXPECT_GE((*warning)["t"].get<std::int64_t>() - (*pending)["t"].get<std::int64_t>(), 300);
  EXPECT_EQ((*warning)["severity"], "warning");
  EXPECT_EQ((*warning)["description"], "load 7 crossed > 5");
  EXPECT_FALSE(warning->contains("incident_ms"));
  EXPECT_GT(count_type(a_skipped, "samples"), 0u) << "samples keep flowing next to alerts";

  // Load 12: critical once that held for 300 ms (no second pending while warning).
  agent.write_proc("loadavg", loadavg(12));
  const auto critical = next_alert(a, &a_skipped);
  ASSERT_TRUE(critical) << a.error();
  expect_event(*critical, "warning", "critical", "> 10", 12);
  EXPECT_EQ((*critical)["severity"], "critical");

  // REST: active with state critical, and the three events in order.
  rest = agent.alerts();
  EXPECT_EQ(rest["rules"], 1);
  ASSERT_EQ(rest["active"].size(), 1u) << rest.dump();
  const json& active = rest["active"][0];
  EXPECT_EQ(active["rule"], "load_high");
  EXPECT_EQ(active["instance"], "load.1m");
  EXPECT_EQ(active["state"], "critical");
  EXPECT_EQ(active["value"], 12.0);
  EXPECT_EQ(active["since"], (*critical)["t"]);
  EXPECT_EQ(active["severity"], "critical");
  EXPECT_EQ(active["description"], "load 12 crossed > 10");
  ASSERT_EQ(rest["events"].size(), 3u) << rest.dump();
  EXPECT_EQ(rest["events"][0], *pending);
  EXPECT_EQ(rest["events"][1], *warning);
  EXPECT_EQ(rest["events"][2], *critical);

  // A client connecting now gets the active alert right after hello.
  {
    WsClient d(agent.port());
    const auto snapshot = connect_and_snapshot(d);
    ASSERT_TRUE(snapshot);
    ASSERT_EQ((*snapshot)["active"].size(), 1u) << snapshot->dump();
    EXPECT_EQ((*snapshot)["active"][0], active);
    d.close();
  }

  // Load 1: resolved (critical -> ok through crit_clear), with the incident's length.
  agent.write_proc("loadavg", loadavg(1));
  const auto resolved = next_alert(a, &a_skipped);
  ASSERT_TRUE(resolved) << a.error();
  expect_event(*resolved, "critical", "ok", "< 8", 1);
  ASSERT_TRUE(resolved->contains("incident_ms")) << resolved->dump();
  EXPECT_GT((*resolved)["incident_ms"].get<std::int64_t>(), 0);
  EXPECT_EQ((*resolved)["incident_ms"].get<std::int64_t>(),
            (*resolved)["t"].get<std::int64_t>() - (*warning)["t"].get<std::int64_t>())
      << "an incident lasts from firing (warning) to resolve";

  rest = agent.wait_for_alerts([](const json& body) { return body["active"].empty(); }, 2s);
  EXPECT_EQ(rest["active"], json::array()) << rest.dump();
  ASSERT_EQ(rest["events"].size(), 4u) << rest.dump();
  EXPECT_EQ(rest["events"][3], *resolved);

  // A got nothing else; C (no subscription) got exactly the same four events;
  // B (alerts: false) got samples but no alert.
  std::vector<WsMessage> rest_of_a, all_of_b, all_of_c;
  ASSERT_TRUE(drain(a, rest_of_a, "a-end")) << a.error();
  EXPECT_EQ(count_type(rest_of_a, "alert"), 0u);
  ASSERT_TRUE(drain(c, all_of_c, "c-end")) << c.error();
  std::vector<json> c_alerts;
  for (const WsMessage& m : all_of_c) {
    if (m.is("alert")) c_alerts.push_back(m.body);
  }
  EXPECT_EQ(c_alerts, (std::vector<json>{*pending, *warning, *critical, *resolved}));
  EXPECT_EQ(count_type(all_of_c, "samples"), 0u);
  ASSERT_TRUE(drain(b, all_of_b, "b-end")) << b.error();
  EXPECT_EQ(count_type(all_of_b, "alert"), 0u);
  EXPECT_EQ(count_type(all_of_b, "alerts"), 0u);
  EXPECT_GT(count_type(all_of_b, "samples"), 0u);

  // The log has the firing transitions as warnings.
  EXPECT_TRUE(contains(agent.output(), "alert load_high pending -> warning on load.1m: load 7 crossed > 5"))
      << agent.output();
}

TEST(Alerts, AlertsCanBeTurnedBackOn) {
  AlertAgent agent(kLoadRule);
  ASSERT_TRUE(agent.listening()) << agent.output();
  WsClient client(agent.port());
  ASSERT_TRUE(connect_and_snapshot(client));
  auto reply = client.request(json{{"type", "subscribe"}, {"id", 1}, {"series", "load.1m"}, {"alerts", false}},
                              {"subscribed", "error"});
  ASSERT_TRUE(reply && reply->at("type") == "subscribed");
  // A second subscription with "alerts": true turns them on for the connection again.
  reply = client.request(json{{"type", "subscribe"}, {"id", 2}, {"series", "load.5m"}, {"alerts", true}},
                         {"subscribed", "error"});
  ASSERT_TRUE(reply && reply->at("type") == "subscribed") << (reply ? reply->dump() : client.error());
  // "alerts" must be a boolean.
  reply = client.request(json{{"type", "subscribe"}, {"id", 3}, {"series", "load.15m"}, {"alerts", "no"}},
                         {"subscribed", "error"});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["type"], "error");
  EXPECT_EQ((*reply)["code"], "bad_field");

  agent.write_proc("loadavg", loadavg(7));
  const auto pending = next_alert(client);
  ASSERT_TRUE(pending) << client.error();
  expect_event(*pending, "ok", "pending", "> 5", 7);
}

TEST(Alerts, MemoryAvailableRule) {
  AlertAgent agent(R"(
[[alert]]
name = "memory_available_low"
series = "mem.available_pct"
warn = "< 20"
warn_clear = "> 25"
crit = "< 10"
crit_clear = "> 15"
severity = "page"
description = "only {{value}} % of memory available"
)");
  ASSERT_TRUE(agent.listening()) << agent.output();
  WsClient client(agent.port());
  const auto snapshot = connect_and_snapshot(client);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ((*snapshot)["active"], json::array());

  // 15 % available: warning right away (no `for`).
  agent.write_proc("meminfo", meminfo(3702613));
  auto event = next_alert(client);
  ASSERT_TRUE(event) << client.error();
  expect_event(*event, "ok", "warning", "< 20", 15, "memory_available_low", "mem.available_pct");
  EXPECT_EQ((*event)["severity"], "page");
  EXPECT_EQ((*event)["description"], "only 15 % of memory available");

  // 5 %: critical.
  agent.write_proc("meminfo", meminfo(1234204));
  event = next_alert(client);
  ASSERT_TRUE(event) << client.error();
  expect_event(*event, "warning", "critical", "< 10", 5, "memory_available_low", "mem.available_pct");
  json rest = agent.alerts();
  ASSERT_EQ(rest["active"].size(), 1u) << rest.dump();
  EXPECT_EQ(rest["active"][0]["state"], "critical");
  EXPECT_EQ(rest["active"][0]["value"], 5.0);
  EXPECT_EQ(rest["active"][0]["severity"], "page");

  // 12 %: between crit_clear (> 15) and crit (< 10): hysteresis keeps it critical.
  agent.write_proc("meminfo", meminfo(2962090));
  std::this_thread::sleep_for(500ms);
  rest = agent.alerts();
  ASSERT_EQ(rest["active"].size(), 1u) << rest.dump();
  EXPECT_EQ(rest["active"][0]["state"], "critical");
  EXPECT_EQ(rest["active"][0]["value"], 12.0);

  // 50 %: resolved.
  agent.write_proc("meminfo", meminfo(12342042));
  event = next_alert(client);
  ASSERT_TRUE(event) << client.error();
  expect_event(*event, "critical", "ok", "> 15", 50, "memory_available_low", "mem.available_pct");
  EXPECT_GT((*event)["incident_ms"].get<std::int64_t>(), 0);
  rest = agent.wait_for_alerts([](const json& body) { return body["active"].empty(); }, 2s);
  EXPECT_EQ(rest["active"], json::array());
  EXPECT_EQ(rest["events"].size(), 3u) << rest.dump();
}

TEST(Alerts, MissingSourceGoesNodataWithNullValue) {
  AlertAgent agent(R"(
[[alert]]
name = "load_high"
series = "load.1m"
warn = "> 5"
nodata_after = "1s"
)");
  ASSERT_TRUE(agent.listening()) << agent.output();
  WsClient client(agent.port());
  ASSERT_TRUE(connect_and_snapshot(client));

  std::filesystem::remove(agent.proc() + "/loadavg");
  auto event = next_alert(client);
  ASSERT_TRUE(event) << client.error();
  EXPECT_EQ((*event)["from"], "ok");
  EXPECT_EQ((*event)["to"], "nodata");
  EXPECT_TRUE((*event)["value"].is_null()) << event->dump();
  EXPECT_TRUE((*event)["threshold"].is_null()) << event->dump();
  const json rest = agent.alerts();
  ASSERT_EQ(rest["active"].size(), 1u) << rest.dump();
  EXPECT_EQ(rest["active"][0]["state"], "nodata");
  EXPECT_TRUE(rest["active"][0]["value"].is_null());

  agent.write_proc("loadavg", loadavg(1));
  event = next_alert(client);
  ASSERT_TRUE(event) << client.error();
  EXPECT_EQ((*event)["from"], "nodata");
  EXPECT_EQ((*event)["to"], "ok");
}

TEST(Alerts, RulesDirIsLoadedAndUnmatchedRulesAreReported) {
  AlertAgent agent("rules_dir = \"rules.d\"\n" + std::string(kLoadRule),
                   {{"rules.d/10-cores.toml", "[[alert]]\nname = \"core_busy\"\nseries = \"cpu.*.busy_pct\"\n"
                                              "warn = \"> 90\"\n"},
                    {"rules.d/20-gpu.toml", "[[alert]]\nname = \"gpu_hot\"\nseries = \"gpu.*.temp\"\nwarn = \"> 90\"\n"}});
  ASSERT_TRUE(agent.listening()) << agent.output();
  // 3 rules; instances: load.1m + 2 cores; gpu_hot matches nothing and is reported by name.
  EXPECT_TRUE(agent.process().wait_for_output("3 alert rules, 3 instances", 5s)) << agent.output();
  EXPECT_TRUE(contains(agent.output(), "alert 'gpu_hot' (")) << agent.output();
  EXPECT_TRUE(contains(agent.output(), "rules.d/20-gpu.toml:1): series 'gpu.*.temp' matches no series yet"))
      << agent.output();
  EXPECT_EQ(agent.alerts()["rules"], 3);
}

// linux6_2cpu's /proc/stat after `step` more ticks' worth of jiffies: cpu0
// and cpu1 idle, and with `with_cpu2` a third CPU that is 90 % busy.
std::string stat_with_cpus(std::uint64_t step, bool with_cpu2) {
  const std::uint64_t d = step * 100;
  std::string text = "cpu  " + std::to_string(1121 + (with_cpu2 ? d * 9 / 10 : 0)) + " 0 1228 " +
                     std::to_string(70882 + 2 * d + (with_cpu2 ? d / 10 : 0)) + " 245 0 41 10 0 0\n";
  text += "cpu0 289 0 450 " + std::to_string(35992 + d) + " 6 0 3 2 0 0\n";
  text += "cpu1 831 0 777 " + std::to_string(34890 + d) + " 239 0 37 7 0 0\n";
  if (with_cpu2) text += "cpu2 " + std::to_string(500 + d * 9 / 10) + " 0 100 " + std::to_string(30000 + d / 10) +
                         " 0 0 0 0 0 0\n";
  text += "ctxt " + std::to_string(233904 + d) + "\nbtime 1795320093\nprocesses 2795\nprocs_running 1\nprocs_blocked 0\n";
  return text;
}

// A CPU that comes online while the agent runs gets an instance of the glob
// rule, which then fires on it like on any other.
TEST(Alerts, GlobRuleGetsAnInstanceForASeriesThatAppearsAndFiresOnIt) {
  AlertAgent agent("[[alert]]\nname = \"core_busy\"\nseries = \"cpu.*.busy_pct\"\nwarn = \"> 50\"\n");
  ASSERT_TRUE(agent.listening()) << agent.output();
  EXPECT_TRUE(agent.process().wait_for_output("1 alert rules, 2 instances", 5s)) << agent.output();
  EXPECT_EQ(agent.get_json("/api/v1/health")["alerts"]["instances"], 2);

  // Keep the counters moving (a busy_pct needs two reads) until the alert
  // fires on the new CPU, or the deadline passes.
  const auto deadline = Clock::now() + kEventTimeout;
  json body;
  bool fired = false;
  for (std::uint64_t step = 1; !fired && Clock::now() < deadline; ++step) {
    agent.write_proc("stat", stat_with_cpus(step, true));
    std::this_thread::sleep_for(50ms);  // pacing of the rewrites; the loop's end is the deadline
    body = agent.alerts();
    for (const json& alert : body["active"]) fired = fired || alert["instance"] == "cpu.2.busy_pct";
  }
  ASSERT_TRUE(fired) << body.dump() << "\n" << agent.output();
  ASSERT_EQ(body["active"].size(), 1u) << "only the new, busy CPU: " << body.dump();
  EXPECT_EQ(body["active"][0]["rule"], "core_busy");
  EXPECT_EQ(body["active"][0]["state"], "warning");
  EXPECT_GT(body["active"][0]["value"].get<double>(), 50.0);
  EXPECT_EQ(agent.get_json("/api/v1/health")["alerts"]["instances"], 3);
}

// With [series] retire_after at its minimum (1 s: ten reads at 100 ms), a
// busy CPU that goes offline retires: its firing alert resolves once, with
// the reason, on the stream and in the REST event log, and leaves the active
// list; the other CPUs' OK instances stay.
TEST(Alerts, FiringInstanceOfARetiredSeriesResolvesWithTheReason) {
  AlertAgent agent("[series]\nretire_after = \"1s\"\n[[alert]]\nname = \"core_busy\"\nseries = \"cpu.*.busy_pct\"\n"
                   "warn = \"> 50\"\n");
  ASSERT_TRUE(agent.listening()) << agent.output();
  WsClient client(agent.port());
  ASSERT_TRUE(connect_and_snapshot(client));

  std::uint64_t step = 1;
  const auto deadline = Clock::now() + kEventTimeout;
  json body;
  bool fired = false;
  while (!fired && Clock::now() < deadline) {
    agent.write_proc("stat", stat_with_cpus(step++, true));
    std::this_thread::sleep_for(50ms);  // pacing of the rewrites; the loop's end is the deadline
    body = agent.alerts();
    fired = body["active"].size() == 1 && body["active"][0]["instance"] == "cpu.2.busy_pct";
  }
  ASSERT_TRUE(fired) << body.dump() << "\n" << agent.output();
  const auto firing = next_alert(client);
  ASSERT_TRUE(firing) << client.error();
  EXPECT_EQ((*firing)["to"], "warning");
  EXPECT_FALSE(firing->contains("reason")) << "ordinary transitions carry no reason";

  // CPU 2 goes offline: absent from the reads, it retires after 1 s.
  agent.write_proc("stat", stat_with_cpus(step, false));
  body = agent.wait_for_alerts(
      [](const json& b) { return b["active"].empty() && b["events"].size() >= 2; }, kEventTimeout + 1s);
  // The stream has it queued by now (a read that timed out would end the client).
  const std::optional<json> resolved = next_alert(client);
  ASSERT_TRUE(resolved) << client.error() << "\n" << agent.output();
  SCOPED_TRACE(resolved->dump());
  EXPECT_EQ((*resolved)["rule"], "core_busy");
  EXPECT_EQ((*resolved)["instance"], "cpu.2.busy_pct");
  EXPECT_EQ((*resolved)["from"], "warning");
  EXPECT_EQ((*resolved)["to"], "ok");
  EXPECT_EQ((*resolved)["reason"], "series_retired");
  EXPECT_GT((*resolved)["incident_ms"].get<std::int64_t>(), 0);

  EXPECT_TRUE(body["active"].empty()) << body.dump();
  ASSERT_EQ(body["events"].size(), 2u) << "fired and resolved, once each: " << body.dump();
  EXPECT_EQ(body["events"][1]["reason"], "series_retired");
  EXPECT_EQ(agent.get_json("/api/v1/health")["alerts"]["instances"], 2);
  // Exactly one resolve: nothing more about cpu.2 on the stream.
  std::vector<WsMessage> later;
  ASSERT_TRUE(drain(client, later, "after"));
  EXPECT_EQ(count_type(later, "alert"), 0u);
}

TEST(Alerts, InvalidRulesFileExitsWithFileAndLine) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("rules.d"));
  dir.write("rules.d/ok.toml", "[[alert]]\nname = \"a\"\nseries = \"load.1m\"\nwarn = \"> 5\"\n");
  const std::string bad = dir.write("rules.d/zz-bad.toml",
                                    "# broken\n[[alert]]\nname = \"b\"\nseries = \"load.1m\"\nwarn = \"> 5\"\n"
                                    "crit = \"< 1\"\n");
  const std::string config = dir.write("hostpulse.toml", "rules_dir = \"rules.d\"\n");
  const std::string procfs = std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu";
  const std::string expected =
      bad + ":2: alert 'b': warn and crit point in different directions ('> 5', '< 1')";

  RunResult result = run_to_completion({"--config", config, "--listen", "127.0.0.1:0", "--procfs", procfs}, 10s);
  ASSERT_TRUE(result.exit_code.has_value()) << "the agent started instead of refusing the rules";
  EXPECT_EQ(*result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, expected)) << result.err;
  EXPECT_FALSE(contains(result.out + result.err, "listening on")) << result.out << result.err;

  result = run_to_completion({"--config", config, "--check-config"}, 10s);
  ASSERT_TRUE(result.exit_code.has_value());
  EXPECT_EQ(*result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, expected)) << result.err;

  // A bad key in the main file's [[alert]] table names the key.
  const std::string main_only =
      dir.write("main.toml", "[[alert]]\nname = \"a\"\nseries = \"load.1m\"\nwarn = \"> 5\"\nfor = \"soon\"\n");
  result = run_to_completion({"--config", main_only, "--listen", "127.0.0.1:0", "--procfs", procfs}, 10s);
  ASSERT_TRUE(result.exit_code.has_value());
  EXPECT_EQ(*result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, main_only + ":5: alert.for: invalid duration 'soon'")) << result.err;
}

}  // namespace
}  // namespace hostpulse::testing_support

namespace hostpulse::testing_support {
namespace {

// SIGHUP: new rules take effect, an unchanged firing rule keeps its state
// (no new event), and an invalid file is rejected with the running rules kept.
TEST(Alerts, SighupReloadsRulesKeepsStateAndRejectsInvalidFiles) {
  AlertAgent agent(kLoadRule);
  ASSERT_TRUE(agent.listening()) << agent.output();
  agent.write_proc("loadavg", loadavg(12));
  json before = agent.wait_for_alerts(
      [](const json& b) { return b["active"].size() == 1 && b["active"][0]["state"] == "critical"; }, 5s);
  ASSERT_EQ(before["active"].size(), 1u) << before.dump();
  const auto events_before = before["events"].size();

  agent.write_config(std::string(kLoadRule) +
                     "\n[[alert]]\nname = \"mem_used\"\nseries = \"mem.used_pct\"\nwarn = \"> 99.9\"\n");
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output("reloaded: 2 alert rules", 5s)) << agent.output();
  json after = agent.alerts();
  EXPECT_EQ(after["rules"], 2);
  ASSERT_EQ(after["active"].size(), 1u) << after.dump();
  EXPECT_EQ(after["active"][0]["state"], "critical");
  EXPECT_EQ(after["active"][0]["since"], before["active"][0]["since"]) << "the firing alert restarted";
  EXPECT_EQ(after["events"].size(), events_before) << "the reload produced events";

  agent.write_config(std::string(kLoadRule) + "\nbogus = 1\n");
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output("reload rejected, keeping the running configuration", 5s))
      << agent.output();
  EXPECT_TRUE(contains(agent.output(), "alert.bogus: unknown key")) << agent.output();
  after = agent.alerts();
  EXPECT_EQ(after["rules"], 2) << "the running rules were replaced by an invalid file";
  EXPECT_EQ(after["active"].size(), 1u);

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

std::string webhook_config(const Receiver& receiver) {
  return "\n[[webhook]]\nurl = \"" + receiver.url() + "\"\ntimeout = \"2s\"\nmax_attempts = 20\n"
         "headers = { X-Team = \"ops\" }\n";
}

// The webhook receiver answers 503 at first: the agent keeps retrying with
// growing delays, sampling and the stream go on, and once the receiver
// recovers the firing event arrives exactly once, followed by the resolve.
TEST(Alerts, WebhookFailsThenRecoversAndGetsFiringAndResolved) {
  Receiver receiver;
  receiver.set_status(503);
  AlertAgent agent(std::string(kLoadRule) + webhook_config(receiver));
  ASSERT_TRUE(agent.listening()) << agent.output();
  WsClient client(agent.port());
  ASSERT_TRUE(connect_and_snapshot(client));

  agent.write_proc("loadavg", loadavg(7));
  const auto pending = client.read_type("alert", kEventTimeout);
  ASSERT_TRUE(pending) << client.error();
  EXPECT_EQ((*pending)["to"], "pending");
  const auto failures = receiver.wait_for(2, 10s * kSlack);  // first attempt, retry after 1 s
  ASSERT_GE(failures.size(), 2u) << agent.output();
  EXPECT_GE(failures[1].at - failures[0].at, 900ms) << "retried without backoff";
  // The agent counts each failure once the answer is in; it went on sampling and alerting meanwhile.
  const auto webhook_stat = [&](const char* name) {
    const json health = agent.get_json("/api/v1/health");
    return health["alerts"]["webhooks"][name].is_number() ? health["alerts"]["webhooks"][name].get<int>() : -1;
  };
  auto deadline = Clock::now() + 5s * kSlack;
  while (webhook_stat("failed_attempts") < 2 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  json health = agent.get_json("/api/v1/health");
  EXPECT_GE(health["alerts"]["webhooks"]["failed_attempts"].get<int>(), 2) << health.dump();
  EXPECT_EQ(health["alerts"]["webhooks"]["sent"], 0) << health.dump();
  EXPECT_EQ(agent.alerts()["active"][0]["state"], "warning");

  receiver.set_status(200);
  deadline = Clock::now() + 10s * kSlack;
  while (webhook_stat("sent") != 1 && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  health = agent.get_json("/api/v1/health");
  ASSERT_EQ(health["alerts"]["webhooks"]["sent"], 1) << health.dump() << agent.output();
  EXPECT_EQ(health["alerts"]["webhooks"]["dropped"], 0);
  const auto after_recovery = receiver.received();
  for (const Received& request : after_recovery) {
    const json body = json::parse(request.body);
    EXPECT_EQ(body["rule"], "load_high");
    EXPECT_EQ(body["to"], "warning") << "only the firing event so far";
    EXPECT_EQ(body["threshold"], "> 5");
    EXPECT_TRUE(body["host"].is_string() && !body["host"].get<std::string>().empty()) << body.dump();
    EXPECT_EQ(request.custom_header, "ops");
    EXPECT_EQ(request.content_type, "application/json");
  }

  // Resolve: one more request, to "ok", with the incident duration.
  agent.write_proc("loadavg", loadavg(1));
  const auto resolved = receiver.wait_for(after_recovery.size() + 1, kEventTimeout + 5s);
  ASSERT_EQ(resolved.size(), after_recovery.size() + 1) << agent.output();
  const json body = json::parse(resolved.back().body);
  EXPECT_EQ(body["from"], "warning");
  EXPECT_EQ(body["to"], "ok");
  EXPECT_GT(body["incident_ms"].get<std::int64_t>(), 0);

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

// A preset webhook from the running agent: ntfy's shape (plain body, Title
// and Priority headers) with the agent's host name in the title's fields.
TEST(Alerts, PresetWebhookSendsTheServicesShape) {
  Receiver receiver;
  AlertAgent agent(std::string(kLoadRule) + "\n[[webhook]]\nname = \"ntfy\"\npreset = \"ntfy\"\nurl = \"" +
                   receiver.url("/hostpulse") + "\"\nheaders = { Tags = \"{{host}}\" }\n");
  ASSERT_TRUE(agent.listening()) << agent.output();
  agent.write_proc("loadavg", loadavg(7));
  const auto got = receiver.wait_for(1, kEventTimeout + 5s);
  ASSERT_EQ(got.size(), 1u) << agent.output();
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/hostpulse");
  EXPECT_EQ(got[0].content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(got[0].body, "load 7 crossed > 5");
  const auto header = [&](const std::string& name) {
    const auto found = got[0].headers.find(name);
    return found == got[0].headers.end() ? std::string() : found->second;
  };
  EXPECT_EQ(header("Title"), "[FIRING] load_high on load.1m (warning)");
  EXPECT_EQ(header("Priority"), "4");
  EXPECT_FALSE(header("Tags").empty()) << "the host name";
  EXPECT_EQ(header("Tags").find("{{"), std::string::npos);

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

// SIGHUP switches webhooks without a restart: events after the reload go to
// the new receiver only.
TEST(Alerts, SighupSwitchesWebhooks) {
  Receiver old_receiver, new_receiver;
  AlertAgent agent(std::string(kLoadRule) + webhook_config(old_receiver));
  ASSERT_TRUE(agent.listening()) << agent.output();
  agent.write_proc("loadavg", loadavg(7));
  ASSERT_EQ(old_receiver.wait_for(1, kEventTimeout + 5s).size(), 1u) << agent.output();

  agent.write_config(std::string(kLoadRule) + webhook_config(new_receiver));
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output("reloaded: 1 alert rules, 1 instances, 1 webhooks", 5s))
      << agent.output();
  agent.write_proc("loadavg", loadavg(12));  // warning -> critical
  const auto got = new_receiver.wait_for(1, kEventTimeout + 5s);
  ASSERT_EQ(got.size(), 1u) << agent.output();
  EXPECT_EQ(json::parse(got[0].body)["to"], "critical");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(old_receiver.received().size(), 1u) << "the removed webhook still got events";

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

}  // namespace
}  // namespace hostpulse::testing_support

namespace hostpulse::testing_support {
namespace {

// Sets an environment variable for this test process, and so for the agents
// it starts; restores the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

constexpr const char* kMissingPlugin = "/nonexistent/hostpulse/libhostpulse-webhook.so";

// The shared objects mapped into a running process.
std::string mapped_files(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string text, line;
  while (std::getline(maps, line)) text += line + "\n";
  EXPECT_FALSE(text.empty()) << "could not read /proc/" << pid << "/maps";
  return text;
}

// Webhooks configured but the HTTP client plugin cannot be loaded: the agent
// refuses to start (config error, exit 1) and says which file and why, and
// --check-config says the same.
TEST(Alerts, WebhooksWithoutThePluginRefuseToStart) {
  Receiver receiver;
  TempDir dir;
  const std::string config = dir.write("hostpulse.toml", std::string(kLoadRule) + webhook_config(receiver));
  const std::string procfs = std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu";
  ScopedEnv missing("HOSTPULSE_WEBHOOK_PLUGIN", kMissingPlugin);
  const std::string expected = std::string("cannot load the webhook HTTP client plugin ") + kMissingPlugin + ": ";

  RunResult result = run_to_completion({"--config", config, "--listen", "127.0.0.1:0", "--procfs", procfs}, 10s);
  ASSERT_TRUE(result.exit_code.has_value()) << "the agent started without its webhook client";
  EXPECT_EQ(*result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, expected)) << result.err;
  EXPECT_TRUE(contains(result.err, "No such file or directory")) << "dlerror() belongs in the message: " << result.err;
  EXPECT_FALSE(contains(result.out + result.err, "listening on")) << result.out << result.err;

  result = run_to_completion({"--config", config, "--check-config"}, 10s);
  ASSERT_TRUE(result.exit_code.has_value());
  EXPECT_EQ(*result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, expected)) << result.err;
  EXPECT_TRUE(receiver.received().empty());
}

// Without webhooks the plugin (and cpp-httplib, OpenSSL) is never mapped; a
// reload that adds a webhook loads it, and the webhook gets the events.
TEST(Alerts, HttpClientIsMappedOnlyOnceAWebhookIsConfigured) {
  Receiver receiver;
  AlertAgent agent(kLoadRule);
  ASSERT_TRUE(agent.listening()) << agent.output();
  std::this_thread::sleep_for(300ms);  // a few ticks and API requests: nothing loads it lazily either
  EXPECT_EQ(agent.alerts()["rules"], 1);
  std::string maps = mapped_files(agent.process().pid());
  for (const char* library : {"libhostpulse-webhook.so", "libcpp-httplib.so", "libssl.so", "libcrypto.so"}) {
    EXPECT_FALSE(contains(maps, library)) << library << " is mapped without webhooks:\n" << maps;
  }

  agent.write_config(std::string(kLoadRule) + webhook_config(receiver));
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output("reloaded: 1 alert rules, 1 instances, 1 webhooks", 5s))
      << agent.output();
  EXPECT_TRUE(contains(agent.output(), "webhook HTTP client loaded from ")) << agent.output();
  maps = mapped_files(agent.process().pid());
  EXPECT_TRUE(contains(maps, "/lib/hostpulse/libhostpulse-webhook.so")) << maps;
  EXPECT_TRUE(contains(maps, "libcpp-httplib.so")) << maps;

  agent.write_proc("loadavg", loadavg(7));
  const auto got = receiver.wait_for(1, kEventTimeout + 5s);
  ASSERT_EQ(got.size(), 1u) << agent.output();
  EXPECT_EQ(json::parse(got[0].body)["to"], "warning");

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

// A reload that adds webhooks while the plugin cannot be loaded is rejected
// as a whole (the new rule does not arrive either); the agent keeps running
// and a later reload without webhooks goes through.
TEST(Alerts, SighupAddingWebhooksWithoutThePluginIsRejected) {
  Receiver receiver;
  ScopedEnv missing("HOSTPULSE_WEBHOOK_PLUGIN", kMissingPlugin);
  AlertAgent agent(kLoadRule);
  ASSERT_TRUE(agent.listening()) << agent.output();
  const std::string extra_rule = "\n[[alert]]\nname = \"mem_used\"\nseries = \"mem.used_pct\"\nwarn = \"> 99.9\"\n";

  agent.write_config(std::string(kLoadRule) + extra_rule + webhook_config(receiver));
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output(
      std::string("reload rejected, keeping the running configuration: cannot load the webhook HTTP client plugin ") +
          kMissingPlugin,
      5s))
      << agent.output();
  EXPECT_EQ(agent.alerts()["rules"], 1) << "the rejected reload changed the rules";
  EXPECT_FALSE(contains(mapped_files(agent.process().pid()), "libcpp-httplib.so"));

  agent.write_config(std::string(kLoadRule) + extra_rule);
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(agent.process().wait_for_output("reloaded: 2 alert rules", 5s)) << agent.output();
  EXPECT_EQ(agent.alerts()["rules"], 2);

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
  EXPECT_TRUE(receiver.received().empty());
}

}  // namespace
}  // namespace hostpulse::testing_support
