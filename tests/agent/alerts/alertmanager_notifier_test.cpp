// AlertmanagerNotifier against a loopback HTTP receiver standing in for
// Alertmanager's POST /api/v2/alerts, through the real webhook plugin: what
// is sent when an alert fires, is resent and resolves; a change of labels;
// an Alertmanager that is down, refuses, or never answers; reloads. Timing
// (resend interval, backoff) is shortened through AlertmanagerTiming; every
// wait is bounded. The real Alertmanager is in tests/alerts_e2e.

#include "agent/alerts/alertmanager_notifier.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/wall_clock.hpp"
#include "support/http_receiver.hpp"

namespace hostpulse {
namespace {

using testing_support::Received;
using testing_support::Receiver;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

AlertEvent event(AlertState from, AlertState to, const std::string& instance = "load.1m") {
  AlertEvent e;
  e.rule = "load_high";
  e.instance = instance;
  e.from = from;
  e.to = to;
  e.value = 7.5;
  e.threshold = "> 5";
  e.t_ms = wall_clock_ms();
  e.severity = "warning";
  e.description = "load 7.5";
  return e;
}

AlertmanagerOptions alertmanager(const std::string& url) {
  AlertmanagerOptions options;
  options.url = url;
  options.timeout = 2s;
  return options;
}

// Resends far off unless a test wants them; quick retries.
AlertmanagerTiming timing(std::chrono::milliseconds resend = 1h, std::chrono::milliseconds first_retry = 20ms) {
  return AlertmanagerTiming{.resend_interval = resend,
                            .valid_for = 4 * resend,
                            .first_retry_delay = first_retry,
                            .max_retry_delay = 8 * first_retry};
}

std::shared_ptr<WebhookTransport> plugin() {
  static const WebhookPluginLoad loaded = load_webhook_plugin(HOSTPULSE_WEBHOOK_PLUGIN_FILE);
  EXPECT_TRUE(loaded.transport) << loaded.error;
  return loaded.transport;
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The alerts of every request, in order.
std::vector<json> alerts_of(const std::vector<Received>& requests) {
  std::vector<json> alerts;
  for (const Received& request : requests) {
    for (const json& alert : json::parse(request.body)) alerts.push_back(alert);
  }
  return alerts;
}

std::int64_t parse_ms(const json& rfc3339) {
  // "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC.
  const std::string text = rfc3339.get<std::string>();
  std::tm tm{};
  strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::stoi(text.substr(20, 3));
}

class AlertmanagerNotifierTest : public ::testing::Test {
 protected:
  AlertmanagerNotifierTest() { spdlog::set_level(spdlog::level::off); }
  ~AlertmanagerNotifierTest() override { spdlog::set_level(saved_level_); }
  spdlog::level::level_enum saved_level_ = spdlog::get_level();
};

TEST_F(AlertmanagerNotifierTest, FiringThenResolvedWithTheSameLabelsAndStart) {
  Receiver receiver;
  AlertmanagerOptions options = alertmanager(receiver.url("/am"));
  options.bearer_token = "s3cret";
  AlertmanagerNotifier notifier({options}, "web-1", plugin(), timing());
  notifier.notify(event(AlertState::ok, AlertState::pending));  // not an alert yet
  AlertEvent firing = event(AlertState::pending, AlertState::warning);
  firing.series_labels = {SeriesLabel{.name = "cpu", .value = "3"}};
  notifier.notify(firing);
  auto got = receiver.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/am/api/v2/alerts");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].authorization, "Bearer s3cret");
  const json sent = json::parse(got[0].body);
  ASSERT_EQ(sent.size(), 1u) << sent.dump();
  EXPECT_EQ(sent[0]["labels"], (json{{"alertname", "load_high"}, {"cpu", "3"}, {"host", "web-1"},
                                     {"instance", "load.1m"}, {"severity", "warning"}}));
  EXPECT_EQ(sent[0]["annotations"]["description"], "load 7.5");
  EXPECT_EQ(parse_ms(sent[0]["startsAt"]), firing.t_ms);
  // endsAt is valid_for (4 h here) ahead of the send.
  EXPECT_NEAR(static_cast<double>(parse_ms(sent[0]["endsAt"]) - wall_clock_ms()), 4.0 * 3'600'000, 10'000.0);
  ASSERT_TRUE(eventually([&] { return notifier.stats().sent == 1; }));
  EXPECT_EQ(notifier.stats().firing, 1u);

  std::this_thread::sleep_for(20ms);  // the resolve comes later than the start
  AlertEvent resolved = event(AlertState::warning, AlertState::ok);
  resolved.series_labels = firing.series_labels;
  resolved.incident_ms = resolved.t_ms - firing.t_ms;
  resolved.description = "load 1";
  notifier.notify(resolved);
  got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  const json ended = json::parse(got[1].body);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0]["labels"], sent[0]["labels"]) << "another label set would be another alert";
  EXPECT_EQ(ended[0]["startsAt"], sent[0]["startsAt"]);
  EXPECT_EQ(parse_ms(ended[0]["endsAt"]), resolved.t_ms);
  EXPECT_EQ(ended[0]["annotations"]["description"], "load 7.5") << "as it was last sent while firing";
  ASSERT_TRUE(eventually([&] { return notifier.stats().sent == 2; }));
  const AlertmanagerStats stats = notifier.stats();
  EXPECT_EQ(stats.firing, 0u);
  EXPECT_EQ(stats.failed_attempts, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  ASSERT_EQ(stats.targets.size(), 1u);
  EXPECT_EQ(stats.targets[0].url, receiver.url("/am"));
  EXPECT_EQ(stats.targets[0].sent, 2u);
}

TEST_F(AlertmanagerNotifierTest, BasicAuth) {
  Receiver receiver;
  AlertmanagerOptions options = alertmanager(receiver.url("/"));
  options.basic_auth_username = "Aladdin";
  options.basic_auth_password = "open sesame";
  AlertmanagerNotifier notifier({options}, "h", plugin(), timing());
  notifier.notify(event(AlertState::pending, AlertState::warning));
  const auto got = receiver.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/api/v2/alerts");
  EXPECT_EQ(got[0].authorization, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

// While firing, every resend_interval: the same alert (labels, startsAt) with
// endsAt moved ahead; nothing after the resolve.
TEST_F(AlertmanagerNotifierTest, FiringAlertsAreResentWithEndsAtAhead) {
  Receiver receiver;
  AlertmanagerNotifier notifier({alertmanager(receiver.url())}, "h", plugin(), timing(200ms));
  const AlertEvent firing = event(AlertState::pending, AlertState::critical);
  notifier.notify(firing);
  const auto got = receiver.wait_for(3);
  ASSERT_GE(got.size(), 3u) << "expected the first send and two resends";
  const std::vector<json> alerts = alerts_of(got);
  ASSERT_GE(alerts.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(alerts[i]["labels"], alerts[0]["labels"]);
    EXPECT_EQ(parse_ms(alerts[i]["startsAt"]), firing.t_ms);
  }
  EXPECT_GT(parse_ms(alerts[2]["endsAt"]), parse_ms(alerts[0]["endsAt"])) << "each resend moves endsAt on";
  EXPECT_GE(got[2].at - got[1].at, 150ms);

  notifier.notify(event(AlertState::critical, AlertState::ok));
  ASSERT_TRUE(eventually([&] {
    const auto all = alerts_of(receiver.received());
    return parse_ms(all.back()["endsAt"]) <= wall_clock_ms();
  })) << "no resolve";
  const std::size_t after_resolve = receiver.received().size();
  std::this_thread::sleep_for(500ms);  // two resend intervals
  EXPECT_EQ(receiver.received().size(), after_resolve) << "a resolved alert was resent";
}

// warning -> critical with the default severity changes the severity label:
// to Alertmanager that is another alert, so the warning one is ended.
TEST_F(AlertmanagerNotifierTest, ALabelChangeEndsTheOldAlert) {
  Receiver receiver;
  AlertmanagerNotifier notifier({alertmanager(receiver.url())}, "h", plugin(), timing());
  notifier.notify(event(AlertState::pending, AlertState::warning));
  ASSERT_EQ(receiver.wait_for(1).size(), 1u);
  AlertEvent escalated = event(AlertState::warning, AlertState::critical);
  escalated.severity = "critical";
  notifier.notify(escalated);
  ASSERT_TRUE(eventually([&] { return alerts_of(receiver.received()).size() >= 3; }));
  const std::vector<json> alerts = alerts_of(receiver.received());
  ASSERT_EQ(alerts.size(), 3u);
  // The second request holds both, in label order (critical before warning).
  const json& critical = alerts[1]["labels"]["severity"] == "critical" ? alerts[1] : alerts[2];
  const json& warning_end = alerts[1]["labels"]["severity"] == "warning" ? alerts[1] : alerts[2];
  EXPECT_EQ(warning_end["labels"], alerts[0]["labels"]);
  EXPECT_LE(parse_ms(warning_end["endsAt"]), wall_clock_ms());
  EXPECT_EQ(critical["labels"]["severity"], "critical");
  EXPECT_EQ(parse_ms(critical["startsAt"]), escalated.t_ms);
  EXPECT_GT(parse_ms(critical["endsAt"]), wall_clock_ms());
  EXPECT_EQ(notifier.stats().firing, 1u);
}

// Nothing listens: notify() returns at once, every attempt fails and is
// counted, with growing delays, and the batch is dropped after max_attempts.
TEST_F(AlertmanagerNotifierTest, DownAlertmanagerIsRetriedWithBackoffThenDropped) {
  std::string dead_url;
  {
    Receiver closed;
    dead_url = closed.url("/");
  }
  AlertmanagerOptions options = alertmanager(dead_url);
  options.max_attempts = 4;
  AlertmanagerNotifier notifier({options}, "h", plugin(), timing(1h, 30ms));
  const auto start = Clock::now();
  notifier.notify(event(AlertState::pending, AlertState::warning));
  EXPECT_LT(Clock::now() - start, 100ms);
  ASSERT_TRUE(eventually([&] { return notifier.stats().dropped == 1; }));
  const auto elapsed = Clock::now() - start;
  // 30 + 60 + 120 ms between the four attempts.
  EXPECT_GE(elapsed, 200ms) << "retried without backoff";
  const AlertmanagerStats stats = notifier.stats();
  EXPECT_EQ(stats.failed_attempts, 4u);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.queued, 0u);
  ASSERT_EQ(stats.targets.size(), 1u);
  EXPECT_FALSE(stats.targets[0].last_error.empty());
}

// 503 at first, then 200: the alert arrives once Alertmanager recovers.
TEST_F(AlertmanagerNotifierTest, RecoversAfterFailures) {
  Receiver receiver;
  receiver.set_status(503);
  AlertmanagerNotifier notifier({alertmanager(receiver.url())}, "h", plugin(), timing(1h, 20ms));
  notifier.notify(event(AlertState::pending, AlertState::warning));
  ASSERT_GE(receiver.wait_for(2).size(), 2u);
  EXPECT_EQ(notifier.stats().targets[0].last_error.rfind("HTTP 503", 0), 0u) << notifier.stats().targets[0].last_error;
  receiver.set_status(200);
  ASSERT_TRUE(eventually([&] { return notifier.stats().sent == 1; }));
  const AlertmanagerStats stats = notifier.stats();
  EXPECT_GE(stats.failed_attempts, 2u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_TRUE(stats.targets[0].last_error.empty());
}

// 400: Alertmanager refused the alerts themselves; sending them again cannot help.
TEST_F(AlertmanagerNotifierTest, RefusedAlertsAreNotRetried) {
  Receiver receiver;
  receiver.set_status(400);
  AlertmanagerNotifier notifier({alertmanager(receiver.url())}, "h", plugin(), timing(1h, 10ms));
  notifier.notify(event(AlertState::pending, AlertState::warning));
  ASSERT_TRUE(eventually([&] { return notifier.stats().dropped == 1; }));
  EXPECT_EQ(notifier.stats().failed_attempts, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.received().size(), 1u);
}

// Accepts and never answers: notify() stays immediate and stop() cuts the
// request short.
TEST_F(AlertmanagerNotifierTest, HangingAlertmanagerBlocksNeitherNotifyNorStop) {
  Receiver receiver;
  receiver.hang();
  AlertmanagerOptions options = alertmanager(receiver.url());
  options.timeout = 30s;
  auto notifier = std::make_unique<AlertmanagerNotifier>(std::vector<AlertmanagerOptions>{options}, "h", plugin(),
                                                         timing());
  notifier->notify(event(AlertState::pending, AlertState::warning));
  ASSERT_EQ(receiver.wait_for(1).size(), 1u);
  const auto start = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    notifier->notify(event(AlertState::pending, AlertState::warning, "cpu." + std::to_string(i) + ".busy_pct"));
  }
  EXPECT_LT(Clock::now() - start, 500ms);
  EXPECT_EQ(notifier->stats().queued, 1000u);
  const auto stop_start = Clock::now();
  notifier->stop();
  EXPECT_LT(Clock::now() - stop_start, 3s) << "stop() waited for the hanging request";
  notifier.reset();
  receiver.release();
}

// Past kMaxFiringAlerts new firing alerts are counted, not tracked.
TEST_F(AlertmanagerNotifierTest, FiringAlertsAreBounded) {
  Receiver receiver;
  receiver.hang();  // nothing leaves the queue
  AlertmanagerNotifier notifier({alertmanager(receiver.url())}, "h", plugin(), timing());
  const std::size_t extra = 10;
  for (std::size_t i = 0; i < AlertmanagerNotifier::kMaxFiringAlerts + extra; ++i) {
    notifier.notify(event(AlertState::pending, AlertState::warning, "s." + std::to_string(i)));
  }
  const AlertmanagerStats stats = notifier.stats();
  EXPECT_EQ(stats.firing, AlertmanagerNotifier::kMaxFiringAlerts);
  EXPECT_EQ(stats.dropped, extra);
  EXPECT_LE(stats.queued, AlertmanagerNotifier::kMaxQueuedAlerts);
  notifier.stop();
  receiver.release();
}

// SIGHUP: an Alertmanager added later is told of what fires already; a
// removed one hears nothing more.
TEST_F(AlertmanagerNotifierTest, ReplacingSendsFiringAlertsToNewAlertmanagers) {
  Receiver first, second;
  AlertmanagerNotifier notifier({}, "h", nullptr, timing());
  EXPECT_FALSE(notifier.has_transport());
  notifier.notify(event(AlertState::pending, AlertState::warning));  // nowhere to go yet, but remembered
  notifier.replace_alertmanagers({alertmanager(first.url())}, plugin());
  EXPECT_EQ(notifier.alertmanager_count(), 1u);
  const auto at_first = first.wait_for(1);
  ASSERT_EQ(at_first.size(), 1u) << "a new Alertmanager did not hear of the firing alert";
  EXPECT_EQ(alerts_of(at_first)[0]["labels"]["alertname"], "load_high");

  notifier.replace_alertmanagers({alertmanager(second.url())});
  ASSERT_EQ(second.wait_for(1).size(), 1u);
  notifier.notify(event(AlertState::warning, AlertState::ok));
  ASSERT_EQ(second.wait_for(2).size(), 2u);
  EXPECT_EQ(first.received().size(), 1u) << "the removed Alertmanager got the resolve";
  EXPECT_EQ(notifier.stats().targets.size(), 1u);
}

}  // namespace
}  // namespace hostpulse
