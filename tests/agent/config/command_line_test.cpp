#include "agent/config/command_line.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "hostpulse");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

struct TempConfig {
  std::filesystem::path path;
  explicit TempConfig(const std::string& text) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("hostpulse_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".toml");
    std::ofstream(path) << text;
  }
  ~TempConfig() { std::filesystem::remove(path); }
};

TEST(CommandLineTest, NoFlagsGivesDefaults) {
  const CommandLine cl = parse({});
  EXPECT_FALSE(cl.exit_code);
  EXPECT_EQ(cl.config.listen.to_string(), "127.0.0.1:9870");
  EXPECT_EQ(cl.config.interval, 1000ms);
}

TEST(CommandLineTest, HelpListsEveryFlag) {
  const CommandLine cl = parse({"--help"});
  ASSERT_EQ(cl.exit_code, kExitOk);
  for (const char* flag : {"--config", "--listen", "--interval", "--procfs", "--sysfs", "--rootfs", "--log-level", "--version", "--help",
                           "--check-config", "127.0.0.1:9870"}) {
    EXPECT_NE(cl.out.find(flag), std::string::npos) << flag;
  }
}

TEST(CommandLineTest, Version) {
  const CommandLine cl = parse({"--version"});
  ASSERT_EQ(cl.exit_code, kExitOk);
  EXPECT_EQ(cl.out.rfind("hostpulse ", 0), 0u);
}

TEST(CommandLineTest, FlagsAreApplied) {
  const CommandLine cl =
      parse({"--listen", "[::1]:1234", "--interval", "250", "--procfs", "/tmp/p", "--log-level", "error"});
  ASSERT_FALSE(cl.exit_code) << cl.err;
  EXPECT_EQ(cl.config.listen.to_string(), "[::1]:1234");
  EXPECT_EQ(cl.config.interval, 250ms);
  EXPECT_EQ(cl.config.procfs, "/tmp/p");
  EXPECT_EQ(cl.config.log_level, spdlog::level::err);
  EXPECT_EQ(parse({"--interval", "2s"}).config.interval, 2000ms);
  const CommandLine roots = parse({"--sysfs", "/host/sys", "--rootfs", "/host/root"});
  ASSERT_FALSE(roots.exit_code) << roots.err;
  EXPECT_EQ(roots.config.sysfs, "/host/sys");
  EXPECT_EQ(roots.config.rootfs, "/host/root");
  const CommandLine relative = parse({"--rootfs", "host/root"});
  EXPECT_EQ(relative.exit_code, kExitUsage);
  EXPECT_NE(relative.err.find("--rootfs: must be an absolute path"), std::string::npos) << relative.err;
}

TEST(CommandLineTest, BadUsageExitsTwoWithAMessage) {
  struct Case { std::vector<const char*> args; const char* message; };
  const Case cases[] = {
      {{"--bogus"}, "--bogus"},
      {{"--interval", "5"}, "--interval: must be between 100ms and 1m"},
      {{"--interval", "soon"}, "--interval: invalid duration"},
      {{"--listen", "nowhere"}, "--listen: invalid listen address"},
      {{"--log-level", "loud"}, "--log-level: unknown level 'loud'"},
      {{"--interval"}, "--interval"},
  };
  for (const Case& c : cases) {
    const CommandLine cl = parse(c.args);
    ASSERT_EQ(cl.exit_code, kExitUsage) << c.args[0];
    EXPECT_NE(cl.err.find(c.message), std::string::npos) << cl.err;
  }
}

TEST(CommandLineTest, FlagsOverrideTheFile) {
  TempConfig file("interval = \"2s\"\nlisten = \"127.0.0.1:1111\"\n");
  const CommandLine cl = parse({"--config", file.path.c_str(), "--interval", "500"});
  ASSERT_FALSE(cl.exit_code) << cl.err;
  EXPECT_EQ(cl.config.interval, 500ms);       // flag wins
  EXPECT_EQ(cl.config.listen.port, 1111);     // file value kept
}

TEST(CommandLineTest, CheckConfigExitsZeroOrOne) {
  TempConfig good("interval = \"2s\"\n");
  CommandLine cl = parse({"--config", good.path.c_str(), "--check-config"});
  EXPECT_EQ(cl.exit_code, kExitOk);
  EXPECT_NE(cl.out.find("configuration OK"), std::string::npos);

  TempConfig bad("interval = \"2s\"\nlisten = 5\n");
  cl = parse({"--config", bad.path.c_str(), "--check-config"});
  EXPECT_EQ(cl.exit_code, kExitConfigError);
  EXPECT_NE(cl.err.find(bad.path.string() + ":2: listen: expected a string"), std::string::npos) << cl.err;

  cl = parse({"--check-config", "--interval", "1"});
  EXPECT_EQ(cl.exit_code, kExitConfigError) << "--check-config promises 0 or 1";
}

TEST(CommandLineTest, MissingConfigFileIsAConfigError) {
  const CommandLine cl = parse({"--config", "/nonexistent/h.toml"});
  EXPECT_EQ(cl.exit_code, kExitConfigError);
  EXPECT_NE(cl.err.find("/nonexistent/h.toml: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace hostpulse
