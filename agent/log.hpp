#pragma once

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

}  // namespace hostpulse
