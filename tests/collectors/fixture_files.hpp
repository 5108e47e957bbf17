#pragma once

// Test-only access to tests/fixtures. Reads with std::ifstream on purpose:
// the fixtures must not be loaded through the FileReader under test.

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace hostpulse::testing_support {

inline std::string fixture_root(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/" + std::string(case_name);
}

inline std::string read_fixture(std::string_view case_name, std::string_view file_name) {
  const std::string path = fixture_root(case_name) + "/" + std::string(file_name);
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    ADD_FAILURE() << "cannot open fixture " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

// Cases whose every file is well formed, and cases whose every file must fail.
inline constexpr std::string_view kGoodCases[] = {"linux6_2cpu",  "linux6_64cpu",   "linux6_256cpu", "linux2_6_old",
                                                  "extra_fields", "missing_fields", "cpu_offline"};
inline constexpr std::string_view kBadCases[] = {"truncated", "garbage", "empty"};

}  // namespace hostpulse::testing_support
