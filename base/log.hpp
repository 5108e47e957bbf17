#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include <spdlog/spdlog.h>

namespace hostpulse {

// Level names accepted by --log-level and the config key log_level.
inline constexpr std::string_view kLogLevelNames = "trace, debug, info, warn, error, off";
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Logs go to stderr. Under systemd (JOURNAL_STREAM set) lines carry a
// <priority> prefix that journald turns into the entry's priority, and no
// timestamp, since the journal records its own.
void configure_logging(spdlog::level::level_enum level);

// Bounds log lines that a client can cause (one per bad request would let a
// client fill the journal): at most `burst` lines per `window`; the lines
// held back are counted and reported with the next one let through.
// Thread-safe.
class LogRateLimit {
 public:
  LogRateLimit(std::uint32_t burst, std::chrono::steady_clock::duration window) : burst_(burst), window_(window) {}

  // Whether to log now; `suppressed` gets how many were held back since the last line logged.
  bool allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(mutex_);
    if (now - window_start_ >= window_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      ++suppressed_;
      return false;
    }
    ++in_window_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const std::uint32_t burst_;
  const std::chrono::steady_clock::duration window_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t in_window_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace hostpulse
