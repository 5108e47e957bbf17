#include "agent/config.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

TEST(ConfigTest, DefaultsAreSafe) {
  const Config config;
  EXPECT_EQ(config.listen.host, "127.0.0.1");
  EXPECT_EQ(config.listen.port, 9870);
  EXPECT_EQ(config.interval, 1000ms);
  EXPECT_EQ(config.procfs, "/proc");
  EXPECT_EQ(config.history_points, 3600u);
}

TEST(ConfigTest, ReadsEveryKey) {
  Config config;
  const Status status = load_config_text(R"(
# comment
listen = "0.0.0.0:8080"
interval = "250ms"
procfs = "/host/proc"
sysfs = "/host/sys"
log_level = "debug"
history_points = 600

[http]
header_limit_bytes = 4096
body_limit_bytes = 1024
request_timeout = "5s"
idle_timeout = 30000
max_connections = 10
)",
                                         "test.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.listen.host, "0.0.0.0");
  EXPECT_EQ(config.listen.port, 8080);
  EXPECT_EQ(config.interval, 250ms);
  EXPECT_EQ(config.procfs, "/host/proc");
  EXPECT_EQ(config.sysfs, "/host/sys");
  EXPECT_EQ(config.log_level, spdlog::level::debug);
  EXPECT_EQ(config.history_points, 600u);
  EXPECT_EQ(config.http.header_limit_bytes, 4096u);
  EXPECT_EQ(config.http.body_limit_bytes, 1024u);
  EXPECT_EQ(config.http.request_timeout, 5000ms);
  EXPECT_EQ(config.http.idle_timeout, 30000ms);
  EXPECT_EQ(config.http.max_connections, 10u);
}

TEST(ConfigTest, IntervalAsIntegerMilliseconds) {
  Config config;
  ASSERT_TRUE(load_config_text("interval = 500\n", "t.toml", config).ok());
  EXPECT_EQ(config.interval, 500ms);
}

TEST(ConfigTest, EmptyFileKeepsDefaults) {
  Config config;
  ASSERT_TRUE(load_config_text("", "t.toml", config).ok());
  EXPECT_EQ(config.listen.port, 9870);
}

// Every error names the file, the line and the key, and leaves the config as it was.
TEST(ConfigTest, ErrorsNameFileLineAndKey) {
  struct Case { const char* text; const char* expected; };
  const Case cases[] = {
      {"\n\nbogus = 1\n", "t.toml:3: bogus: unknown key"},
      {"interval = \"10ms\"\n", "t.toml:1: interval: must be between 100ms and 1m (got 10ms)"},
      {"interval = 120000\n", "t.toml:1: interval: must be between 100ms and 1m (got 2m)"},
      {"interval = \"fast\"\n", "t.toml:1: interval: invalid duration 'fast'"},
      {"interval = 1.5\n", "t.toml:1: interval: expected a duration"},
      {"listen = 9870\n", "t.toml:1: listen: expected a string"},
      {"listen = \"nowhere\"\n", "t.toml:1: listen: invalid listen address 'nowhere': missing ':PORT'"},
      {"listen = \"127.0.0.1:99999\"\n", "listen: invalid listen address '127.0.0.1:99999': port must be"},
      {"listen = \"example.com:80\"\n", "must be an IP literal or localhost"},
      {"log_level = \"loud\"\n", "t.toml:1: log_level: unknown level 'loud'"},
      {"history_points = 5\n", "t.toml:1: history_points: must be between 10 and 1000000 (got 5)"},
      {"history_points = \"many\"\n", "history_points: expected an integer"},
      {"procfs = \"\"\n", "t.toml:1: procfs: must not be empty"},
      {"[http]\nmax_connections = 0\n", "t.toml:2: http.max_connections: must be between 1 and"},
      {"[http]\nrequest_timeout = \"1ms\"\n", "t.toml:2: http.request_timeout: must be between 100ms"},
      {"[http]\nsurprise = true\n", "t.toml:2: http.surprise: unknown key"},
      {"http = 3\n", "http: expected a table"},
      {"interval = \n", "t.toml:1: TOML syntax error"},
      {"[http\n", "t.toml:1: TOML syntax error"},
      {"a = 1\na = 2\n", "TOML syntax error"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = load_config_text(c.text, "t.toml", config);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.expected), std::string::npos) << c.text << "\n  got: " << status.error;
    EXPECT_EQ(config.interval, 1000ms) << "config changed by a failed load: " << c.text;
    EXPECT_EQ(config.listen.port, 9870);
  }
}

