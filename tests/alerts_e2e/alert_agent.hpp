#pragma once

// The alert end-to-end tests' agent: the built hostpulse on a private copy of
// a fixture procfs (--interval 100) whose files a test rewrites, with a
// config of its rules and notifiers; and the load rule most tests use.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/agent_process.hpp"
#include "support/temp_dir.hpp"

namespace hostpulse::testing_support {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSlack = 2;  // a sanitized agent is slower
#else
inline constexpr int kSlack = 1;
#endif
// How long a state change may take to show up (a few 100 ms ticks plus `for`).
inline constexpr std::chrono::milliseconds kEventTimeout = 5000ms * kSlack;

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

// /proc/loadavg with the given 1-minute load.
inline std::string loadavg(double load_1m) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f 0.03 0.00 1/79 2796\n", load_1m);
  return text;
}

// One agent on a private procfs copy (TMP/proc) with TMP/hostpulse.toml.
class AlertAgent {
 public:
  explicit AlertAgent(const std::string& config, const std::vector<std::pair<std::string, std::string>>& files = {}) {
    std::filesystem::copy(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu", proc(),
                          std::filesystem::copy_options::recursive);
    for (const auto& [name, contents] : files) {
      std::filesystem::create_directories(std::filesystem::path(dir_.file(name)).parent_path());
      dir_.write(name, contents);
    }
    config_path_ = dir_.write("hostpulse.toml", config);
    process_ = std::make_unique<AgentProcess>(std::vector<std::string>{
        "--listen", "127.0.0.1:0", "--interval", "100", "--procfs", proc(), "--config", config_path_,
        "--log-level", "info"});
    listening_ = process_->wait_until_listening(15s);
  }

  [[nodiscard]] bool listening() const { return listening_; }
  [[nodiscard]] std::uint16_t port() const { return process_->port(); }
  [[nodiscard]] std::string proc() const { return dir_.file("proc"); }
  [[nodiscard]] std::string output() const { return process_->output(); }
  [[nodiscard]] AgentProcess& process() { return *process_; }

  // Replaces the config file (for SIGHUP reloads).
  void write_config(const std::string& contents) const { write_file_atomically(config_path_, contents); }

  void write_proc(const std::string& name, const std::string& contents) const {
    write_file_atomically(proc() + "/" + name, contents);
  }

  json get_json(const std::string& path) const {
    httplib::Client client("127.0.0.1", port());
    client.set_connection_timeout(3, 0);
    client.set_read_timeout(5, 0);
    const httplib::Result result = client.Get(path);
    if (!result) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(result.error());
      return json();
    }
    EXPECT_EQ(result->status, 200) << "GET " << path << " -> " << result->body;
    EXPECT_TRUE(contains(result->get_header_value("Content-Type"), "application/json"));
    json body = json::parse(result->body, nullptr, false);
    return body.is_discarded() ? json() : body;
  }
  json alerts() const { return get_json("/api/v1/alerts"); }

  // Polls GET /api/v1/alerts until predicate holds; the last body either way.
  json wait_for_alerts(const std::function<bool(const json&)>& predicate, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    json body = alerts();
    while (!predicate(body) && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      body = alerts();
    }
    return body;
  }

 private:
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<AgentProcess> process_;
  bool listening_ = false;
};

// load.1m: warning above 5 (clears below 4), critical above 10 (clears below
// 8), each after holding 300 ms.
inline constexpr const char* kLoadRule = R"(
[[alert]]
name = "load_high"
series = "load.1m"
warn = "> 5"
warn_clear = "< 4"
crit = "> 10"
crit_clear = "< 8"
for = "300ms"
description = "load {{value}} crossed {{threshold}}"
)";

}  // namespace hostpulse::testing_support
