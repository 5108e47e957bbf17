// Templated webhooks and presets, from the config file to the request on the
// wire: each preset's request (method, path, headers, body) is checked
// against the shape its service documents for an incoming message, as a
// loopback receiver records it through the real webhook plugin. And the
// config errors of bad templates and presets.

#include "agent/alerts/webhook_presets.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/alerts/alert_json.hpp"
#include "agent/config/config.hpp"
#include "base/log.hpp"
#include "support/http_receiver.hpp"

namespace hostpulse {
namespace {

using testing_support::Received;
using testing_support::Receiver;

using namespace std::chrono_literals;
using json = nlohmann::json;

std::shared_ptr<WebhookTransport> plugin() {
  static const WebhookPluginLoad loaded = load_webhook_plugin(HOSTPULSE_WEBHOOK_PLUGIN_FILE);
  EXPECT_TRUE(loaded.transport) << loaded.error;
  return loaded.transport;
}

AlertEvent critical_event() {
  AlertEvent e;
  e.rule = "load_high";
  e.instance = "load.1m";
  e.from = AlertState::warning;
  e.to = AlertState::critical;
  e.value = 12;
  e.threshold = "> 10";
  e.t_ms = 1'795'320'093'042;
  e.severity = "critical";
  e.description = "load 12 \"crossed\" > 10";
  return e;
}

// Reads one [[webhook]] table (plus `extra` keys) aimed at the receiver and
// sends the event through it; the request as received.
Received send_through(const std::string& table, Receiver& receiver, const AlertEvent& event = critical_event()) {
  Config config;
  const Status status = load_config_text("[[webhook]]\n" + table, "w.toml", config);
  EXPECT_TRUE(status.ok()) << status.error;
  if (!status.ok() || config.webhooks.size() != 1) return {};
  WebhookNotifier notifier(config.webhooks, [](const AlertEvent& e) { return alert_event_json(e).dump(); }, plugin(),
                           10ms, "web-1");
  notifier.notify(event);
  const auto got = receiver.wait_for(1);
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? Received{} : got[0];
}

std::string header(const Received& request, const std::string& name) {
  const auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

std::vector<std::string> keys(const json& object) {
  std::vector<std::string> names;
  for (const auto& [key, value] : object.items()) names.push_back(key);
  return names;
}

class WebhookPresetTest : public ::testing::Test {
 protected:
  WebhookPresetTest() { spdlog::set_level(spdlog::level::off); }
  ~WebhookPresetTest() override { spdlog::set_level(saved_level_); }
  spdlog::level::level_enum saved_level_ = spdlog::get_level();
};

// Slack incoming webhook: POST JSON {"text": "..."}.
TEST_F(WebhookPresetTest, Slack) {
  Receiver receiver;
  const Received got = send_through("url = \"" + receiver.url("/services/T0/B0/x") + "\"\npreset = \"slack\"\n", receiver);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/services/T0/B0/x");
  EXPECT_EQ(got.content_type, "application/json");
  const json body = json::parse(got.body);
  EXPECT_EQ(keys(body), std::vector<std::string>{"text"});
  EXPECT_EQ(body["text"], "*[FIRING] load_high on load.1m (critical)*\nload 12 \"crossed\" > 10");
}

// Discord webhook: POST JSON {"content": "..."}.
TEST_F(WebhookPresetTest, Discord) {
  Receiver receiver;
  const Received got = send_through("url = \"" + receiver.url("/api/webhooks/1/tok") + "\"\npreset = \"discord\"\n", receiver);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.content_type, "application/json");
  const json body = json::parse(got.body);
  EXPECT_EQ(keys(body), std::vector<std::string>{"content"});
  EXPECT_EQ(body["content"], "**[FIRING] load_high on load.1m (critical)**\nload 12 \"crossed\" > 10");
}

// Telegram Bot API: POST /bot<token>/sendMessage JSON {"chat_id", "text"}.
TEST_F(WebhookPresetTest, Telegram) {
  Receiver receiver;
  const Received got = send_through(
      "url = \"" + receiver.url("/bot123:ABC/sendMessage") + "\"\npreset = \"telegram\"\nchat_id = -100200300\n", receiver);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/bot123:ABC/sendMessage");
  EXPECT_EQ(got.content_type, "application/json");
  const json body = json::parse(got.body);
  EXPECT_EQ(keys(body), (std::vector<std::string>{"chat_id", "text"}));
  EXPECT_EQ(body["chat_id"], "-100200300");
  EXPECT_EQ(body["text"], "[FIRING] load_high on load.1m (critical)\nload 12 \"crossed\" > 10");
}

// Matrix client-server API: PUT
// /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId} with
// {"msgtype": "m.text", "body"}; a new transaction id per notification.
TEST_F(WebhookPresetTest, MatrixPutsWithATransactionIdPerNotification) {
  Receiver receiver;
  Config config;
  ASSERT_TRUE(load_config_text("[[webhook]]\nurl = \"" + receiver.url("/") +
                                   "\"\npreset = \"matrix\"\nroom_id = \"!room:example.org\"\n"
                                   "headers = { Authorization = \"Bearer syt_token\" }\n",
                               "w.toml", config)
                  .ok());
  WebhookNotifier notifier(config.webhooks, [](const AlertEvent& e) { return alert_event_json(e).dump(); }, plugin(),
                           10ms, "web-1");
  notifier.notify(critical_event());
  AlertEvent resolved = critical_event();
  resolved.from = AlertState::critical;
  resolved.to = AlertState::ok;
  notifier.notify(resolved);
  const auto got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  // The room id is percent-encoded in the URL (the receiver shows the path decoded).
  EXPECT_EQ(config.webhooks[0].url,
            receiver.url("/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/{{txn_id}}"));
  const std::string prefix = "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/";
  for (const Received& request : got) {
    EXPECT_EQ(request.method, "PUT");
    EXPECT_EQ(request.path.rfind(prefix, 0), 0u) << request.path;
    EXPECT_GT(request.path.size(), prefix.size());
    EXPECT_EQ(request.authorization, "Bearer syt_token");
    const json body = json::parse(request.body);
    EXPECT_EQ(keys(body), (std::vector<std::string>{"body", "msgtype"}));
    EXPECT_EQ(body["msgtype"], "m.text");
  }
  EXPECT_NE(got[0].path, got[1].path) << "each notification needs its own transaction id";
  EXPECT_EQ(json::parse(got[1].body)["body"], "[RESOLVED] load_high on load.1m (critical)\nload 12 \"crossed\" > 10");
}

// ntfy: POST /<topic>, the message as a plain body, Title and Priority headers.
TEST_F(WebhookPresetTest, Ntfy) {
  Receiver receiver;
  const Received got = send_through("url = \"" + receiver.url("/alerts") + "\"\npreset = \"ntfy\"\n", receiver);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/alerts");
  EXPECT_EQ(got.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(got.body, "load 12 \"crossed\" > 10") << "a plain body is not JSON-escaped";
  EXPECT_EQ(header(got, "Title"), "[FIRING] load_high on load.1m (critical)");
  EXPECT_EQ(header(got, "Priority"), "5");
}

// Gotify: POST /message JSON {"title", "message", "priority": <number>}.
TEST_F(WebhookPresetTest, Gotify) {
  Receiver receiver;
  const Received got = send_through("url = \"" + receiver.url("/message?token=AbC") + "\"\npreset = \"gotify\"\n", receiver);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.path, "/message");
  EXPECT_EQ(got.content_type, "application/json");
  const json body = json::parse(got.body);
  EXPECT_EQ(keys(body), (std::vector<std::string>{"message", "priority", "title"}));
  EXPECT_EQ(body["title"], "[FIRING] load_high on load.1m (critical)");
  EXPECT_EQ(body["message"], "load 12 \"crossed\" > 10");
  ASSERT_TRUE(body["priority"].is_number_integer()) << body.dump();
  EXPECT_EQ(body["priority"], 8);
}

// A body, method and headers of one's own; the preset's defaults give way.
TEST_F(WebhookPresetTest, OwnTemplateMethodAndHeaders) {
  Receiver receiver;
  const Received got = send_through("url = \"" + receiver.url("/in/{{txn_id}}") +
                                        "\"\nmethod = \"PUT\"\n"
                                        "body = '{\"alert\":\"{{rule}}\",\"on\":\"{{host}}\",\"v\":\"{{value}}\"}'\n"
                                        "headers = { X-Team = \"{{severity}}-team\" }\n",
                                    receiver);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.path.rfind("/in/hostpulse-1795320093042-", 0), 0u) << got.path;
  EXPECT_EQ(got.custom_header, "critical-team");
  EXPECT_EQ(json::parse(got.body), (json{{"alert", "load_high"}, {"on", "web-1"}, {"v", "12"}}));

