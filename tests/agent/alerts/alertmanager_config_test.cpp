#include <gtest/gtest.h>

#include "agent/alerts/alertmanager_notifier.hpp"
#include "agent/config/config.hpp"

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

TEST(AlertmanagerConfigTest, ReadsEveryKey) {
  Config config;
  const Status status = load_config_text(R"([[alertmanager]]
url = "http://127.0.0.1:9093"

[[alertmanager]]
url = "https://am.example/prefix"
timeout = "3s"
max_attempts = 4
basic_auth = { username = "hostpulse", password = "pw" }

[[alertmanager]]
url = "http://10.0.0.2:9093"
bearer_token = "abc"
)",
                                         "a.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.alertmanagers.size(), 3u);
  EXPECT_TRUE(config.needs_http_client());
  const AlertmanagerOptions& plain = config.alertmanagers[0];
  EXPECT_EQ(plain.url, "http://127.0.0.1:9093");
  EXPECT_EQ(plain.timeout, 10s);
  EXPECT_EQ(plain.max_attempts, 10u);
  EXPECT_TRUE(plain.bearer_token.empty());
  EXPECT_TRUE(plain.basic_auth_username.empty());
  EXPECT_EQ(plain.line, 1u);
  const AlertmanagerOptions& basic = config.alertmanagers[1];
  EXPECT_EQ(basic.timeout, 3s);
  EXPECT_EQ(basic.max_attempts, 4u);
  EXPECT_EQ(basic.basic_auth_username, "hostpulse");
  EXPECT_EQ(basic.basic_auth_password, "pw");
  EXPECT_EQ(basic.line, 4u);
  EXPECT_EQ(config.alertmanagers[2].bearer_token, "abc");
}

TEST(AlertmanagerConfigTest, ErrorsNameFileLineAndKey) {
  const std::string am = "[[alertmanager]]\nurl = \"http://127.0.0.1:9093\"\n";
  const std::string cases_text[] = {
      "[[alertmanager]]\ntimeout = \"1s\"\n",
      "[[alertmanager]]\nurl = \"127.0.0.1:9093\"\n",
      "[[alertmanager]]\nurl = \"http://h:9093/?a=b\"\n",
      am + "timeout = \"5m\"\n",
      am + "max_attempts = 0\n",
      am + "bearer_token = \"\"\n",
      am + "bearer_token = \"a\\nb\"\n",
      am + "basic_auth = \"x\"\n",
      am + "basic_auth = { password = \"p\" }\n",
      am + "basic_auth = { username = \"a:b\" }\n",
      am + "basic_auth = { user = \"a\" }\n",
      am + "bearer_token = \"t\"\nbasic_auth = { username = \"u\" }\n",
      am + "headers = {}\n",
      am + am,
      "alertmanager = \"http://127.0.0.1:9093\"\n",
  };
  const char* expected[] = {
      "a.toml:1: alertmanager.url: required",
      "a.toml:2: alertmanager.url: invalid Alertmanager url '127.0.0.1:9093': missing scheme",
      "a.toml:2: alertmanager.url: invalid Alertmanager url 'http://h:9093/?a=b': no query or fragment",
      "a.toml:3: alertmanager.timeout: must be between 100ms and 1m",
      "a.toml:3: alertmanager.max_attempts: must be between 1 and 100",
      "a.toml:3: alertmanager.bearer_token: must not be empty",
      "a.toml:3: alertmanager.bearer_token: must be single-line",
      "a.toml:3: alertmanager.basic_auth: expected a table",
      "a.toml:3: alertmanager.basic_auth: username: required",
      "a.toml:3: alertmanager.basic_auth: username must not contain ':'",
      "a.toml:3: alertmanager.basic_auth.user: unknown key (known keys: username, password)",
      "a.toml:1: alertmanager: bearer_token and basic_auth are both set",
      "a.toml:3: alertmanager.headers: unknown key",
      "a.toml:3: alertmanager.url: 'http://127.0.0.1:9093' is already the Alertmanager at a.toml:1",
      "a.toml:1: alertmanager: expected [[alertmanager]] tables",
  };
  static_assert(std::size(cases_text) == std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    Config config;
    const Status status = load_config_text(cases_text[i], "a.toml", config);
    ASSERT_FALSE(status.ok()) << cases_text[i];
    EXPECT_NE(status.error.find(expected[i]), std::string::npos) << cases_text[i] << "\n  got: " << status.error;
    EXPECT_TRUE(config.alertmanagers.empty());
  }
}

TEST(AlertmanagerConfigTest, AtMostTheLimit) {
  std::string text;
  for (std::size_t i = 0; i <= AlertmanagerNotifier::kMaxAlertmanagers; ++i) {
    text += "[[alertmanager]]\nurl = \"http://127.0.0.1:" + std::to_string(9000 + i) + "\"\n";
  }
  Config config;
  const Status status = load_config_text(text, "a.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("a.toml:17: alertmanager: more than 8 Alertmanagers"), std::string::npos)
      << status.error;
}

TEST(AlertmanagerConfigTest, RuleSummaryIsReadAndBounded) {
  const std::string rule = "[[alert]]\nname = \"x\"\nseries = \"load.1m\"\nwarn = \"> 1\"\n";
  Config config;
  Status status = load_config_text(rule + "summary = \"load {{value}}\"\n", "a.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.alerts.size(), 1u);
  EXPECT_EQ(config.alerts[0].summary, "load {{value}}");
  Config other;
  status = load_config_text(rule + "summary = \"" + std::string(257, 's') + "\"\n", "a.toml", other);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("a.toml:5: alert.summary: longer than 256 characters"), std::string::npos) << status.error;
}

}  // namespace
}  // namespace hostpulse
