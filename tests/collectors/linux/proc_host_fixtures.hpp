#pragma once

// Where the whole-host fixture trees live: tests/fixtures/hosts/<case>/proc,
// pointed at by HostPaths::proc as if it were /proc.

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

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

// A file of a fixture tree, relative to its proc ("net/snmp"). std::ifstream
// on purpose: not through the FileReader under test.
inline std::string read_host_fixture(std::string_view case_name, std::string_view relative) {
  const std::string path = host_fixture_proc(case_name) + "/" + std::string(relative);
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    ADD_FAILURE() << "cannot open fixture " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

// A file of this machine's /proc, "" when it has none (the caller skips).
inline std::string read_live_proc(std::string_view relative) {
  std::ifstream stream("/proc/" + std::string(relative), std::ios::binary);
  if (!stream) return {};
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

}  // namespace hostpulse::testing_support
