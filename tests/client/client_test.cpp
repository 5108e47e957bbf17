// hostpulse::client against the built agent on loopback: batches and their
// seqs, JSON and msgpack, stop(), reconnect + resume without a gap after the
// agent stalled (SIGSTOP), restart detection, auth failures, a refused
// subscription, giving up, and option/URL validation. Every wait is bounded.

#include "hostpulse/client.hpp"

#include <csignal>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/agent_process.hpp"
#include "support/temp_dir.hpp"

namespace hostpulse::testing_support {
namespace {

namespace hc = hostpulse::client;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kSlack = 3;
#else
constexpr int kSlack = 1;
#endif

std::string url(std::uint16_t port) { return "ws://127.0.0.1:" + std::to_string(port) + "/api/v1/stream"; }

std::vector<std::string> agent_args(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--interval", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Runs a client on its own thread; the test stops it (or it ends by itself).
class Runner {
 public:
  explicit Runner(hc::Options options) : client_(std::move(options)) {
    client_.on_batch([this](const hc::Batch& batch) {
      std::lock_guard lock(mutex_);
      batches_.push_back(batch);
      batches_.back().frame = nullptr;
    });
    client_.on_hello([this](const hc::Hello& hello) {
      std::lock_guard lock(mutex_);
      hellos_.push_back(hello);
    });
    client_.on_state([this](const hc::StateChange& change) {
      std::lock_guard lock(mutex_);
      states_.push_back(change);
    });
  }
  ~Runner() { finish(); }

  void start() {
    thread_ = std::thread([this] {
      result_ = client_.run();
      done_ = true;
    });
  }
  hc::Result finish(std::chrono::milliseconds timeout = 5s) {
    client_.stop();
    const auto deadline = Clock::now() + timeout;
    while (!done_ && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(done_.load()) << "run() did not return after stop()";
    if (thread_.joinable()) {
      if (done_) {
        thread_.join();
      } else {
        thread_.detach();  // the test fails anyway; do not hang
      }
    }
    return result_;
  }
  bool wait(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout * kSlack;
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (predicate()) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard lock(mutex_);
    return predicate();
  }
  // Every point's seq, in arrival order.
  std::vector<std::uint64_t> seqs() {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> all;
    for (const hc::Batch& batch : batches_) {
      for (std::size_t k = 0; k < batch.t.size(); ++k) all.push_back(batch.seq_first + k);
    }
    return all;
  }

  hc::Client client_;
  std::mutex mutex_;
  std::vector<hc::Batch> batches_;
  std::vector<hc::Hello> hellos_;
  std::vector<hc::StateChange> states_;
  std::atomic<bool> done_{false};
  hc::Result result_;
  std::thread thread_;
};

hc::Options options_for(std::uint16_t port) {
  hc::Options options;
  options.url = url(port);
  options.series = {"cpu.busy_pct", "load.1m", "mem.used_bytes"};
  options.backoff_initial = 100ms;
  options.backoff_max = 400ms;
  options.connect_timeout = 2s;
  return options;
}

void expect_consecutive(const std::vector<std::uint64_t>& seqs) {
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "gap or duplicate at index " << i;
  }
}

TEST(ClientUrl, ParsesAndRejects) {
  hc::Endpoint e;
  std::string error;
  ASSERT_TRUE(hc::parse_stream_url("ws://127.0.0.1:9870/api/v1/stream", e, error)) << error;
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, "9870");
  EXPECT_EQ(e.target, "/api/v1/stream");
  ASSERT_TRUE(hc::parse_stream_url("http://agent.example", e, error)) << error;
  EXPECT_EQ(e.port, "9870");
  EXPECT_EQ(e.target, "/api/v1/stream");
  ASSERT_TRUE(hc::parse_stream_url("ws://[::1]:9000/", e, error)) << error;
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, "9000");
  const struct {
    const char* url;
    const char* why;
  } bad[] = {{"127.0.0.1:9870", "scheme"},      {"ftp://x", "scheme"},       {"wss://x", "TLS"},
             {"ws://:9870", "no host"},         {"ws://h:0", "port"},        {"ws://h:99999", "port"},
             {"ws://h:12ab", "port"},           {"ws://u:p@h", "credentials"}, {"ws://h /x", "spaces"},
             {"ws://[::1", "IPv6"}};
  for (const auto& c : bad) {
    EXPECT_FALSE(hc::parse_stream_url(c.url, e, error)) << c.url;
    EXPECT_NE(error.find(c.why), std::string::npos) << c.url << ": " << error;
  }
}

TEST(ClientOptions, InvalidOptionsAreUsageErrors) {
  for (auto change : std::vector<std::function<void(hc::Options&)>>{
           [](hc::Options& o) { o.url = "wss://127.0.0.1"; }, [](hc::Options& o) { o.batch_max_samples = 0; },
           [](hc::Options& o) { o.batch_max_samples = 1001; }, [](hc::Options& o) { o.every = 0; },
           [](hc::Options& o) { o.batch_max_delay_ms = 60'001; }, [](hc::Options& o) { o.token = "a b"; },
           [](hc::Options& o) { o.backoff_initial = 0ms; }}) {
    hc::Options options;
    change(options);
    hc::Client client(options);
    const hc::Result result = client.run();  // returns at once: nothing is contacted
    EXPECT_EQ(result.outcome, hc::Outcome::usage) << result.message;
    EXPECT_FALSE(result.message.empty());
  }
}

TEST(Client, StreamsBatchesWithNamesAndConsecutiveSeqs) {
  AgentProcess agent(agent_args());
  ASSERT_TRUE(agent.wait_until_listening()) << agent.output();
  hc::Options options = options_for(agent.port());
  options.batch_max_samples = 2;
  Runner runner(options);
  runner.start();
  ASSERT_TRUE(runner.wait([&] { return runner.batches_.size() >= 4; }, 5s)) << agent.output();
  const hc::Result result = runner.finish();
  EXPECT_TRUE(result.ok()) << result.message;
  ASSERT_EQ(runner.hellos_.size(), 1u);
  EXPECT_EQ(runner.hellos_[0].protocol, 2);
  EXPECT_FALSE(runner.hellos_[0].restarted);
  EXPECT_GT(runner.hellos_[0].schema.size(), 10u);
  for (const hc::Batch& batch : runner.batches_) {
    EXPECT_EQ(batch.names, (std::vector<std::string>{"cpu.busy_pct", "load.1m", "mem.used_bytes"}));
    ASSERT_EQ(batch.values.size(), 3u);
    EXPECT_EQ(batch.t.size(), 2u);
    EXPECT_EQ(batch.seq_last - batch.seq_first + 1, batch.t.size());
    for (const auto& column : batch.values) EXPECT_EQ(column.size(), batch.t.size());
    EXPECT_GT(batch.values[2][0], 0) << "mem.used_bytes";
    EXPECT_EQ(batch.missed, 0u);
  }
  expect_consecutive(runner.seqs());
  ASSERT_FALSE(runner.states_.empty());
  EXPECT_EQ(runner.states_.back().state, hc::State::stopped);
}

TEST(Client, MsgpackValuesMatchTheAgentsRounding) {
  AgentProcess agent(agent_args());
  ASSERT_TRUE(agent.wait_until_listening()) << agent.output();
  hc::Options options = options_for(agent.port());
  options.format = hc::Format::msgpack;
  options.series = {"cpu.*_pct"};
  Runner runner(options);
  runner.start();
  ASSERT_TRUE(runner.wait([&] { return runner.batches_.size() >= 3; }, 5s));
  runner.finish();
  std::size_t checked = 0;
  for (const hc::Batch& batch : runner.batches_) {
    for (const auto& column : batch.values) {
      for (double value : column) {
        if (std::isnan(value)) continue;
        // Exactly a multiple of 0.01 as a double (float32 noise removed).
        EXPECT_EQ(value, std::round(value * 100.0) / 100.0) << value;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10u);
}

// The agent stalls (SIGSTOP) long enough for the client's liveness timeout;
// the client reconnects once it continues and resumes from its last seq: no
// point is missing or repeated.
TEST(Client, ReconnectsAfterAStallAndResumesWithoutGap) {
  AgentProcess agent(agent_args());
  ASSERT_TRUE(agent.wait_until_listening()) << agent.output();
  hc::Options options = options_for(agent.port());
  options.liveness_timeout = 600ms;
  Runner runner(options);
  runner.start();
  ASSERT_TRUE(runner.wait([&] { return runner.batches_.size() >= 5; }, 5s));
  agent.signal(SIGSTOP);
  const bool saw_reconnecting = runner.wait(
      [&] {
        for (const auto& s : runner.states_) {
          if (s.state == hc::State::reconnecting) return true;
        }
        return false;
      },
      5s);
  agent.signal(SIGCONT);
  ASSERT_TRUE(saw_reconnecting) << "the stalled connection was not given up";
  const std::size_t before = runner.seqs().size();
  ASSERT_TRUE(runner.wait([&] { return runner.hellos_.size() >= 2 && runner.batches_.size() >= before + 5; }, 10s))
      << agent.output();
  runner.finish();
  EXPECT_FALSE(runner.hellos_[1].restarted);
  const auto seqs = runner.seqs();
  expect_consecutive(seqs);
  for (const hc::Batch& batch : runner.batches_) EXPECT_EQ(batch.missed, 0u);
}

// A different agent process on the same port: hello.restarted, and the
// client takes the new agent's points from its first one.
TEST(Client, DetectsARestartedAgent) {
  auto agent = std::make_unique<AgentProcess>(agent_args());
  ASSERT_TRUE(agent->wait_until_listening()) << agent->output();
  const std::uint16_t port = agent->port();
  hc::Options options = options_for(port);
  Runner runner(options);
  runner.start();
  ASSERT_TRUE(runner.wait([&] { return runner.batches_.size() >= 3; }, 5s));
  agent.reset();  // SIGKILL
  agent = std::make_unique<AgentProcess>(std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port),
                                                                  "--interval", "100"});
  ASSERT_TRUE(agent->wait_until_listening()) << agent->output();
  ASSERT_TRUE(runner.wait([&] { return runner.hellos_.size() >= 2 && runner.batches_.size() >= 6; }, 10s));
  runner.finish();
  EXPECT_TRUE(runner.hellos_[1].restarted);
  EXPECT_NE(runner.hellos_[1].started_t, runner.hellos_[0].started_t);
  // After the restart the seqs start again at 1, and none is missing from there.
  std::vector<std::uint64_t> after;
  bool restarted = false;
  std::uint64_t previous = 0;
  for (const std::uint64_t seq : runner.seqs()) {
    if (seq <= previous) restarted = true;
    if (restarted) after.push_back(seq);
    previous = seq;
  }
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front(), 1u) << "points of the new agent were skipped";
  expect_consecutive(after);
}

TEST(Client, MissingOrWrongTokenIsUnauthorized) {
  TempDir dir;
  const std::string token_file = dir.write("token", "s3cret-token-123\n");
  const std::string config = dir.write("hostpulse.toml", "token_file = \"" + token_file + "\"\n");
  AgentProcess agent(agent_args({"--config", config}));
  ASSERT_TRUE(agent.wait_until_listening()) << agent.output();
  for (const std::string token : {"", "wrong-token"}) {
    hc::Options options = options_for(agent.port());
    options.token = token;
    hc::Client client(options);
    const auto start = Clock::now();
    const hc::Result result = client.run();
    EXPECT_EQ(result.outcome, hc::Outcome::unauthorized) << "token '" << token << "': " << result.message;
    EXPECT_NE(result.message.find("token"), std::string::npos) << result.message;
    EXPECT_LT(Clock::now() - start, 3s * kSlack) << "an auth failure must not be retried";
  }
  hc::Options options = options_for(agent.port());
  options.token = "s3cret-token-123";
  Runner runner(options);
  runner.start();
  EXPECT_TRUE(runner.wait([&] { return !runner.batches_.empty(); }, 5s));
  EXPECT_TRUE(runner.finish().ok());
}

TEST(Client, UnknownSeriesIsRefused) {
  AgentProcess agent(agent_args());
  ASSERT_TRUE(agent.wait_until_listening()) << agent.output();
  hc::Options options = options_for(agent.port());
  options.series = {"cpu.bussy_pct"};
  hc::Client client(options);
  const hc::Result result = client.run();
  EXPECT_EQ(result.outcome, hc::Outcome::refused);
  EXPECT_NE(result.message.find("unknown series 'cpu.bussy_pct'"), std::string::npos) << result.message;
}

TEST(Client, GivesUpAfterMaxAttemptsWithBackoff) {
  std::uint16_t port = 0;
  {
    AgentProcess agent(agent_args());
    ASSERT_TRUE(agent.wait_until_listening());
    port = agent.port();
  }  // killed: nothing listens there now
  hc::Options options = options_for(port);
  options.max_attempts = 3;
  hc::Client client(options);
  std::vector<hc::StateChange> states;
  client.on_state([&](const hc::StateChange& s) { states.push_back(s); });
  const hc::Result result = client.run();
  EXPECT_EQ(result.outcome, hc::Outcome::gave_up);
  EXPECT_NE(result.message.find("gave up after 3 attempts"), std::string::npos) << result.message;
  std::vector<std::chrono::milliseconds> waits;
  for (const auto& s : states) {
    if (s.state == hc::State::reconnecting) waits.push_back(s.retry_in);
  }
  ASSERT_EQ(waits.size(), 2u);
  // Jittered between half and all of 100 ms, then of 200 ms.
  EXPECT_GE(waits[0], 50ms);
  EXPECT_LE(waits[0], 100ms);
  EXPECT_GE(waits[1], 100ms);
  EXPECT_LE(waits[1], 200ms);
}

TEST(Client, StopEndsAWaitForReconnect) {
  hc::Options options;
  options.url = "ws://127.0.0.1:1/api/v1/stream";  // nothing listens on port 1
  options.backoff_initial = 10s;
  options.backoff_max = 10s;
  Runner runner(options);
  runner.start();
  ASSERT_TRUE(runner.wait(
      [&] { return !runner.states_.empty() && runner.states_.back().state == hc::State::reconnecting; }, 5s));
  const auto start = Clock::now();
  EXPECT_TRUE(runner.finish(3s).ok());
  EXPECT_LT(Clock::now() - start, 2s);
}

}  // namespace
}  // namespace hostpulse::testing_support