TEST(ConfigTest, ReportsTheFirstProblemInFileOrder) {
  Config config;
  const Status status = load_config_text("interval = 5000\nzeta = 1\nalpha = 2\n", "t.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("t.toml:2: zeta"), std::string::npos) << status.error;
}

TEST(ConfigTest, FileErrors) {
  Config config;
  Status status = load_config_file("/nonexistent/hostpulse.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("/nonexistent/hostpulse.toml: cannot open"), std::string::npos);

  const auto path = std::filesystem::temp_directory_path() / ("hostpulse_config_test_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream file(path);
    file << "listen = \"[::1]:9999\"\n";
  }
  status = load_config_file(path.string(), config);
  EXPECT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.listen.host, "::1");
  EXPECT_EQ(config.listen.to_string(), "[::1]:9999");
  std::filesystem::remove(path);
}

TEST(ListenAddressTest, Table) {
  struct Case { const char* text; bool ok; const char* host; std::uint16_t port; };
  const Case cases[] = {
      {"127.0.0.1:9870", true, "127.0.0.1", 9870}, {"0.0.0.0:0", true, "0.0.0.0", 0},
      {"localhost:80", true, "127.0.0.1", 80},     {"[::1]:9870", true, "::1", 9870},
      {"[::]:1", true, "::", 1},                   {"::1:9870", false, "", 0},
      {"127.0.0.1", false, "", 0},                 {":9870", false, "", 0},
      {"127.0.0.1:", false, "", 0},                {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},           {"127.0.0.1:80x", false, "", 0},
      {"[::1:80", false, "", 0},                   {"[::1]80", false, "", 0},
      {"300.1.1.1:80", false, "", 0},              {"", false, "", 0},
  };
  for (const Case& c : cases) {
    ListenAddress address;
    const Status status = parse_listen_address(c.text, address);
    EXPECT_EQ(status.ok(), c.ok) << c.text << ": " << status.error;
    if (c.ok && status.ok()) {
      EXPECT_EQ(address.host, c.host);
      EXPECT_EQ(address.port, c.port);
    }
  }
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

// The config file we ship must stay valid and must equal the built-in defaults.
TEST(ConfigTest, ShippedConfigIsValidAndMatchesDefaults) {
  Config config;
  const Status status = load_config_file(std::string(HOSTPULSE_SOURCE_DIR) + "/packaging/hostpulse.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  const Config defaults;
  EXPECT_EQ(config.listen.to_string(), defaults.listen.to_string());
  EXPECT_EQ(config.interval, defaults.interval);
  EXPECT_EQ(config.procfs, defaults.procfs);
  EXPECT_EQ(config.sysfs, defaults.sysfs);
  EXPECT_EQ(config.log_level, defaults.log_level);
  EXPECT_EQ(config.history_points, defaults.history_points);
  EXPECT_EQ(config.http.header_limit_bytes, defaults.http.header_limit_bytes);
  EXPECT_EQ(config.http.body_limit_bytes, defaults.http.body_limit_bytes);
  EXPECT_EQ(config.http.request_timeout, defaults.http.request_timeout);
  EXPECT_EQ(config.http.idle_timeout, defaults.http.idle_timeout);
  EXPECT_EQ(config.http.max_connections, defaults.http.max_connections);
  const StreamOptions& a = config.stream;
  const StreamOptions& b = defaults.stream;
  EXPECT_EQ(a.max_connections, b.max_connections);
  EXPECT_EQ(a.max_connections_per_ip, b.max_connections_per_ip);
  EXPECT_EQ(a.max_message_bytes, b.max_message_bytes);
  EXPECT_EQ(a.max_messages_per_second, b.max_messages_per_second);
  EXPECT_EQ(a.max_subscriptions, b.max_subscriptions);
  EXPECT_EQ(a.max_errors, b.max_errors);
  EXPECT_EQ(a.handshake_timeout, b.handshake_timeout);
  EXPECT_EQ(a.ping_interval, b.ping_interval);
  EXPECT_EQ(a.max_queue_bytes, b.max_queue_bytes);
  EXPECT_EQ(a.max_lag_bytes, b.max_lag_bytes);
  EXPECT_EQ(a.socket_send_buffer_bytes, b.socket_send_buffer_bytes);
  EXPECT_EQ(a.max_history_values, b.max_history_values);
  EXPECT_TRUE(config.token_file.empty());
  EXPECT_FALSE(config.allow_unauthenticated);
}

}  // namespace
}  // namespace hostpulse
