#include "base/systemd_notify.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

// A datagram socket standing in for systemd's notification socket, bound to
// a path in a fresh temp dir or to an abstract name.
class FakeNotifySocket {
 public:
  enum class Kind { path, abstract };

  explicit FakeNotifySocket(Kind kind) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length = 0;
    if (kind == Kind::path) {
      std::string pattern = (std::filesystem::temp_directory_path() / "hostpulse-notify-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      directory_ = pattern;
      name_ = directory_ + "/notify";
      std::memcpy(address.sun_path, name_.c_str(), name_.size() + 1);
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + 1);
    } else {
      std::random_device random;
      const std::string abstract = "hostpulse-test-" + std::to_string(::getpid()) + "-" + std::to_string(random());
      name_ = "@" + abstract;
      address.sun_path[0] = '\0';
      std::memcpy(address.sun_path + 1, abstract.data(), abstract.size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
      throw std::runtime_error(std::string("bind ") + name_ + ": " + std::strerror(errno));
    }
  }
  ~FakeNotifySocket() {
    ::close(fd_);
    if (!directory_.empty()) std::filesystem::remove_all(directory_);
  }
  FakeNotifySocket(const FakeNotifySocket&) = delete;
  FakeNotifySocket& operator=(const FakeNotifySocket&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }

  // The next datagram, or nothing within the timeout.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = 1000ms) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t size = ::recv(fd_, buffer, sizeof buffer, 0);
    if (size < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(size));
  }

 private:
  int fd_ = -1;
  std::string directory_;
  std::string name_;
};

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnvironment() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(SystemdNotify, SendsEachStateToASocketPath) {
  FakeNotifySocket systemd(FakeNotifySocket::Kind::path);
  SystemdNotifier notifier(systemd.name(), 0us);
  ASSERT_TRUE(notifier.enabled());

  EXPECT_TRUE(notifier.ready());
  EXPECT_EQ(systemd.receive(), "READY=1");
  EXPECT_TRUE(notifier.ready("listening on 127.0.0.1:9870"));
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=listening on 127.0.0.1:9870");
  EXPECT_TRUE(notifier.reloading());
  const auto reloading = systemd.receive();
  ASSERT_TRUE(reloading);
  EXPECT_EQ(reloading->rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << *reloading;
  EXPECT_GT(std::stoull(reloading->substr(reloading->find('=', 12) + 1)), 0u);
  EXPECT_TRUE(notifier.stopping());
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
  EXPECT_EQ(notifier.last_error(), "");
}

TEST(SystemdNotify, SendsToAnAbstractSocketName) {
  FakeNotifySocket systemd(FakeNotifySocket::Kind::abstract);
  ASSERT_EQ(systemd.name().front(), '@');
  SystemdNotifier notifier(systemd.name(), 0us);
  EXPECT_TRUE(notifier.ready());
  EXPECT_EQ(systemd.receive(), "READY=1");
}

TEST(SystemdNotify, WatchdogPingsAtMostEveryHalfPeriod) {
  FakeNotifySocket systemd(FakeNotifySocket::Kind::path);
  SystemdNotifier notifier(systemd.name(), 10s);
  const auto start = SystemdNotifier::Clock::now();

  EXPECT_TRUE(notifier.watchdog(start));  // the first tick always pings
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
  EXPECT_FALSE(notifier.watchdog(start + 1s));
  EXPECT_FALSE(notifier.watchdog(start + 4999ms));
  EXPECT_FALSE(systemd.receive(50ms)) << "nothing may be sent before half the period";
  EXPECT_TRUE(notifier.watchdog(start + 5s));
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
  // Measured from the last ping, not from the start.
  EXPECT_FALSE(notifier.watchdog(start + 9s));
  EXPECT_TRUE(notifier.watchdog(start + 10s));
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
}

TEST(SystemdNotify, NoWatchdogPingsWithoutAWatchdog) {
  FakeNotifySocket systemd(FakeNotifySocket::Kind::path);
  SystemdNotifier notifier(systemd.name(), 0us);
  EXPECT_FALSE(notifier.watchdog());
  EXPECT_FALSE(systemd.receive(50ms));
}

TEST(SystemdNotify, DisabledNotifierDoesNothing) {
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.ready());
  EXPECT_FALSE(notifier.watchdog());
  EXPECT_FALSE(notifier.stopping());
  EXPECT_EQ(notifier.last_error(), "");
}

TEST(SystemdNotify, ReportsAMissingSocketWithoutThrowing) {
  SystemdNotifier notifier("/nonexistent/hostpulse/notify", 0us);
  EXPECT_FALSE(notifier.ready());
  EXPECT_NE(notifier.last_error(), "");
}

TEST(SystemdNotify, FromEnvironmentWithoutNotifySocketIsDisabled) {
  ScopedEnvironment socket("NOTIFY_SOCKET", nullptr);
  ScopedEnvironment watchdog("WATCHDOG_USEC", "30000000");
  EXPECT_FALSE(SystemdNotifier::from_environment().enabled());
}

TEST(SystemdNotify, FromEnvironmentReadsSocketAndWatchdog) {
  FakeNotifySocket systemd(FakeNotifySocket::Kind::abstract);
  ScopedEnvironment socket("NOTIFY_SOCKET", systemd.name().c_str());
  ScopedEnvironment watchdog("WATCHDOG_USEC", "30000000");
  const std::string own_pid = std::to_string(::getpid());
  ScopedEnvironment pid("WATCHDOG_PID", own_pid.c_str());
  SystemdNotifier notifier = SystemdNotifier::from_environment();
  ASSERT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_period(), 30s);
  EXPECT_TRUE(notifier.watchdog());
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
}

TEST(SystemdNotify, FromEnvironmentIgnoresAnotherProcesssWatchdog) {
  ScopedEnvironment socket("NOTIFY_SOCKET", "@hostpulse-unused");
  ScopedEnvironment watchdog("WATCHDOG_USEC", "30000000");
  const std::string other_pid = std::to_string(::getpid() + 1);
  ScopedEnvironment pid("WATCHDOG_PID", other_pid.c_str());
  SystemdNotifier notifier = SystemdNotifier::from_environment();
  EXPECT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_period(), 0us);
}

TEST(SystemdNotify, FromEnvironmentIgnoresAMalformedWatchdog) {
  ScopedEnvironment socket("NOTIFY_SOCKET", "/run/systemd/notify");
  ScopedEnvironment pid("WATCHDOG_PID", nullptr);
  for (const char* bad : {"", "-5", "12x", "99999999999999999999999"}) {
    ScopedEnvironment watchdog("WATCHDOG_USEC", bad);
    EXPECT_EQ(SystemdNotifier::from_environment().watchdog_period(), 0us) << bad;
  }
}

TEST(SystemdNotify, FromEnvironmentRejectsUnknownAddressKinds) {
  ScopedEnvironment socket("NOTIFY_SOCKET", "vsock:2:1234");
  EXPECT_FALSE(SystemdNotifier::from_environment().enabled());
}

}  // namespace
}  // namespace hostpulse
