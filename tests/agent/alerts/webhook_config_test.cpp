#include <gtest/gtest.h>

#include "agent/alerts/webhook_notifier.hpp"
#include "agent/config/config.hpp"

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

TEST(WebhookConfigTest, ReadsEveryKey) {
  Config config;
  const Status status = load_config_text(R"([[webhook]]
url = "http://127.0.0.1:9000/hook"
timeout = "2s"
repeat_interval = "0s"
max_attempts = 3
headers = { Authorization = "Bearer abc" }
)",
                                         "w.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.webhooks.size(), 1u);
  const WebhookOptions& w = config.webhooks[0];
  EXPECT_EQ(w.url, "http://127.0.0.1:9000/hook");
  EXPECT_EQ(w.timeout, 2000ms);
  EXPECT_EQ(w.repeat_interval, 0ms);
  EXPECT_EQ(w.max_attempts, 3u);
  ASSERT_EQ(w.headers.size(), 1u);
  EXPECT_EQ(w.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer abc"}));
  EXPECT_EQ(w.line, 1u);
}

TEST(WebhookConfigTest, ErrorsNameFileLineAndKey) {
  struct Case { const char* text; const char* expected; };
  const Case cases[] = {
      {"[[webhook]]\ntimeout = \"1s\"\n", "w.toml:1: webhook.url: required"},
      {"[[webhook]]\nurl = \"ftp://x/y\"\n", "w.toml:2: webhook.url: invalid webhook url 'ftp://x/y': scheme must be http or https"},
      {"[[webhook]]\nurl = \"127.0.0.1:9000\"\n", "w.toml:2: webhook.url: invalid webhook url '127.0.0.1:9000': missing scheme"},
      {"[[webhook]]\nurl = \"http://\"\n", "webhook.url: invalid webhook url 'http://': missing host"},
      {"[[webhook]]\nurl = \"http://u:p@h/x\"\n", "credentials in the URL are not supported"},
      {"[[webhook]]\nurl = \"http://h/a b\"\n", "contains spaces or control characters"},
      {"[[webhook]]\nurl = 5\n", "w.toml:2: webhook.url: expected a string"},
      {"[[webhook]]\nurl = \"http://h/\"\ntimeout = \"10ms\"\n", "w.toml:3: webhook.timeout: must be between 100ms and 1m"},
      {"[[webhook]]\nurl = \"http://h/\"\nmax_attempts = 0\n", "w.toml:3: webhook.max_attempts: must be between 1 and 100"},
      {"[[webhook]]\nurl = \"http://h/\"\nheaders = 3\n", "w.toml:3: webhook.headers: expected a table of strings"},
      {"[[webhook]]\nurl = \"http://h/\"\nheaders = { X = 1 }\n", "webhook.headers.X: expected a string"},
      {"[[webhook]]\nurl = \"http://h/\"\nheaders = { X = \"a\\nb\" }\n", "webhook.headers.X: header names and values must be single-line"},
      {"[[webhook]]\nurl = \"http://h/\"\nsecret = 1\n", "w.toml:3: webhook.secret: unknown key"},
      {"webhook = 1\n", "w.toml:1: webhook: expected [[webhook]] tables"},
      {"webhook = [\"http://127.0.0.1/\"]\n", "w.toml:1: webhook: expected [[webhook]] tables"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = load_config_text(c.text, "w.toml", config);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.expected), std::string::npos) << c.text << "\n  got: " << status.error;
    EXPECT_TRUE(config.webhooks.empty());
  }
}

TEST(WebhookUrlTest, SplitsForTheHttpClient) {
  std::string base, path;
  ASSERT_TRUE(parse_webhook_url("https://hooks.example:8443/a/b?x=1", base, path).ok());
  EXPECT_EQ(base, "https://hooks.example:8443");
  EXPECT_EQ(path, "/a/b?x=1");
  ASSERT_TRUE(parse_webhook_url("http://127.0.0.1", base, path).ok());
  EXPECT_EQ(base, "http://127.0.0.1");
  EXPECT_EQ(path, "/");
}

}  // namespace
}  // namespace hostpulse
