#pragma once

// The systemd service notification protocol (sd_notify(3)), spoken directly:
// one datagram of "KEY=value" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET. No libsystemd: the protocol is a stable interface and this
// is all of it we need. Without $NOTIFY_SOCKET every call does nothing, so the
// agent behaves the same outside systemd.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace hostpulse {

class SystemdNotifier {
 public:
  using Clock = std::chrono::steady_clock;

  // Disabled: every call is a no-op.
  SystemdNotifier() = default;
  // socket_name: a path, or "@name" for an abstract socket. watchdog: the
  // keep-alive period systemd enforces (WatchdogSec=), zero for none.
  SystemdNotifier(std::string socket_name, std::chrono::microseconds watchdog);
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // From $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is
  // ours only when WATCHDOG_PID is unset or names this process).
  static SystemdNotifier from_environment();

  [[nodiscard]] bool enabled() const { return !socket_name_.empty(); }
  [[nodiscard]] std::chrono::microseconds watchdog_period() const { return watchdog_; }

  // Start-up finished: the service is listening.
  bool ready(std::string_view status = {});
  // Around a SIGHUP reload: reloading(), then ready() when done.
  bool reloading();
  bool stopping();
  // Keep-alive, safe from any thread. Sends WATCHDOG=1 when half the watchdog
  // period has passed since the last one (so a frequent caller costs nothing),
  // and never when there is no watchdog. Returns whether it sent.
  bool watchdog(Clock::time_point now = Clock::now());

  // One raw datagram, e.g. "STATUS=...". False when disabled or on error.
  bool send(std::string_view message);

  // What the last failed send() reported, for the log (never thrown).
  [[nodiscard]] std::string last_error() const;

 private:
  std::string socket_name_;
  std::chrono::microseconds watchdog_{0};
  int fd_ = -1;
  // Steady-clock nanoseconds of the last WATCHDOG=1; min() before the first.
  std::atomic<std::int64_t> last_watchdog_ns_{INT64_MIN};
  std::atomic<int> last_errno_{0};
};

}  // namespace hostpulse
