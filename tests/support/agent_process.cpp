#include "support/agent_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#ifndef HOSTPULSE_BINARY
#error "HOSTPULSE_BINARY must name the hostpulse executable (see tests/e2e/CMakeLists.txt)"
#endif

namespace hostpulse::testing_support {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kListeningMarker = "listening on http://";

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Closes a descriptor on every path, including exceptions.
class Descriptor {
 public:
  Descriptor() = default;
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(Descriptor&& other) noexcept : fd_(other.release()) {}
  Descriptor& operator=(Descriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Descriptor read_end;
  Descriptor write_end;
};

Pipe make_pipe() {
  int fds[2];
  // O_CLOEXEC: no other child (this or another test's) inherits our ends.
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  Pipe pipe;
  pipe.read_end = Descriptor(fds[0]);
  pipe.write_end = Descriptor(fds[1]);
  return pipe;
}

// fork + execv of program with stdin from /dev/null and stdout/stderr on
// the given descriptors. Everything the child needs is prepared before
// fork(): between fork and exec only async-signal-safe calls are allowed
// (the test process has other threads).
pid_t spawn(const std::string& program, const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  std::vector<std::string> strings;
  strings.reserve(args.size() + 1);
  strings.push_back(program);
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const Descriptor dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) throw std::runtime_error(std::string("open /dev/null: ") + std::strerror(errno));
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // If the test process dies (crash, ctest timeout), take the agent down too.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Signal dispositions set to "ignore" survive exec; the agent must see the defaults.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal_number : {SIGINT, SIGTERM, SIGPIPE}) ::sigaction(signal_number, &default_action, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(dev_null.get(), STDIN_FILENO) < 0 || ::dup2(stdout_fd, STDOUT_FILENO) < 0 ||
        ::dup2(stderr_fd, STDERR_FILENO) < 0) {
      ::_exit(127);
    }
    ::execv(argv[0], argv.data());
    static constexpr char kMessage[] = "agent_process: execv failed\n";
    [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(127);
  }
  return pid;
}

// Blocking reap, retried on EINTR; the exit code as decode_wait_status.
int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return decode_wait_status(status);
}

}  // namespace

const char* agent_binary() { return HOSTPULSE_BINARY; }

RunResult run_to_completion(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  const auto started = Clock::now();
  const auto deadline = started + timeout;
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  const pid_t pid = spawn(agent_binary(), args, out.write_end.get(), err.write_end.get());
  out.write_end.reset();
  err.write_end.reset();

  RunResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  Descriptor* sources[2] = {&out.read_end, &err.read_end};
  bool killed = false;
  // Drain both pipes until the child closes them (it exits) or time is up.
  for (;;) {
    pollfd fds[2] = {{sources[0]->get(), POLLIN, 0}, {sources[1]->get(), POLLIN, 0}};
    if (fds[0].fd < 0 && fds[1].fd < 0) break;
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);  // still ours: not reaped yet, so the pid cannot have been reused
      killed = true;
    }
    // Killed a second ago and the pipes are still open: something else holds them.
    if (killed && remaining < -std::chrono::milliseconds(1000)) break;
    const int ready = ::poll(fds, 2, killed ? 100 : static_cast<int>(remaining.count()));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t bytes = ::read(fds[i].fd, buffer, sizeof buffer);
      if (bytes > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(bytes));
      } else if (bytes == 0 || (errno != EINTR && errno != EAGAIN)) {
        sources[i]->reset();
      }
    }
  }
  // Output closed; the exit follows right after, but bound the wait anyway.
  std::optional<int> code;
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) {
      code = decode_wait_status(status);
      break;
    }
    if (reaped < 0 && errno != EINTR) break;
    if (Clock::now() >= deadline && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (killed) {
      reap(pid);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!killed) result.exit_code = code;
  result.elapsed = since(started);
  return result;
}

AgentProcess::AgentProcess(const std::vector<std::string>& args) : AgentProcess(agent_binary(), args) {}

AgentProcess::AgentProcess(const std::string& program, const std::vector<std::string>& args) {
  Pipe output = make_pipe();
  // One pipe for both streams keeps their lines in the order written.
  pid_ = spawn(program, args, output.write_end.get(), output.write_end.get());
  output.write_end.reset();
  output_fd_ = output.read_end.release();
  drainer_ = std::thread([this] { drain(); });
}

AgentProcess::~AgentProcess() {
  if (pid_ > 0 && !exit_code_ && !try_reap()) {
    ::kill(pid_, SIGKILL);
    exit_code_ = reap(pid_);
  }
  stop_draining_ = true;
  if (drainer_.joinable()) drainer_.join();
  if (output_fd_ >= 0) ::close(output_fd_);
}

void AgentProcess::drain() {
  char buffer[4096];
  // poll() with a short timeout so the destructor can stop us even if some
  // other process still held the pipe's write end.
  while (!stop_draining_) {
    pollfd fd{output_fd_, POLLIN, 0};
    const int ready = ::poll(&fd, 1, 50);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t bytes = ::read(output_fd_, buffer, sizeof buffer);
    if (bytes < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (bytes <= 0) break;
    {
      std::lock_guard lock(output_mutex_);
      output_.append(buffer, static_cast<std::size_t>(bytes));
    }
    output_changed_.notify_all();
  }
  {
    std::lock_guard lock(output_mutex_);
    output_closed_ = true;
  }
  output_changed_.notify_all();
}

bool AgentProcess::wait_until_listening(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(output_mutex_);
  for (;;) {
    const auto marker = output_.find(kListeningMarker);
    if (marker != std::string::npos) {
      // "listening on http://127.0.0.1:PORT/" or "http://[::1]:PORT/"
      const auto authority = marker + kListeningMarker.size();
      const auto slash = output_.find('/', authority);
      if (slash != std::string::npos) {
        const std::string host_port = output_.substr(authority, slash - authority);
        const auto colon = host_port.rfind(':');
        if (colon == std::string::npos) return false;
        try {
          const unsigned long port = std::stoul(host_port.substr(colon + 1));
          if (port == 0 || port > 65535) return false;
          port_ = static_cast<std::uint16_t>(port);
        } catch (const std::exception&) {
          return false;
        }
        return true;
      }
    }
    if (output_closed_ || Clock::now() >= deadline) return false;
    output_changed_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
  }
}

bool AgentProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(output_mutex_);
  for (;;) {
    if (output_.find(text) != std::string::npos) return true;
    if (output_closed_ || Clock::now() >= deadline) return false;
    output_changed_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
  }
}

std::string AgentProcess::output() const {
  std::lock_guard lock(output_mutex_);
  return output_;
}

void AgentProcess::signal(int signal_number) {
  // Until it is reaped the pid stays ours (a zombie's pid is not reused).
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal_number);
}

bool AgentProcess::try_reap() {
  if (exit_code_) return true;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == pid_) {
    exit_code_ = decode_wait_status(status);
    return true;
  }
  if (reaped < 0 && errno == ECHILD) {
    exit_code_ = -1;  // not ours any more: never signal that pid again
    return true;
  }
  return false;
}

std::optional<int> AgentProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (try_reap()) {
      // The exit closed the pipe; let the drainer take the last lines in, so
      // output() after wait_exit() is complete.
      std::unique_lock lock(output_mutex_);
      output_changed_.wait_for(lock, std::chrono::seconds(1), [this] { return output_closed_; });
      return exit_code_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace hostpulse::testing_support
