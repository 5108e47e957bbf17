#pragma once

// Where the whole-host fixture trees live: tests/fixtures/hosts/<case>/proc,
// pointed at by HostPaths::proc as if it were /proc.

#include <string>
#include <string_view>

#include "collectors/host_paths.hpp"
#include "collectors/source.hpp"

namespace hostpulse::testing_support {

inline std::string host_fixture_proc(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name) + "/proc";
}

inline SourceSettings host_fixture_settings(std::string_view case_name) {
  SourceSettings settings;
  settings.paths.proc = host_fixture_proc(case_name);
  settings.paths.sys = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name) + "/sys";
  settings.paths.rootfs = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name) + "/root";
  return settings;
}

}  // namespace hostpulse::testing_support
