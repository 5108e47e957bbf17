// The agent's Alertmanager receiver against Debian's real
// prometheus-alertmanager (0.25): each test starts one on 127.0.0.1 with a
// free port, its own config and storage folder, no clustering, and a loopback
// webhook receiver (support/http_receiver.hpp) as Alertmanager's only
// receiver; the built agent pushes to it. What is checked is what
// Alertmanager reports (GET /api/v2/alerts) and what its receiver gets.
// Every wait is bounded; the processes are stopped by PID.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "alerts_e2e/alert_agent.hpp"
#include "support/agent_process.hpp"
#include "support/http_receiver.hpp"
#include "support/temp_dir.hpp"

namespace hostpulse::testing_support {
namespace {

constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";
// Alertmanager is up in ~0.1 s; allow for a loaded machine.
constexpr std::chrono::milliseconds kAlertmanagerStartTimeout = 10s * kSlack;
// group_wait 100ms, group_interval 1s (below): a notification follows an
// alert within about a second.
constexpr std::chrono::milliseconds kNotificationTimeout = 5s * kSlack;

// A port that was free a moment ago (Alertmanager takes no port 0).
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

json get(std::uint16_t port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  const httplib::Result result = client.Get(path);
  if (status != nullptr) *status = result ? result->status : -1;
  if (!result || result->status != 200) return json();
  json body = json::parse(result->body, nullptr, false);
  return body.is_discarded() ? json() : body;
}

// One prometheus-alertmanager whose only receiver is `hook`.
class Alertmanager {
 public:
  explicit Alertmanager(const Receiver& hook) : port_(free_loopback_port()) {
    const std::string config = dir_.write("alertmanager.yml", R"(route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ")" + hook.url("/hook") + R"("
        send_resolved: true
)");
    std::filesystem::create_directories(dir_.file("data"));
    process_ = std::make_unique<AgentProcess>(
        kAlertmanagerBinary,
        std::vector<std::string>{"--config.file=" + config, "--storage.path=" + dir_.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 // Empty: no gossip listener, so no second port and no peers.
                                 "--cluster.listen-address=", "--log.level=warn"});
    const auto deadline = Clock::now() + kAlertmanagerStartTimeout;
    int status = -1;
    while (Clock::now() < deadline) {
      get(port_, "/-/ready", &status);
      if (status == 200) break;
      std::this_thread::sleep_for(20ms);
    }
    ready_ = status == 200;
  }
  ~Alertmanager() { stop(); }

  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::string output() const { return process_->output(); }
  json alerts() const { return get(port_, "/api/v2/alerts"); }

  // Polls GET /api/v2/alerts until predicate holds; the last answer either way.
  json wait_for_alerts(const std::function<bool(const json&)>& predicate, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    json body = alerts();
    while (!predicate(body) && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      body = alerts();
    }
    return body;
  }

  void stop() {
    process_->signal(SIGTERM);
    if (!process_->wait_exit(5s)) process_->signal(SIGKILL);
  }

