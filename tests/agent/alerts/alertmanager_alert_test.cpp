// What an alert event becomes for Alertmanager: labels, annotations, times
// and the v2 JSON body; label names made valid; the URL and Basic auth.

#include "agent/alerts/alertmanager_alert.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hostpulse {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

AlertEvent cpu_event(AlertState from, AlertState to) {
  AlertEvent e;
  e.rule = "cpu_busy";
  e.instance = "cpu.3.busy_pct";
  e.from = from;
  e.to = to;
  e.value = 97.5;
  e.threshold = "> 90";
  e.t_ms = 1'795'320'093'042;
  e.severity = "critical";
  e.description = "CPU 3 busy 97.5 %";
  e.summary = "cpu 3 saturated";
  e.series_labels = {SeriesLabel{.name = "cpu", .value = "3"}};
  e.rule_labels = {{"team", "ops"}, {"instance", "ignored: the series wins"}};
  return e;
}

TEST(AlertmanagerAlertTest, LabelsIdentifyAnnotationsDescribe) {
  const AlertmanagerAlert alert = alertmanager_alert(cpu_event(AlertState::pending, AlertState::critical), "web-1");
  EXPECT_EQ(alert.labels, (std::map<std::string, std::string>{{"alertname", "cpu_busy"},
                                                              {"cpu", "3"},
                                                              {"host", "web-1"},
                                                              {"instance", "cpu.3.busy_pct"},
                                                              {"severity", "critical"},
                                                              {"team", "ops"}}));
  EXPECT_EQ(alert.annotations, (std::map<std::string, std::string>{{"description", "CPU 3 busy 97.5 %"},
                                                                   {"state", "critical"},
                                                                   {"summary", "cpu 3 saturated"},
                                                                   {"threshold", "> 90"},
                                                                   {"value", "97.5"}}));
  EXPECT_EQ(alert.starts_at_ms, 1'795'320'093'042);
  EXPECT_FALSE(alert.resolved());
}

TEST(AlertmanagerAlertTest, NodataHasNoValueOrThresholdAndNoSummaryWhenTheRuleHasNone) {
  AlertEvent e = cpu_event(AlertState::ok, AlertState::nodata);
  e.value = std::numeric_limits<double>::quiet_NaN();
  e.threshold.clear();
  e.summary.clear();
  const AlertmanagerAlert alert = alertmanager_alert(e, "h");
  EXPECT_FALSE(alert.annotations.contains("value"));
  EXPECT_FALSE(alert.annotations.contains("threshold"));
  EXPECT_FALSE(alert.annotations.contains("summary"));
  EXPECT_EQ(alert.annotations.at("state"), "nodata");
}

TEST(AlertmanagerAlertTest, WhichEventsStartAndEndAlerts) {
  EXPECT_TRUE(alertmanager_firing(cpu_event(AlertState::pending, AlertState::warning)));
  EXPECT_TRUE(alertmanager_firing(cpu_event(AlertState::warning, AlertState::critical)));
  EXPECT_TRUE(alertmanager_firing(cpu_event(AlertState::ok, AlertState::nodata)));
  EXPECT_FALSE(alertmanager_firing(cpu_event(AlertState::ok, AlertState::pending)));
  EXPECT_TRUE(alertmanager_resolve(cpu_event(AlertState::critical, AlertState::ok)));
  EXPECT_TRUE(alertmanager_resolve(cpu_event(AlertState::nodata, AlertState::ok)));
  EXPECT_FALSE(alertmanager_resolve(cpu_event(AlertState::pending, AlertState::ok)));
  EXPECT_FALSE(alertmanager_firing(cpu_event(AlertState::pending, AlertState::ok)));
}

TEST(AlertmanagerAlertTest, LabelNamesAreMadeValid) {
  EXPECT_EQ(alertmanager_label_name("cpu"), "cpu");
  EXPECT_EQ(alertmanager_label_name("Team_2"), "Team_2");
  EXPECT_EQ(alertmanager_label_name("mount-point"), "mount_point");
  EXPECT_EQ(alertmanager_label_name("9lives"), "_9lives");
  EXPECT_EQ(alertmanager_label_name("__name__"), "_name__");
  EXPECT_EQ(alertmanager_label_name(""), "_");
  EXPECT_EQ(alertmanager_label_name("é"), "_");
}

TEST(AlertmanagerAlertTest, Rfc3339Milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1'795'320'093'042), "2026-11-22T04:01:33.042Z");
  EXPECT_EQ(format_rfc3339_ms(951'782'400'999), "2000-02-29T00:00:00.999Z");
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(AlertmanagerAlertTest, EncodesTheV2Array) {
  AlertmanagerAlert firing = alertmanager_alert(cpu_event(AlertState::pending, AlertState::critical), "web-1");
  AlertmanagerAlert resolved = firing;
  resolved.ends_at_ms = firing.starts_at_ms + 61'000;
  resolved.labels["host"] = "bad \xff byte";
  const AlertmanagerAlert batch[] = {firing, resolved};
  const json body = json::parse(encode_alertmanager_alerts(batch, 1'795'320'100'000, 240s));
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["labels"]["alertname"], "cpu_busy");
  EXPECT_EQ(body[0]["annotations"]["description"], "CPU 3 busy 97.5 %");
  EXPECT_EQ(body[0]["startsAt"], "2026-11-22T04:01:33.042Z");
  EXPECT_EQ(body[0]["endsAt"], format_rfc3339_ms(1'795'320'100'000 + 240'000)) << "firing: valid_for ahead of now";
  EXPECT_EQ(body[1]["endsAt"], "2026-11-22T04:02:34.042Z") << "resolved: when it resolved";
  EXPECT_EQ(body[1]["labels"]["host"], "bad \xEF\xBF\xBD byte") << "invalid UTF-8 is replaced, not fatal";
  EXPECT_FALSE(body[0].contains("generatorURL"));
}

TEST(AlertmanagerUrlTest, AppendsTheV2EndpointToTheBase) {
  std::string base, path;
  ASSERT_TRUE(parse_alertmanager_url("http://127.0.0.1:9093", base, path).ok());
  EXPECT_EQ(base, "http://127.0.0.1:9093");
  EXPECT_EQ(path, "/api/v2/alerts");
  ASSERT_TRUE(parse_alertmanager_url("https://ops.example/alertmanager/", base, path).ok());
  EXPECT_EQ(base, "https://ops.example");
  EXPECT_EQ(path, "/alertmanager/api/v2/alerts");
  const Status query = parse_alertmanager_url("http://h:9093/?x=1", base, path);
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error,
            "invalid Alertmanager url 'http://h:9093/?x=1': no query or fragment (/api/v2/alerts is appended to the "
            "path) (expected http://HOST:PORT[/PREFIX], e.g. http://127.0.0.1:9093)");
  EXPECT_FALSE(parse_alertmanager_url("127.0.0.1:9093", base, path).ok());
  EXPECT_FALSE(parse_alertmanager_url("http://user:pw@h:9093", base, path).ok());
}

TEST(AlertmanagerUrlTest, BasicAuthorizationIsRfc7617) {
  EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_authorization("a", ""), "Basic YTo=");
  EXPECT_EQ(basic_authorization("ab", "c"), "Basic YWI6Yw==");
  EXPECT_EQ(basic_authorization("ab", "cd"), "Basic YWI6Y2Q=");
}

}  // namespace
}  // namespace hostpulse