  Receiver other;
  const Received plain = send_through("url = \"" + other.url("/t") +
                                          "\"\npreset = \"ntfy\"\nbody = \"{{rule}}: {{status}}\"\n"
                                          "headers = { Priority = \"1\" }\n",
                                      other);
  EXPECT_EQ(plain.body, "load_high: firing");
  EXPECT_EQ(header(plain, "Priority"), "1") << "the table's header wins over the preset's";
  EXPECT_EQ(header(plain, "Title"), "[FIRING] load_high on load.1m (critical)");
}

TEST(WebhookTemplateConfigTest, BadTemplatesAndPresetsNameTheWebhookAndLine) {
  const std::string head = "[[webhook]]\nname = \"ops-chat\"\nurl = \"http://127.0.0.1:9/x\"\n";
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {head + "body = '{\"text\":\"{{sevrity}}\"}'\n",
       "w.toml:4: webhook 'ops-chat': body: unknown field 'sevrity' at byte 9 (fields: rule,"},
      {head + "body = '{\"text\":\"{{rule\"}'\n", "w.toml:4: webhook 'ops-chat': body: '{{' at byte 9 is not closed"},
      {head + "\nheaders = { Title = \"{{titel}}\" }\n", "w.toml:5: webhook 'ops-chat': headers.Title: unknown field 'titel'"},
      {"[[webhook]]\nurl = \"http://127.0.0.1:9/x/{{txn}}\"\n", "w.toml:2: webhook 'http://127.0.0.1:9/...': url: unknown field 'txn'"},
      {head + "body = '{\"v\": {{value}}}'\n", "w.toml:4: webhook 'ops-chat': body: not valid JSON once filled in"},
      {head + "body = '{\"v\": \"{{value}}\"'\n", "w.toml:4: webhook 'ops-chat': body: not valid JSON once filled in"},
      {head + "preset = \"teams\"\n", "w.toml:4: webhook 'ops-chat': preset: unknown preset 'teams' (use slack, discord"},
      {head + "preset = \"telegram\"\n", "w.toml:1: webhook 'ops-chat': chat_id: required by preset = \"telegram\""},
      {head + "preset = \"matrix\"\n", "w.toml:1: webhook 'ops-chat': room_id: required by preset = \"matrix\""},
      {head + "preset = \"slack\"\nchat_id = 5\n", "w.toml:5: webhook 'ops-chat': chat_id: only with preset = \"telegram\""},
      {head + "preset = \"telegram\"\nchat_id = \"{{rule}}\"\n", "w.toml:5: webhook 'ops-chat': chat_id: '{{rule}}' holds braces"},
      {head + "method = \"GET\"\n", "w.toml:4: webhook.method: must be \"POST\" or \"PUT\""},
      {head + "format = \"xml\"\n", "w.toml:4: webhook.format: must be \"json\" or \"text\""},
      {head + "body = \"\"\n", "w.toml:4: webhook.body: must be 1 to 16384 bytes"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = load_config_text(c.text, "w.toml", config);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.expected), std::string::npos) << c.text << "\n  got: " << status.error;
  }
}

TEST(WebhookTemplateConfigTest, PlainWebhooksKeepTheEventJson) {
  Config config;
  ASSERT_TRUE(load_config_text("[[webhook]]\nurl = \"http://127.0.0.1:9/x\"\n", "w.toml", config).ok());
  ASSERT_EQ(config.webhooks.size(), 1u);
  EXPECT_TRUE(config.webhooks[0].body.empty());
  EXPECT_EQ(config.webhooks[0].method, "POST");
  EXPECT_EQ(webhook_label(config.webhooks[0]), "http://127.0.0.1:9/...") << "paths hold secrets: not in logs";
}

}  // namespace
}  // namespace hostpulse