 private:
  TempDir dir_;
  std::uint16_t port_;
  std::unique_ptr<AgentProcess> process_;
  bool ready_ = false;
};

std::string alertmanager_config(const std::string& url, const std::string& extra = "") {
  return "\n[[alertmanager]]\nurl = \"" + url + "\"\ntimeout = \"2s\"\n" + extra;
}

// The notifications Alertmanager sent its receiver, as JSON.
std::vector<json> notifications(const std::vector<Received>& requests) {
  std::vector<json> bodies;
  for (const Received& request : requests) bodies.push_back(json::parse(request.body, nullptr, false));
  return bodies;
}

json health_of(const AlertAgent& agent) { return agent.get_json("/api/v1/health"); }

bool skip_without_alertmanager() { return !std::filesystem::exists(kAlertmanagerBinary); }

// Fires in the agent, shows in Alertmanager with hostpulse's labels and
// annotations, reaches Alertmanager's receiver once, and resolves there too.
TEST(Alertmanager, AlertFiresIsNotifiedOnceAndResolves) {
  if (skip_without_alertmanager()) GTEST_SKIP() << kAlertmanagerBinary << " is not installed (scripts/setup.sh)";
  Receiver hook;
  Alertmanager alertmanager(hook);
  ASSERT_TRUE(alertmanager.ready()) << alertmanager.output();
  AlertAgent agent(std::string(kLoadRule) + "summary = \"load high on {{series}}\"\nlabels = { team = \"ops\" }\n" +
                   alertmanager_config(alertmanager.url()));
  ASSERT_TRUE(agent.listening()) << agent.output();

  agent.write_proc("loadavg", loadavg(7));
  json alerts = alertmanager.wait_for_alerts([](const json& body) { return body.is_array() && !body.empty(); },
                                             kEventTimeout + kNotificationTimeout);
  ASSERT_TRUE(alerts.is_array() && alerts.size() == 1) << alerts.dump() << agent.output() << alertmanager.output();
  const json& alert = alerts[0];
  EXPECT_EQ(alert["labels"]["alertname"], "load_high");
  EXPECT_EQ(alert["labels"]["instance"], "load.1m");
  EXPECT_EQ(alert["labels"]["severity"], "warning");
  EXPECT_EQ(alert["labels"]["team"], "ops");
  EXPECT_TRUE(alert["labels"]["host"].is_string() && !alert["labels"]["host"].get<std::string>().empty());
  EXPECT_EQ(alert["annotations"]["description"], "load 7 crossed > 5");
  EXPECT_EQ(alert["annotations"]["summary"], "load high on load.1m");
  EXPECT_EQ(alert["annotations"]["value"], "7");
  EXPECT_EQ(alert["annotations"]["threshold"], "> 5");
  EXPECT_EQ(alert["status"]["state"], "active");
  // The agent's own record of the firing time is what Alertmanager shows.
  const json rest = agent.alerts();
  ASSERT_EQ(rest["active"].size(), 1u) << rest.dump();

  const auto firing = hook.wait_for(1, kNotificationTimeout);
  ASSERT_EQ(firing.size(), 1u) << alertmanager.output();
  const json first = json::parse(firing[0].body);
  EXPECT_EQ(first["status"], "firing");
  ASSERT_EQ(first["alerts"].size(), 1u) << first.dump();
  EXPECT_EQ(first["alerts"][0]["labels"], alert["labels"]);

  agent.write_proc("loadavg", loadavg(1));
  const auto all = hook.wait_for(2, kEventTimeout + kNotificationTimeout);
  ASSERT_EQ(all.size(), 2u) << agent.output() << alertmanager.output();
  const std::vector<json> bodies = notifications(all);
  EXPECT_EQ(bodies[0]["status"], "firing");
  EXPECT_EQ(bodies[1]["status"], "resolved") << bodies[1].dump();
  ASSERT_EQ(bodies[1]["alerts"].size(), 1u);
  EXPECT_EQ(bodies[1]["alerts"][0]["labels"], alert["labels"]) << "the resolve must name the same alert";
  EXPECT_EQ(bodies[1]["alerts"][0]["startsAt"], alert["startsAt"]);
  // Alertmanager lists only alerts whose endsAt has not passed.
  alerts = alertmanager.wait_for_alerts([](const json& body) { return body.is_array() && body.empty(); }, 5s);
  EXPECT_EQ(alerts, json::array());

  const json health = health_of(agent)["alerts"]["alertmanagers"];
  EXPECT_EQ(health["sent"], 2) << health.dump();
  EXPECT_EQ(health["failed_attempts"], 0);
  EXPECT_EQ(health["dropped"], 0);
  EXPECT_EQ(health["firing"], 0);
  ASSERT_EQ(health["targets"].size(), 1u);
  EXPECT_EQ(health["targets"][0]["url"], alertmanager.url());

  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
}

// One Alertmanager is down (closed port), one accepts and never answers: the
// agent keeps ticking and evaluating (the alert fires and resolves on its own
// API), counts the failures per Alertmanager, and exits promptly.
TEST(Alertmanager, DownOrSlowAlertmanagersStallNothing) {
  Receiver slow;
  slow.hang();
  std::string dead_url;
  {
    Receiver closed;
    dead_url = closed.url("");
  }
  AlertAgent agent(std::string(kLoadRule) + alertmanager_config(dead_url, "max_attempts = 3\n") +
                   alertmanager_config(slow.url(""), "max_attempts = 3\n"));
  ASSERT_TRUE(agent.listening()) << agent.output();
  const json before = health_of(agent)["sampler"];
  const auto started = Clock::now();

  agent.write_proc("loadavg", loadavg(7));
  ASSERT_TRUE(slow.wait_for(1, kEventTimeout + 5s).size() >= 1) << agent.output();
  const auto stat = [&](std::size_t target, const char* name) {
    const json targets = health_of(agent)["alerts"]["alertmanagers"]["targets"];
    return targets.is_array() && targets.size() == 2 ? targets[target][name].get<int>() : -1;
  };
  // Down: refused at once, retried after 1 s and 2 s. Slow: the 2 s timeout.
  auto deadline = Clock::now() + 10s * kSlack;
  while ((stat(0, "failed_attempts") < 2 || stat(1, "failed_attempts") < 1) && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  json health = health_of(agent);
  const json& targets = health["alerts"]["alertmanagers"]["targets"];
  ASSERT_EQ(targets.size(), 2u) << health.dump();
  EXPECT_EQ(targets[0]["url"], dead_url);
  EXPECT_GE(targets[0]["failed_attempts"].get<int>(), 2) << health.dump();
  EXPECT_TRUE(targets[0]["last_error"].is_string()) << health.dump();
  EXPECT_GE(targets[1]["failed_attempts"].get<int>(), 1) << health.dump();
  EXPECT_EQ(health["alerts"]["alertmanagers"]["sent"], 0);

  // Meanwhile the alert resolves in the agent, which never stopped ticking.
  agent.write_proc("loadavg", loadavg(1));
  const json rest = agent.wait_for_alerts([](const json& body) { return body["active"].empty(); }, kEventTimeout);
  EXPECT_EQ(rest["active"], json::array()) << rest.dump();
  EXPECT_EQ(rest["events"].size(), 3u) << rest.dump();  // pending, warning, ok
  health = health_of(agent);
  const json& sampler = health["sampler"];
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  const auto ticks = sampler["ticks"].get<std::int64_t>() - before["ticks"].get<std::int64_t>();
  EXPECT_GE(ticks, elapsed_ms / 100 / 2) << "the sampler fell behind while Alertmanagers failed: " << health.dump();
  EXPECT_FALSE(sampler["stalled"].get<bool>());

  // The slow Alertmanager holds a request open: the exit does not wait for it.
  const auto stopping = Clock::now();
  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(5s), 0) << agent.output();
  EXPECT_LT(Clock::now() - stopping, 3s);
  slow.release();
}

}  // namespace
}  // namespace hostpulse::testing_support
