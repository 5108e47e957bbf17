#include "agent/config/config.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "agent/config/toml_prescan.hpp"
#include "tests/support/temp_dir.hpp"

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
rootfs = "/host/root"
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
  EXPECT_EQ(config.rootfs, "/host/root");
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

TEST(ConfigTest, SeriesTableSetsTheCapAndTheRetirePeriod) {
  Config config;
  ASSERT_TRUE(load_config_text("[series]\nmax_live = 2000\nretire_after = \"5m\"\n", "t.toml", config).ok());
  EXPECT_EQ(config.series.max_series, 2000u);
  EXPECT_EQ(config.series.retire_after, 5min);
  Config defaults;
  EXPECT_EQ(defaults.series.max_series, 10'000u);
  EXPECT_EQ(defaults.series.retire_after, 60s);
  for (const char* bad : {"[series]\nmax_live = 99\n", "[series]\nretire_after = \"10ms\"\n",
                          "[series]\nretire_after = \"2d\"\n", "[series]\nmax = 1\n", "series = 1\n"}) {
    Config rejected;
    const Status status = load_config_text(bad, "t.toml", rejected);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.error.find("t.toml:"), std::string::npos) << status.error;
    EXPECT_NE(status.error.find("series"), std::string::npos) << status.error;
  }
}

TEST(ConfigTest, SourcesDisksTableOptsIntoPartitionsLoopAndRam) {
  Config defaults;
  EXPECT_FALSE(defaults.disks.partitions);
  EXPECT_FALSE(defaults.disks.loop);
  EXPECT_FALSE(defaults.disks.ram);

  Config config;
  ASSERT_TRUE(load_config_text("[sources.disks]\npartitions = true\nloop = true\nram = true\n", "t.toml", config).ok());
  EXPECT_TRUE(config.disks.partitions);
  EXPECT_TRUE(config.disks.loop);
  EXPECT_TRUE(config.disks.ram);

  Config partial;
  ASSERT_TRUE(load_config_text("[sources.disks]\nloop = true\n", "t.toml", partial).ok());
  EXPECT_FALSE(partial.disks.partitions);
  EXPECT_TRUE(partial.disks.loop);
  EXPECT_FALSE(partial.disks.ram);

  struct Case { const char* text; const char* expected; };
  const Case cases[] = {
      {"[sources.disks]\npartitions = 1\n", "t.toml:2: sources.disks.partitions: expected true or false"},
      {"\n[sources.disks]\nram = \"yes\"\n", "t.toml:3: sources.disks.ram: expected true or false"},
      {"[sources.disks]\nloops = true\n", "t.toml:2: sources.disks.loops: unknown key (known keys: partitions, loop, ram)"},
      {"[sources]\ndisks = 1\n", "t.toml:2: sources.disks: expected a table"},
      {"sources = 1\n", "t.toml:1: sources: expected a table"},
      {"[sources.diskz]\nloop = true\n", "sources.diskz: unknown key"},
  };
  for (const Case& c : cases) {
    Config rejected;
    const Status status = load_config_text(c.text, "t.toml", rejected);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.expected), std::string::npos) << status.error;
    EXPECT_FALSE(rejected.disks.partitions || rejected.disks.loop || rejected.disks.ram) << c.text;
  }
}

TEST(ConfigTest, MetricsTableTurnsPrometheusOffOrPublic) {
  const Config defaults;
  EXPECT_TRUE(defaults.metrics.enabled);
  EXPECT_FALSE(defaults.metrics.public_access);
  Config config;
  ASSERT_TRUE(load_config_text("[metrics]\nenabled = false\npublic = true\n", "t.toml", config).ok());
  EXPECT_FALSE(config.metrics.enabled);
  EXPECT_TRUE(config.metrics.public_access);

  struct Case { const char* text; const char* expected; };
  const Case cases[] = {
      {"[metrics]\npublic = \"yes\"\n", "t.toml:2: metrics.public: expected true or false"},
      {"\n[metrics]\nenabled = 1\n", "t.toml:3: metrics.enabled: expected true or false"},
      {"[metrics]\nport = 9100\n", "t.toml:2: metrics.port: unknown key (known keys: enabled, public)"},
      {"metrics = true\n", "t.toml:1: metrics: expected a table"},
  };
  for (const Case& c : cases) {
    Config rejected;
    const Status status = load_config_text(c.text, "t.toml", rejected);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.expected), std::string::npos) << status.error;
  }
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
      {"rootfs = \"host/root\"\n", "t.toml:1: rootfs: must be an absolute path"},
      {"rootfs = \"\"\n", "t.toml:1: rootfs: must be an absolute path"},
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

