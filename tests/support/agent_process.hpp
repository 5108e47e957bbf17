#pragma once

// Runs the built hostpulse binary from tests: a long-running agent that is
// always killed and reaped (RAII, so a failed assertion cannot leak a
// process), and a run-to-completion helper for short invocations (--help,
// --check-config, start-up errors).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace hostpulse::testing_support {

// The binary under test (from the HOSTPULSE_BINARY compile definition).
const char* agent_binary();

struct RunResult {
  // The exit code, or 128 + signal number when killed by a signal;
  // nullopt when the process outlived the timeout (it was then killed).
  std::optional<int> exit_code;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

// Runs agent_binary() with args to completion, capturing stdout and stderr.
RunResult run_to_completion(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

// One agent process. stdout and stderr go to one pipe that a background
// thread drains (so a chatty agent never blocks on a full pipe).
class AgentProcess {
 public:
  // Starts agent_binary() with args (use "--listen 127.0.0.1:0" so the
  // agent picks a free port). Throws std::runtime_error if it cannot fork.
  explicit AgentProcess(const std::vector<std::string>& args);
  // Another program a test runs next to the agent (e.g. an Alertmanager),
  // with the same guarantees: killed and reaped at the end, output drained.
  AgentProcess(const std::string& program, const std::vector<std::string>& args);
  // Kills the process with SIGKILL if it is still running, and reaps it.
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Waits for the "listening on http://HOST:PORT/" log line and parses the
  // port. False when the agent exits first or the timeout passes.
  bool wait_until_listening(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Sends a signal (no-op once the process has been reaped).
  void signal(int signal_number);

  // Waits for the process to exit: its exit code (128 + signal when killed
  // by one), or nullopt if it is still running after the timeout. Once it
  // returns an exit code, output() holds everything the process wrote.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // Waits until the output contains text; false after the timeout.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout);

  // Everything the agent wrote to stdout and stderr so far.
  [[nodiscard]] std::string output() const;

 private:
  void drain();
  // waitpid(WNOHANG); true once the process has exited (and is reaped).
  bool try_reap();

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::uint16_t port_ = 0;
  int output_fd_ = -1;

  mutable std::mutex output_mutex_;
  std::condition_variable output_changed_;
  std::string output_;
  bool output_closed_ = false;
  std::atomic<bool> stop_draining_{false};
  std::thread drainer_;
};

}  // namespace hostpulse::testing_support
