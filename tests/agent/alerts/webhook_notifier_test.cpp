// WebhookNotifier against a real HTTP receiver (cpp-httplib's server) on
// 127.0.0.1 in this process: what is sent, retries with backoff after
// failures and the recovery, giving up, the bounded queue, repeats, a
// receiver that never answers (notify() must not block, stop() must not
// hang) and replacing the webhooks (SIGHUP). Requests go through the real
// plugin (libhostpulse-webhook.so, built alongside; path from the
// HOSTPULSE_WEBHOOK_PLUGIN_FILE compile definition), loaded as the agent
// loads it. Retry delays are shortened through the constructor; every wait
// is bounded.

#include "agent/alerts/webhook_notifier.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "agent/alerts/alert_json.hpp"
#include "base/log.hpp"
#include "support/http_receiver.hpp"

namespace hostpulse {
namespace {

using testing_support::Receiver;
using testing_support::Received;

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
  e.t_ms = 1'795'320'093'000;
  e.severity = to == AlertState::critical ? "critical" : "warning";
  e.description = "load 7.5";
  return e;
}

WebhookOptions webhook(const std::string& url) {
  WebhookOptions options;
  options.url = url;
  options.timeout = 2s;
  options.repeat_interval = 0ms;
  options.max_attempts = 5;
  return options;
}

WebhookNotifier::Encoder encoder() {
  return [](const AlertEvent& e) { return alert_event_json(e).dump(); };
}

// The built plugin, loaded once per test process.
std::shared_ptr<WebhookTransport> plugin() {
  static const WebhookPluginLoad loaded = load_webhook_plugin(HOSTPULSE_WEBHOOK_PLUGIN_FILE);
  EXPECT_TRUE(loaded.transport) << loaded.error;
  return loaded.transport;
}

// Polls until predicate holds or the timeout passes.
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class WebhookNotifierTest : public ::testing::Test {
 protected:
  WebhookNotifierTest() { spdlog::set_level(spdlog::level::off); }  // failures are logged as warnings
  ~WebhookNotifierTest() override { spdlog::set_level(saved_level_); }
  spdlog::level::level_enum saved_level_ = spdlog::get_level();
};

TEST_F(WebhookNotifierTest, PostsFiringAndResolvedEventsAsJsonWithHeaders) {
  Receiver receiver;
  WebhookOptions options = webhook(receiver.url("/alerts/in"));
  options.headers = {{"X-Team", "ops"}};
  WebhookNotifier notifier({options}, encoder(), plugin(), 10ms);
  notifier.notify(event(AlertState::ok, AlertState::pending));  // not a notification
  notifier.notify(event(AlertState::pending, AlertState::warning));
  AlertEvent resolved = event(AlertState::warning, AlertState::ok);
  resolved.incident_ms = 61'000;
  notifier.notify(resolved);
  const auto got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/alerts/in");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].custom_header, "ops");
  const json firing = json::parse(got[0].body);
  EXPECT_EQ(firing["rule"], "load_high");
  EXPECT_EQ(firing["from"], "pending");
  EXPECT_EQ(firing["to"], "warning");
  EXPECT_DOUBLE_EQ(firing["value"].get<double>(), 7.5);
  const json cleared = json::parse(got[1].body);
  EXPECT_EQ(cleared["to"], "ok");
  EXPECT_EQ(cleared["incident_ms"], 61'000);
  EXPECT_TRUE(eventually([&] { return notifier.stats().sent == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.received().size(), 2u) << "the pending transition must not be sent";
  EXPECT_EQ(notifier.stats().failed_attempts, 0u);
}

// The receiver fails (503) and then recovers: the event is retried with
// growing delays and delivered exactly once after the recovery.
TEST_F(WebhookNotifierTest, FailingReceiverIsRetriedWithBackoffUntilItRecovers) {
  Receiver receiver;
  receiver.set_status(503);
  WebhookNotifier notifier({webhook(receiver.url())}, encoder(), plugin(), 40ms);
  notifier.notify(event(AlertState::pending, AlertState::critical));
  const auto failures = receiver.wait_for(3);
  ASSERT_GE(failures.size(), 3u);
  // Backoff: 40 ms, then 80 ms between attempts (allow scheduling slack, never shorter).
  EXPECT_GE(failures[1].at - failures[0].at, 35ms);
  EXPECT_GE(failures[2].at - failures[1].at, 75ms);
  EXPECT_GT(failures[2].at - failures[1].at, failures[1].at - failures[0].at - 10ms);
  receiver.set_status(200);
  ASSERT_TRUE(eventually([&] { return notifier.stats().sent == 1; })) << "not delivered after the recovery";
  const WebhookStats stats = notifier.stats();
  EXPECT_GE(stats.failed_attempts, 3u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queued, 0u);
  const auto all = receiver.received();
  for (const Received& r : all) EXPECT_EQ(json::parse(r.body)["to"], "critical");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.received().size(), all.size()) << "nothing is sent again after a success";
}

TEST_F(WebhookNotifierTest, GivesUpAfterMaxAttempts) {
  Receiver receiver;
  receiver.set_status(500);
  WebhookOptions options = webhook(receiver.url());
  options.max_attempts = 3;
  WebhookNotifier notifier({options}, encoder(), plugin(), 5ms);
  notifier.notify(event(AlertState::pending, AlertState::warning));
  ASSERT_TRUE(eventually([&] { return notifier.stats().dropped == 1; }));
  EXPECT_EQ(notifier.stats().failed_attempts, 3u);
  EXPECT_EQ(receiver.received().size(), 3u);
  EXPECT_EQ(notifier.stats().queued, 0u);
}

// Nothing listens: attempts fail fast, the queue never exceeds its bound and
// the oldest notifications are the ones dropped.
TEST_F(WebhookNotifierTest, QueueToADeadWebhookIsBounded) {
  std::string dead_url;
  {
    Receiver closed;  // a port that was just free; nothing listens there after this scope
    dead_url = closed.url();
  }
  WebhookOptions options = webhook(dead_url);
  options.max_attempts = 100;
  WebhookNotifier notifier({options}, encoder(), plugin(), 10s);  // failed ones wait: the queue fills
  const std::size_t extra = 200;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < WebhookNotifier::kMaxQueued + extra; ++i) {
    notifier.notify(event(AlertState::pending, AlertState::warning, "cpu." + std::to_string(i) + ".busy_pct"));
  }
  EXPECT_LT(Clock::now() - start, 2s) << "notify() must only queue";
  const WebhookStats stats = notifier.stats();
  EXPECT_LE(stats.queued, WebhookNotifier::kMaxQueued);
  // Every notification is queued, dropped, or the one attempt in flight.
  EXPECT_GE(stats.dropped, extra - 1);
  EXPECT_GE(stats.queued + stats.dropped + 1, WebhookNotifier::kMaxQueued + extra);
}

// A receiver that accepts the request and never answers: notify() still
// returns at once, and stop() cuts the hanging request short.
TEST_F(WebhookNotifierTest, HangingReceiverBlocksNeitherNotifyNorStop) {
  Receiver receiver;
  receiver.hang();
  WebhookOptions options = webhook(receiver.url());
  options.timeout = 30s;
  auto notifier = std::make_unique<WebhookNotifier>(std::vector<WebhookOptions>{options}, encoder(), plugin(), 10ms);
  notifier->notify(event(AlertState::pending, AlertState::warning));
  ASSERT_EQ(receiver.wait_for(1).size(), 1u);  // the request is now hanging
  const auto start = Clock::now();
  for (int i = 0; i < 100; ++i) notifier->notify(event(AlertState::warning, AlertState::critical));
  EXPECT_LT(Clock::now() - start, 500ms);
  const auto stop_start = Clock::now();
  notifier->stop();
  EXPECT_LT(Clock::now() - stop_start, 3s) << "stop() waited for the hanging request";
  notifier.reset();
  receiver.release();
}

TEST_F(WebhookNotifierTest, StillFiringAlertsAreRepeated) {
  Receiver receiver;
  WebhookOptions options = webhook(receiver.url());
  options.repeat_interval = 300ms;
  WebhookNotifier notifier({options}, encoder(), plugin(), 10ms);
  notifier.notify(event(AlertState::pending, AlertState::warning));
  const auto got = receiver.wait_for(3, 5s);
  ASSERT_GE(got.size(), 3u) << "expected the first send and two repeats";
  EXPECT_GE(got[1].at - got[0].at, 250ms);
  for (const Received& r : got) EXPECT_EQ(json::parse(r.body)["to"], "warning");
  // Once resolved, no more repeats.
  notifier.notify(event(AlertState::warning, AlertState::ok));
  ASSERT_TRUE(eventually([&] {
    const auto all = receiver.received();
    return json::parse(all.back().body)["to"] == "ok";
  }));
  const std::size_t after_resolve = receiver.received().size();
  std::this_thread::sleep_for(1200ms);  // repeats are checked once a second
  EXPECT_EQ(receiver.received().size(), after_resolve);
}

// SIGHUP: a notifier created without webhooks starts sending once some are
// configured; a waiting retry moves to the new options of the same URL; a
// removed URL gets nothing more.
TEST_F(WebhookNotifierTest, ReplacingWebhooksTakesEffectForNewAndWaitingNotifications) {
  Receiver first;
  Receiver second;
  // Retries wait 300 ms: long enough to replace the list while one waits.
  // As in the agent: no webhooks, no transport; the first ones bring it.
  WebhookNotifier notifier({}, encoder(), nullptr, 300ms);
  EXPECT_EQ(notifier.webhook_count(), 0u);
  EXPECT_FALSE(notifier.has_transport());
  notifier.notify(event(AlertState::pending, AlertState::warning));  // nowhere to go
  notifier.replace_webhooks({webhook(first.url())}, plugin());
  EXPECT_EQ(notifier.webhook_count(), 1u);
  EXPECT_TRUE(notifier.has_transport());
  notifier.notify(event(AlertState::pending, AlertState::critical));
  const auto got = first.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(json::parse(got[0].body)["to"], "critical");

  // first fails; while its retry waits, the list becomes {first with a header, second}.
  first.set_status(503);
  notifier.notify(event(AlertState::critical, AlertState::ok));
  ASSERT_EQ(first.wait_for(2).size(), 2u);
  WebhookOptions changed = webhook(first.url());
  changed.headers = {{"X-Team", "db"}};
  notifier.replace_webhooks({changed, webhook(second.url())});
  first.set_status(200);
  ASSERT_TRUE(eventually([&] {
    const auto all = first.received();
    return all.size() >= 3 && all.back().custom_header == "db";
  })) << "the waiting retry was not sent with the new options";
  EXPECT_EQ(json::parse(first.received().back().body)["to"], "ok");

  // Now only second: first gets nothing more.
  notifier.replace_webhooks({webhook(second.url())});
  const std::size_t first_count = first.received().size();
  notifier.notify(event(AlertState::pending, AlertState::warning, "load.5m"));
  const auto at_second = second.wait_for(1);
  ASSERT_EQ(at_second.size(), 1u);
  EXPECT_EQ(json::parse(at_second[0].body)["instance"], "load.5m");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(first.received().size(), first_count);
}

}  // namespace
}  // namespace hostpulse