// The config file, like every file a config names, must be a small regular file.
TEST(ConfigTest, ConfigFileMustBeASmallRegularFile) {
  testing_support::TempDir dir;
  Config config;
  Status status = load_config_file(dir.path(), config);
  EXPECT_EQ(status.error, dir.path() + ": is a directory, not a regular file");
  status = load_config_file("/dev/zero", config);
  EXPECT_EQ(status.error, "/dev/zero: is a character device, not a regular file");
  const std::string fifo = dir.file("fifo.toml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  status = load_config_file(fifo, config);
  EXPECT_EQ(status.error, fifo + ": is a FIFO, not a regular file");
  const std::string big = dir.write("big.toml", "# " + std::string(kMaxConfigFileBytes, 'x') + "\n");
  status = load_config_file(big, config);
  EXPECT_EQ(status.error, big + ": larger than 1 MiB, refusing to read it");
  EXPECT_EQ(config.interval, 1000ms);
}

// The pre-scan runs on the config text before toml11 sees it.
TEST(ConfigTest, DeepNestingAndInvalidUtf8AreRefusedBeforeParsing) {
  struct Case { std::string text; std::string expected; };
  const Case cases[] = {
      {"interval = 500\na = " + std::string(10'000, '['), "t.toml:2: nesting too deep (more than " +
                                                           std::to_string(kMaxTomlNestingDepth) +
                                                           " levels of arrays/inline tables)"},
      {[] {
         std::string text = "a = ";
         for (int i = 0; i < 5'000; ++i) text += "{b = ";
         return text;
       }(),
       "t.toml:1: nesting too deep"},
      {"a='\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "t.toml:1: invalid UTF-8: byte 0xff is never valid in UTF-8"},
      {"interval = 500\n# \xed\xa0\x80\n", "t.toml:2: invalid UTF-8: surrogate code point"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = parse_config_text(c.text, "t.toml", config);
    EXPECT_EQ(status.error.rfind(c.expected, 0), 0u) << status.error;
    EXPECT_EQ(config.interval, 1000ms);
  }
}

// parse_config_text is what a fuzzer drives: it must not read the
// filesystem, so rules_dir is resolved but neither checked nor read.
TEST(ConfigTest, ParseConfigTextTouchesNoFiles) {
  Config config;
  const Status status = parse_config_text("rules_dir = \"missing.d\"\ntoken_file = \"/dev/zero\"\n",
                                          "/nonexistent/etc/hostpulse.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.rules_dir, "/nonexistent/etc/missing.d");
  EXPECT_TRUE(config.alerts.empty());
  // load_config_text does check and read it.
  Config loaded;
  EXPECT_EQ(load_config_text("rules_dir = \"missing.d\"\n", "/nonexistent/etc/hostpulse.toml", loaded).error,
            "/nonexistent/etc/hostpulse.toml:1: rules_dir: '/nonexistent/etc/missing.d' is not a readable folder");
}

// A hostile file can make keys and values megabytes long or fill them with
// control bytes: errors show them escaped and cut, still naming file, line and key.
TEST(ConfigTest, ErrorsQuoteFileTextCappedAndEscaped) {
  const std::string huge(1 << 20, 'k');
  struct Case { std::string text; std::string expected; };
  const Case cases[] = {
      {"\n" + huge + " = 1\n", "t.toml:2: " + std::string(80, 'k') + "...: unknown key"},
      {"\"a\\u001b[31mb\" = 1\n", "t.toml:1: a\\x1b[31mb: unknown key"},
      {"[http]\n\"" + huge + "\" = 1\n", "t.toml:2: http." + std::string(75, 'k') + "...: unknown key"},
      {"log_level = \"" + huge + "\"\n", "t.toml:1: log_level: unknown level '" + std::string(40, 'k') + "...' (use"},
      {"log_level = \"a\\nb\"\n", "t.toml:1: log_level: unknown level 'a\\x0ab' (use"},
      {"interval = \"" + huge + "\"\n", "t.toml:1: interval: invalid duration '" + std::string(40, 'k') + "...': "},
      {"listen = \"" + huge + "\"\n", "t.toml:1: listen: invalid listen address '" + std::string(40, 'k') + "...': "},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = parse_config_text(c.text, "t.toml", config);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error.rfind(c.expected, 0), 0u) << status.error.substr(0, 300);
    EXPECT_LT(status.error.size(), 1000u);
  }
}

// --check-config, a start and a reload all go through this: they refuse the
// same things with the same messages.
TEST(ConfigTest, StartupRequirementsIncludeProcfs) {
  Config config;
  config.procfs = "/nonexistent/proc";
  std::string token;
  EXPECT_EQ(check_startup_requirements(config, token).error,
            "procfs: '/nonexistent/proc' is not a directory (set --procfs or procfs in the config)");
  config.procfs = "/dev/null";
  EXPECT_FALSE(check_startup_requirements(config, token).ok());
  config.procfs = std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu";
  EXPECT_TRUE(check_startup_requirements(config, token).ok());
  config.rootfs = "/nonexistent/root";
  EXPECT_EQ(check_startup_requirements(config, token).error,
            "rootfs: '/nonexistent/root' is not a directory (set --rootfs or rootfs in the config)");
  config.rootfs = "/";
  config.token_file = "/dev/zero";
  EXPECT_EQ(check_startup_requirements(config, token).error,
            "token_file: /dev/zero: is a character device, not a regular file");
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
  // The stock rules load from rules.d next to the file.
  EXPECT_EQ(config.rules_dir, std::string(HOSTPULSE_SOURCE_DIR) + "/packaging/rules.d");
  std::vector<std::string> names;
  for (const AlertRule& rule : config.alerts) names.push_back(rule.name);
  EXPECT_EQ(names, (std::vector<std::string>{"cpu_busy", "memory_available_low", "swap_heavy_use", "load_per_cpu_high",
                                             "iowait_high", "filesystem_full", "filesystem_inodes_full", "memory_pressure",
                                             "memory_pressure_full", "io_pressure", "io_pressure_full",
                                             "interface_rx_errors", "interface_tx_errors", "temperature_high"}));
}

}  // namespace
}  // namespace hostpulse

// --- [stream] table and access keys

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

TEST(ConfigStreamTest, ReadsEveryStreamAndAccessKey) {
  Config config;
  const Status status = load_config_text(R"(
token_file = "/etc/hostpulse/token"
allowed_origins = ["https://ops.example.com", "*"]
allow_unauthenticated = true

[stream]
max_connections = 5000
max_connections_per_ip = 50
max_message_bytes = 4096
max_messages_per_second = 7
max_subscriptions = 3
max_errors = 9
handshake_timeout = "2s"
ping_interval = 15000
max_queue_bytes = 1048576
max_lag_bytes = 262144
socket_send_buffer_bytes = 65536
max_history_values = 2000
)",
                                         "t.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.token_file, "/etc/hostpulse/token");
  EXPECT_EQ(config.allowed_origins, (std::vector<std::string>{"https://ops.example.com", "*"}));
  EXPECT_TRUE(config.allow_unauthenticated);
  const StreamOptions& s = config.stream;
  EXPECT_EQ(s.max_connections, 5000u);
  EXPECT_EQ(s.max_connections_per_ip, 50u);
  EXPECT_EQ(s.max_message_bytes, 4096u);
  EXPECT_EQ(s.max_messages_per_second, 7u);
  EXPECT_EQ(s.max_subscriptions, 3u);
  EXPECT_EQ(s.max_errors, 9u);
  EXPECT_EQ(s.handshake_timeout, 2000ms);
  EXPECT_EQ(s.ping_interval, 15000ms);
  EXPECT_EQ(s.max_queue_bytes, 1048576u);
  EXPECT_EQ(s.max_lag_bytes, 262144u);
  EXPECT_EQ(s.socket_send_buffer_bytes, 65536u);
  EXPECT_EQ(s.max_history_values, 2000u);
}

TEST(ConfigStreamTest, DefaultsAndPartialTables) {
  const Config defaults;
  EXPECT_EQ(defaults.stream.max_connections, 10'000u);
  EXPECT_EQ(defaults.stream.max_subscriptions, 16u);
  EXPECT_EQ(defaults.stream.max_queue_bytes, std::size_t{8} << 20);
  EXPECT_EQ(defaults.stream.max_lag_bytes, std::size_t{1} << 20);
  EXPECT_TRUE(defaults.token_file.empty());
  EXPECT_TRUE(defaults.allowed_origins.empty());
  EXPECT_FALSE(defaults.allow_unauthenticated);

  // Keys absent from the table keep their values.
  Config config;
  ASSERT_TRUE(load_config_text("[stream]\nmax_subscriptions = 4\n", "t.toml", config).ok());
  EXPECT_EQ(config.stream.max_subscriptions, 4u);
  EXPECT_EQ(config.stream.max_messages_per_second, defaults.stream.max_messages_per_second);
  EXPECT_EQ(config.stream.max_errors, defaults.stream.max_errors);
  EXPECT_EQ(config.stream.ping_interval, defaults.stream.ping_interval);
  ASSERT_TRUE(load_config_text("[stream]\n", "t.toml", config).ok());
  EXPECT_EQ(config.stream.max_subscriptions, 4u);
  // An empty origins list is allowed (same host only).
  ASSERT_TRUE(load_config_text("allowed_origins = []\n", "t.toml", config).ok());
  EXPECT_TRUE(config.allowed_origins.empty());
}

TEST(ConfigStreamTest, LimitsAreInclusive) {
  Config config;
  const Status status = load_config_text(R"([stream]
max_connections = 1000000
max_connections_per_ip = 1
max_message_bytes = 256
max_messages_per_second = 10000
max_subscriptions = 1000
max_errors = 1
handshake_timeout = "5m"
ping_interval = "1h"
max_queue_bytes = 1073741824
max_lag_bytes = 1024
socket_send_buffer_bytes = 0
max_history_values = 100000000
)",
                                         "t.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.stream.max_connections, 1'000'000u);
  EXPECT_EQ(config.stream.max_message_bytes, 256u);
  EXPECT_EQ(config.stream.max_messages_per_second, 10'000u);
  EXPECT_EQ(config.stream.handshake_timeout, 300'000ms);
  EXPECT_EQ(config.stream.ping_interval, 3'600'000ms);
  EXPECT_EQ(config.stream.max_queue_bytes, std::size_t{1} << 30);
  EXPECT_EQ(config.stream.socket_send_buffer_bytes, 0u);
  EXPECT_EQ(config.stream.max_history_values, 100'000'000u);
}

TEST(ConfigStreamTest, ErrorsNameFileLineAndKey) {
  struct Case { const char* text; const char* expected; };
  const Case cases[] = {
      {"[stream]\nmax_connections = 0\n", "t.toml:2: stream.max_connections: must be between 1 and 1000000 (got 0)"},
      {"[stream]\nmax_connections = 1000001\n", "t.toml:2: stream.max_connections: must be between 1 and 1000000 (got 1000001)"},
      {"[stream]\nmax_connections_per_ip = 0\n", "t.toml:2: stream.max_connections_per_ip: must be between 1 and 1000000 (got 0)"},
      {"[stream]\nmax_message_bytes = 255\n", "t.toml:2: stream.max_message_bytes: must be between 256 and 16777216 (got 255)"},
      {"[stream]\nmax_message_bytes = 16777217\n", "t.toml:2: stream.max_message_bytes: must be between 256 and 16777216 (got 16777217)"},
      {"[stream]\nmax_messages_per_second = 0\n", "t.toml:2: stream.max_messages_per_second: must be between 1 and 10000 (got 0)"},
      {"[stream]\nmax_messages_per_second = 10001\n", "t.toml:2: stream.max_messages_per_second: must be between 1 and 10000 (got 10001)"},
      {"[stream]\nmax_subscriptions = 0\n", "t.toml:2: stream.max_subscriptions: must be between 1 and 1000 (got 0)"},
      {"[stream]\nmax_subscriptions = 1001\n", "t.toml:2: stream.max_subscriptions: must be between 1 and 1000 (got 1001)"},
      {"[stream]\nmax_errors = 0\n", "t.toml:2: stream.max_errors: must be between 1 and 1000000 (got 0)"},
      {"[stream]\nhandshake_timeout = \"50ms\"\n", "t.toml:2: stream.handshake_timeout: must be between 100ms and 5m (got 50ms)"},
      {"[stream]\nhandshake_timeout = \"6m\"\n", "t.toml:2: stream.handshake_timeout: must be between 100ms and 5m (got 6m)"},
      {"[stream]\nhandshake_timeout = true\n", "t.toml:2: stream.handshake_timeout: expected a duration"},
      {"[stream]\nping_interval = 99\n", "t.toml:2: stream.ping_interval: must be between 100ms and 1h (got 99ms)"},
      {"[stream]\nping_interval = \"2h\"\n", "t.toml:2: stream.ping_interval: must be between 100ms and 1h (got 2h)"},
      {"[stream]\nping_interval = \"often\"\n", "t.toml:2: stream.ping_interval: invalid duration 'often'"},
      {"[stream]\nmax_queue_bytes = 65535\n", "t.toml:2: stream.max_queue_bytes: must be between 65536 and 1073741824 (got 65535)"},
      {"[stream]\nmax_queue_bytes = 1073741825\n", "t.toml:2: stream.max_queue_bytes: must be between 65536 and 1073741824 (got 1073741825)"},
      {"[stream]\nmax_lag_bytes = 1023\n", "t.toml:2: stream.max_lag_bytes: must be between 1024 and 1073741824 (got 1023)"},
      {"[stream]\nsocket_send_buffer_bytes = -1\n", "t.toml:2: stream.socket_send_buffer_bytes: must be between 0 and 67108864 (got -1)"},
      {"[stream]\nsocket_send_buffer_bytes = 67108865\n", "t.toml:2: stream.socket_send_buffer_bytes: must be between 0 and 67108864 (got 67108865)"},
      {"[stream]\nmax_history_values = 999\n", "t.toml:2: stream.max_history_values: must be between 1000 and 100000000 (got 999)"},
      {"[stream]\nmax_history_values = 100000001\n", "t.toml:2: stream.max_history_values: must be between 1000 and 100000000 (got 100000001)"},
      {"[stream]\nmax_subscriptions = \"4\"\n", "t.toml:2: stream.max_subscriptions: expected an integer"},
      {"[stream]\nmax_subscriptions = 4.0\n", "t.toml:2: stream.max_subscriptions: expected an integer"},
      {"[stream]\nmax_subscription = 4\n", "t.toml:2: stream.max_subscription: unknown key (known keys: max_connections,"},
      {"[stream]\n\n\nmax_errors = 5\nbogus = 1\n", "t.toml:5: stream.bogus: unknown key"},
      {"stream = 3\n", "t.toml:1: stream: expected a table"},
      {"\ntoken_file = \"\"\n", "t.toml:2: token_file: must not be empty (leave the key out for no token)"},
      {"token_file = 3\n", "t.toml:1: token_file: expected a string"},
      {"allowed_origins = \"https://ops.example.com\"\n", "t.toml:1: allowed_origins: expected an array of origins"},
      {"allowed_origins = [\"\"]\n", "t.toml:1: allowed_origins: entries must be non-empty strings"},
      {"allowed_origins = [\"https://a.example\", 3]\n", "t.toml:1: allowed_origins: entries must be non-empty strings"},
      {"allow_unauthenticated = \"yes\"\n", "t.toml:1: allow_unauthenticated: expected true or false"},
      {"allow_unauthenticated = 1\n", "t.toml:1: allow_unauthenticated: expected true or false"},
  };
  for (const Case& c : cases) {
    Config config;
    config.stream.max_subscriptions = 5;
    const Status status = load_config_text(c.text, "t.toml", config);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_EQ(status.error.rfind(c.expected, 0), 0u) << c.text << "\n  got: " << status.error;
    // A failed load leaves the config as it was.
    EXPECT_EQ(config.stream.max_subscriptions, 5u) << c.text;
    EXPECT_EQ(config.stream.max_errors, StreamOptions{}.max_errors) << c.text;
    EXPECT_TRUE(config.token_file.empty()) << c.text;
    EXPECT_FALSE(config.allow_unauthenticated) << c.text;
  }
}

struct AccessTokenTest : ::testing::Test {
  std::string write_token(const std::string& contents) {
    std::ofstream file(path);
    file << contents;
    return path;
  }
  ~AccessTokenTest() override { std::filesystem::remove(path); }
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hostpulse_token_test_" + std::to_string(::getpid()))).string();
};

TEST_F(AccessTokenTest, LoopbackNeedsNoToken) {
  for (const char* listen : {"127.0.0.1:9870", "127.0.0.2:1", "[::1]:9870", "localhost:80"}) {
    Config config;
    ASSERT_TRUE(parse_listen_address(listen, config.listen).ok()) << listen;
    std::string token = "stale";
    const Status status = load_access_token(config, token);
    EXPECT_TRUE(status.ok()) << listen << ": " << status.error;
    EXPECT_EQ(token, "") << listen;
  }
}

TEST_F(AccessTokenTest, NonLoopbackWithoutTokenIsRefused) {
  for (const char* listen : {"0.0.0.0:9870", "[::]:9870", "192.168.1.10:80"}) {
    Config config;
    ASSERT_TRUE(parse_listen_address(listen, config.listen).ok()) << listen;
    std::string token;
    const Status status = load_access_token(config, token);
    ASSERT_FALSE(status.ok()) << listen;
    EXPECT_EQ(status.error, "listen: " + config.listen.to_string() +
                                " is reachable from other hosts and no token_file is set; set token_file, or pass "
                                "--allow-unauthenticated (config: allow_unauthenticated = true) to serve without a token");
    config.allow_unauthenticated = true;
    EXPECT_TRUE(load_access_token(config, token).ok()) << listen;
    EXPECT_EQ(token, "");
  }
}

TEST_F(AccessTokenTest, ReadsTheTokenFile) {
  Config config;
  ASSERT_TRUE(load_config_text("listen = \"0.0.0.0:9870\"\ntoken_file = \"" + write_token("0123456789abcdefXYZ\n") + "\"\n",
                               "t.toml", config)
                  .ok());
  std::string token;
  const Status status = load_access_token(config, token);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(token, "0123456789abcdefXYZ");
  // A token on loopback is used too.
  config.listen = ListenAddress{};
  ASSERT_TRUE(load_access_token(config, token).ok());
  EXPECT_EQ(token, "0123456789abcdefXYZ");
}

TEST_F(AccessTokenTest, BadTokenFilesAreRefusedEvenWhenUnauthenticatedIsAllowed) {
  Config config;
  config.allow_unauthenticated = true;
  config.token_file = write_token("short\n");
  std::string token = "stale";
  Status status = load_access_token(config, token);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, "token_file: '" + path + "': token must be at least 16 characters");
  EXPECT_EQ(token, "");

  config.token_file = path + ".missing";
  status = load_access_token(config, token);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, "token_file: " + path + ".missing: cannot open: No such file or directory");
}

// What Boost would parse differently from what was written is refused:
// IPv6 scope ids (a negative one wraps around) and text after a NUL.
TEST(ListenAddressTest, OnlyAddressLiteralsAndLocalhost) {
  ListenAddress address;
  for (std::string_view bad : {std::string_view("[::%-5]:1"), std::string_view("[fe80::1%eth0]:80"),
                               std::string_view("[::1\0x]:1", 9), std::string_view("example.com:80"),
                               std::string_view("127.0.0.1 :80")}) {
    const Status status = parse_listen_address(bad, address);
    EXPECT_FALSE(status.ok()) << bad;
  }
  ASSERT_TRUE(parse_listen_address("[::1]:9870", address).ok());
  EXPECT_EQ(address.host, "::1");
  ASSERT_TRUE(parse_listen_address("localhost:80", address).ok());
  EXPECT_EQ(address.host, "127.0.0.1");
}

}  // namespace
}  // namespace hostpulse
