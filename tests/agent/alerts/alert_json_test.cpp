// The JSON shapes of alert events and active alerts: one shape for the
// stream's {"type":"alert"} message, the REST event log and webhooks.

#include "agent/alerts/alert_json.hpp"
#include "tests/support/platform_schema.hpp"

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

AlertEvent firing_event() {
  AlertEvent event;
  event.rule = "cpu_busy";
  event.instance = "cpu.busy_pct";
  event.from = AlertState::pending;
  event.to = AlertState::warning;
  event.value = 85.5;
  event.threshold = "> 80";
  event.t_ms = 1795320093000;
  event.severity = "warning";
  event.description = "CPU busy 85.5 %";
  return event;
}

ActiveAlert critical_alert() {
  ActiveAlert alert;
  alert.rule = "load_high";
  alert.instance = "load.1m";
  alert.state = AlertState::critical;
  alert.value = 12.25;
  alert.since_ms = 1795320094000;
  alert.severity = "page";
  alert.description = "load 12.25";
  return alert;
}

TEST(AlertJsonTest, FiringEvent) {
  EXPECT_EQ(alert_event_json(firing_event()).dump(),
            R"({"type":"alert","rule":"cpu_busy","instance":"cpu.busy_pct","from":"pending","to":"warning",)"
            R"("value":85.5,"threshold":"> 80","t":1795320093000,"severity":"warning","description":"CPU busy 85.5 %"})");
}

TEST(AlertJsonTest, ResolveEventCarriesIncidentMs) {
  AlertEvent event = firing_event();
  event.from = AlertState::critical;
  event.to = AlertState::ok;
  event.value = 42;
  event.threshold = "< 70";
  event.incident_ms = 7000;
  event.severity = "critical";
  EXPECT_EQ(alert_event_json(event).dump(),
            R"({"type":"alert","rule":"cpu_busy","instance":"cpu.busy_pct","from":"critical","to":"ok",)"
            R"("value":42.0,"threshold":"< 70","t":1795320093000,"severity":"critical","description":"CPU busy 85.5 %",)"
            R"("incident_ms":7000})");
}

TEST(AlertJsonTest, NodataEventHasNullValueAndThreshold) {
  AlertEvent event = firing_event();
  event.from = AlertState::ok;
  event.to = AlertState::nodata;
  event.value = kNaN;
  event.threshold.clear();
  event.severity = "nodata";
  event.description = "no data";
  EXPECT_EQ(alert_event_json(event).dump(),
            R"({"type":"alert","rule":"cpu_busy","instance":"cpu.busy_pct","from":"ok","to":"nodata",)"
            R"("value":null,"threshold":null,"t":1795320093000,"severity":"nodata","description":"no data"})");
  for (const double infinite : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    event.value = infinite;
    EXPECT_TRUE(alert_event_json(event)["value"].is_null());
  }
}

TEST(AlertJsonTest, ActiveAlert) {
  EXPECT_EQ(active_alert_json(critical_alert()).dump(),
            R"({"rule":"load_high","instance":"load.1m","state":"critical","value":12.25,"since":1795320094000,)"
            R"("severity":"page","description":"load 12.25"})");
  ActiveAlert nodata = critical_alert();
  nodata.state = AlertState::nodata;
  nodata.value = kNaN;
  EXPECT_EQ(active_alert_json(nodata).dump(),
            R"({"rule":"load_high","instance":"load.1m","state":"nodata","value":null,"since":1795320094000,)"
            R"("severity":"page","description":"load 12.25"})");
}

TEST(AlertJsonTest, ActiveAlertsMessage) {
  EXPECT_EQ(encode_active_alerts_message({}), R"({"type":"alerts","active":[]})");
  ActiveAlert pending = critical_alert();
  pending.rule = "mem_low";
  pending.instance = "mem.available_pct";
  pending.state = AlertState::pending;
  pending.value = 3;
  pending.severity = "pending";
  pending.description = "only 3 % available";
  EXPECT_EQ(encode_active_alerts_message({critical_alert(), pending}),
            R"({"type":"alerts","active":[)"
            R"({"rule":"load_high","instance":"load.1m","state":"critical","value":12.25,"since":1795320094000,)"
            R"("severity":"page","description":"load 12.25"},)"
            R"({"rule":"mem_low","instance":"mem.available_pct","state":"pending","value":3.0,"since":1795320094000,)"
            R"("severity":"pending","description":"only 3 % available"}]})");
}

// Descriptions come from config files: text that is not UTF-8 must not make
// the encoder throw (it is replaced).
TEST(AlertJsonTest, InvalidUtf8IsReplacedNotThrown) {
  ActiveAlert alert = critical_alert();
  alert.description = "bad \xff byte";
  std::string message;
  EXPECT_NO_THROW(message = encode_active_alerts_message({alert}));
  EXPECT_NE(message.find("bad \xef\xbf\xbd byte"), std::string::npos) << message;
}

// Events from a real manager: incident_ms only on the resolve.
TEST(AlertJsonTest, IncidentMsOnlyOnResolve) {
  const std::uint32_t cpus[] = {0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  AlertRule rule;
  rule.name = "load";
  rule.series = "load.1m";
  ASSERT_TRUE(parse_threshold("> 5", rule.warn.emplace()).ok());
  AlertManager manager(schema, {rule});
  std::vector<double> values(schema.size(), 1.0);
  const std::uint32_t load = *schema.find("load.1m");
  const std::int64_t t0 =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double series[] = {9, 9, 9, 1};
  for (std::size_t i = 0; i < std::size(series); ++i) {
    values[load] = series[i];
    manager.observe(t0 + 1000 * static_cast<std::int64_t>(i), values);
  }
  const auto events = manager.recent_events();
  ASSERT_EQ(events.size(), 2u);
  const auto firing = alert_event_json(events[0]);
  const auto resolved = alert_event_json(events[1]);
  EXPECT_FALSE(firing.contains("incident_ms")) << firing.dump();
  EXPECT_EQ(firing["to"], "warning");
  EXPECT_EQ(firing["threshold"], "> 5");
  EXPECT_EQ(firing["value"], 9.0);
  EXPECT_EQ(firing["t"], t0);
  ASSERT_TRUE(resolved.contains("incident_ms")) << resolved.dump();
  EXPECT_EQ(resolved["incident_ms"], 3000);
  EXPECT_EQ(resolved["from"], "warning");
  EXPECT_EQ(resolved["to"], "ok");
  EXPECT_TRUE(resolved["threshold"].is_null()) << "no warn_clear: no clear threshold to name";
  EXPECT_EQ(resolved["description"], "load on load.1m: 1");
}

}  // namespace
}  // namespace hostpulse
