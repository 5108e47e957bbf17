// Golden end-to-end check of the sources: read fixture procfs A, then B,
// derive with 1 s between them, and compare every series (name and value)
// with tests/fixtures/golden/<case>.txt. The golden files were written by the
// agent before sources owned their series, so they pin that the port changed
// no name and no number. HOSTPULSE_UPDATE_GOLDEN=1 rewrites them instead
// (review the diff: a changed number is a changed user-visible value).

#include <charconv>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

struct GoldenCase {
  const char* name;
  const char* before;  // fixture folders under tests/fixtures/proc
  const char* after;
};

// Real captures, generated big machines, an old kernel, an offline CPU, and
// the odd transitions: counters going backwards, no time passing, every
// source failing.
constexpr GoldenCase kCases[] = {
    {"vm2cpu", "vm2cpu_t0", "vm2cpu_t1"},
    {"linux6_64cpu", "linux6_64cpu", "linux6_64cpu_t1"},
    {"linux6_256cpu", "linux6_256cpu", "linux6_256cpu_t1"},
    {"linux2_6_old", "linux2_6_old", "linux2_6_old_t1"},
    {"cpu_offline", "cpu_offline", "cpu_offline_t1"},
    {"counters_went_back", "vm2cpu_t1", "vm2cpu_t0"},
    {"no_ticks_passed", "linux6_2cpu", "linux6_2cpu"},
    {"sources_fail", "vm2cpu_t0", "garbage"},
};

std::string fixture(const char* name) { return std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/" + name; }
std::string golden_path(const char* name) { return std::string(HOSTPULSE_FIXTURES_DIR) + "/golden/" + name + ".txt"; }

// Shortest text that reads back as the same double; "null" for no value.
std::string format_value(double value) {
  if (value != value) return "null";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Puts a fixture folder's files where the sources read them, as the kernel
// would between two reads.
void install_fixture(const char* folder, const std::string& proc) {
  for (const auto& entry : std::filesystem::directory_iterator(fixture(folder))) {
    std::filesystem::copy_file(entry.path(), proc + "/" + entry.path().filename().string(),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

// name -> value, sorted by name so the file does not depend on id order.
// Reads `before` as a first read, then `after` one second later, through the
// platform's sources and the series registry, as the sampler does.
std::map<std::string, std::string> derive_case(const GoldenCase& golden) {
  testing_support::TempDir proc;
  install_fixture(golden.before, proc.path());
  CollectorSet collectors(HostPaths{proc.path(), "/nonexistent-sysfs"}, core_sources());
  SeriesRegistry registry(core_sources());
  std::vector<double> values;
  const auto writer_for = [&registry](std::size_t index) -> SeriesWriter& { return registry.writer(index); };

  collectors.collect_all();
  registry.begin_tick(1, values);
  collectors.derive_all(0.0, writer_for);
  registry.end_tick(collectors);
  collectors.advance_all();

  install_fixture(golden.after, proc.path());
  collectors.collect_all();
  registry.begin_tick(2, values);
  collectors.derive_all(1.0, writer_for);
  registry.end_tick(collectors);

  const SchemaSnapshot schema = registry.schema();
  std::map<std::string, std::string> lines;
  for (const SeriesInfo& info : schema->series()) {
    if (info.live) lines[info.name] = format_value(values[info.id]);
  }
  return lines;
}

std::string render(const std::map<std::string, std::string>& lines) {
  std::string text;
  for (const auto& [name, value] : lines) text += name + " " + value + "\n";
  return text;
}

std::string read_text(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

class GoldenDerive : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenDerive, EverySeriesMatchesTheGoldenFile) {
  const GoldenCase& golden = GetParam();
  const std::string actual = render(derive_case(golden));
  const std::string path = golden_path(golden.name);
  if (std::getenv("HOSTPULSE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  const std::string expected = read_text(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path << " (HOSTPULSE_UPDATE_GOLDEN=1 writes it)";
  // Line by line, so a failure names the series.
  std::istringstream expected_lines(expected);
  std::istringstream actual_lines(actual);
  std::string want;
  std::string got;
  std::size_t line = 0;
  while (std::getline(expected_lines, want)) {
    ++line;
    ASSERT_TRUE(std::getline(actual_lines, got)) << path << ":" << line << ": missing " << want;
    EXPECT_EQ(got, want) << path << ":" << line;
  }
  EXPECT_FALSE(std::getline(actual_lines, got)) << path << ": unexpected extra series " << got;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenDerive, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<GoldenCase>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace hostpulse
