#pragma once

#include <optional>
#include <string>

#include "agent/config/config.hpp"

namespace hostpulse {

struct CommandLine {
  Config config;
  std::optional<std::string> config_path;
  bool check_config = false;
  // Set when the program should exit right away (help, version, an error,
  // --check-config): the code, and what to print on stdout / stderr.
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

// Exit codes: 0 ok, 1 bad configuration, 2 bad usage (unknown flag, bad value),
// 3 stopped on a signal but the sampler thread was stuck in a collector and
// was abandoned rather than joined.
inline constexpr int kExitOk = 0;
inline constexpr int kExitConfigError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitSamplerStuck = 3;

// Parses the flags, loads --config if given, then lets flags override the
// file. Never exits or prints itself, so tests can drive every path.
CommandLine parse_command_line(int argc, const char* const* argv);

std::string version_string();

}  // namespace hostpulse
