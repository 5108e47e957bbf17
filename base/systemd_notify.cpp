#include "base/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace hostpulse {
namespace {

std::int64_t nanoseconds(SystemdNotifier::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Unsigned decimal without sign, spaces or overflow, as systemd writes it.
bool parse_unsigned(const char* text, std::uint64_t& value) {
  if (text == nullptr || *text == '\0') return false;
  value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    const auto digit = static_cast<std::uint64_t>(*p - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

}  // namespace

SystemdNotifier::SystemdNotifier(std::string socket_name, std::chrono::microseconds watchdog)
    : socket_name_(std::move(socket_name)), watchdog_(watchdog) {
  if (socket_name_.empty()) return;
  // One socket for the life of the process: the sandbox may forbid creating
  // sockets later, and a datagram socket needs no connection to reuse.
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) last_errno_ = errno;
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  // Only a path or an abstract name; systemd 254's vsock addresses are not
  // ours to speak (and bookworm's 252 never hands them out).
  if (socket_name == nullptr || (socket_name[0] != '/' && socket_name[0] != '@')) return SystemdNotifier();
  std::uint64_t watchdog_usec = 0;
  if (!parse_unsigned(std::getenv("WATCHDOG_USEC"), watchdog_usec)) watchdog_usec = 0;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
    std::uint64_t watchdog_pid = 0;
    if (!parse_unsigned(pid, watchdog_pid) || watchdog_pid != static_cast<std::uint64_t>(::getpid())) {
      watchdog_usec = 0;  // the watchdog belongs to another process
    }
  }
  return SystemdNotifier(socket_name, std::chrono::microseconds(static_cast<std::int64_t>(watchdog_usec)));
}

bool SystemdNotifier::send(std::string_view message) {
  if (!enabled() || fd_ < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_name_.size() >= sizeof address.sun_path) {
    last_errno_ = ENAMETOOLONG;
    return false;
  }
  std::memcpy(address.sun_path, socket_name_.data(), socket_name_.size());
  // "@name" is the abstract name "\0name": no trailing NUL, the length says where it ends.
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name_.size());
  if (socket_name_[0] == '@') {
    address.sun_path[0] = '\0';
  } else {
    ++length;
  }
  const ssize_t sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0 || static_cast<std::size_t>(sent) != message.size()) {
    last_errno_ = sent < 0 ? errno : EMSGSIZE;
    return false;
  }
  return true;
}

bool SystemdNotifier::ready(std::string_view status) {
  if (status.empty()) return send("READY=1");
  std::string message = "READY=1\nSTATUS=";
  message.append(status);
  return send(message);
}

bool SystemdNotifier::reloading() {
  // MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload
  // to its request; older versions ignore it.
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1000000U + static_cast<std::uint64_t>(now.tv_nsec) / 1000U;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool SystemdNotifier::stopping() { return send("STOPPING=1"); }

bool SystemdNotifier::watchdog(Clock::time_point now) {
  if (!enabled() || watchdog_.count() <= 0) return false;
  const std::int64_t half_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(watchdog_).count() / 2;
  const std::int64_t now_ns = nanoseconds(now);
  std::int64_t last = last_watchdog_ns_.load(std::memory_order_relaxed);
  // Claim the slot first so two threads never both send for one period.
  do {
    if (last != INT64_MIN && now_ns - last < half_ns) return false;
  } while (!last_watchdog_ns_.compare_exchange_weak(last, now_ns, std::memory_order_relaxed));
  return send("WATCHDOG=1");
}

std::string SystemdNotifier::last_error() const {
  const int error = last_errno_.load();
  return error == 0 ? std::string() : std::string(std::strerror(error));
}

}  // namespace hostpulse
