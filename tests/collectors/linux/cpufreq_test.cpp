#include "collectors/linux/cpufreq.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::RecordingSeriesWriter;
using ::testing::HasSubstr;

std::string host_root(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

SourceSettings settings_for(const std::string& root) {
  return SourceSettings{.paths = HostPaths{.proc = root + "/proc", .sys = root + "/sys", .rootfs = "/"}};
}

struct FrequencyCase {
  std::string_view name;
  std::string_view text;
  bool ok;
  double hertz;  // NaN: no value
  std::string_view message_part;
};
void PrintTo(const FrequencyCase& c, std::ostream* os) { *os << c.name; }
class ScalingCurFreqTest : public ::testing::TestWithParam<FrequencyCase> {};

TEST_P(ScalingCurFreqTest, ParsesKilohertzIntoHertz) {
  const FrequencyCase& c = GetParam();
  double hertz = -1;
  const Status status = parse_scaling_cur_freq(c.text, "scaling_cur_freq", hertz);
  ASSERT_EQ(status.ok(), c.ok) << status.error;
  if (!c.ok) {
    EXPECT_THAT(status.error, HasSubstr(c.message_part));
  } else if (std::isnan(c.hertz)) {
    EXPECT_TRUE(std::isnan(hertz));
  } else {
    EXPECT_EQ(hertz, c.hertz);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ScalingCurFreqTest,
    ::testing::Values(FrequencyCase{"typical", "2400000\n", true, 2.4e9, ""},
                      FrequencyCase{"odd_khz", "3100123\n", true, 3100123000.0, ""},
                      FrequencyCase{"zero", "0\n", true, 0.0, ""},
                      FrequencyCase{"unknown", "<unknown>\n", true, NAN, ""},
                      FrequencyCase{"one_terahertz", "1000000000\n", true, 1e12, ""},
                      FrequencyCase{"absurd", "1000000001\n", false, 0, "kHz is not a CPU clock"},
                      FrequencyCase{"negative", "-1\n", false, 0, "'-1' kHz is not a CPU clock"},
                      FrequencyCase{"word", "fast\n", false, 0, "expected an integer, got 'fast'"},
                      FrequencyCase{"truncated", "2400000", false, 0, "does not end with a newline"},
                      FrequencyCase{"empty", "", false, 0, "file is empty"},
                      FrequencyCase{"megahertz", "2400.5\n", false, 0, "got '2400.5'"}),
    [](const ::testing::TestParamInfo<FrequencyCase>& param_info) { return std::string(param_info.param.name); });

std::map<std::string, double> derive(const CpufreqRead& raw) {
  RecordingSeriesWriter writer(cpufreq_source().series);
  derive_cpufreq(nullptr, raw, DeriveContext{}, writer);
  return writer.values;
}

TEST(CpufreqFixtureTest, LaptopGivesOnlineCpusAndSkipsTheOfflineOne) {
  CpufreqState state(settings_for(host_root("sensors_laptop")));
  CpufreqRead raw;
  const Status status = read_cpufreq(state, {}, raw);
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = derive(raw);
  EXPECT_EQ(values, (std::map<std::string, double>{
                        {"cpu.0.freq_hz", 2.4e9}, {"cpu.1.freq_hz", 3100123000.0}, {"cpu.3.freq_hz", 8e8}}));
}

TEST(CpufreqFixtureTest, ServerOrdersCpusByNumberAndKeepsUnknownAsNoValue) {
  CpufreqState state(settings_for(host_root("sensors_server")));
  CpufreqRead raw;
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  ASSERT_EQ(raw.cpus.size(), 32u);
  for (std::size_t i = 0; i < raw.cpus.size(); ++i) EXPECT_EQ(raw.cpus[i].cpu, std::to_string(i));
  EXPECT_EQ(raw.cpus[31].hertz, (2000000.0 + 31 * 50000) * 1000);
  EXPECT_TRUE(std::isnan(raw.cpus[7].hertz));
}

TEST(CpufreqFixtureTest, GarbageFailsNamingTheFile) {
  CpufreqState state(settings_for(host_root("sensors_garbage")));
  CpufreqRead raw;
  const Status status = read_cpufreq(state, {}, raw);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("cpu1/cpufreq/scaling_cur_freq: expected an integer, got 'fast'"));
}

TEST(CpufreqFixtureTest, CpusWithoutCpufreqOrNoCpuFolderAreAbsent) {
  for (const std::string& root : {host_root("sensors_none"), host_root("no_such_case")}) {
    SCOPED_TRACE(root);
    CpufreqState state(settings_for(root));
    CpufreqRead raw;
    const Status status = read_cpufreq(state, {}, raw);
    EXPECT_TRUE(status.unavailable);
    EXPECT_THAT(status.error, HasSubstr("no cpufreq: no " + root + "/sys/devices/system/cpu/cpuN/cpufreq"));
  }
}

TEST(CpufreqFixtureTest, CollectorSetReadsThroughHostPaths) {
  static const SourceDefinition definitions[] = {cpufreq_source()};
  CollectorSet collectors(settings_for(host_root("sensors_laptop")), definitions);
  EXPECT_EQ(definitions[0].name, "cpufreq");
  ASSERT_EQ(definitions[0].series.size(), 1u);
  EXPECT_EQ(definitions[0].series[0].name, "cpu.{cpu}.freq_hz");
  EXPECT_EQ(definitions[0].series[0].unit, "hertz");
  EXPECT_EQ(definitions[0].series[0].decimals, 0);
  EXPECT_EQ(collectors.collect_all(), 0u);
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  EXPECT_EQ(values.at("cpu.3.freq_hz"), 8e8);
  EXPECT_EQ(entities, (std::vector<std::pair<std::string, std::string>>{{"cpu", "0"}, {"cpu", "1"}, {"cpu", "3"}}));
}

TEST(CpufreqTreeTest, CpuGoingOfflineAndComingBack) {
  testing_support::TempDir root;
  const std::string cpu = root.path() + "/sys/devices/system/cpu";
  for (const char* n : {"0", "1"}) {
    std::filesystem::create_directories(cpu + "/cpu" + n + "/cpufreq");
    std::ofstream(cpu + "/cpu" + n + "/cpufreq/scaling_cur_freq") << "1000000\n";
  }
  CpufreqState state(settings_for(root.path()));
  CpufreqRead raw;
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  EXPECT_EQ(raw.cpus.size(), 2u);
  std::filesystem::remove_all(cpu + "/cpu1/cpufreq");
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  ASSERT_EQ(raw.cpus.size(), 1u);
  EXPECT_EQ(raw.cpus[0].cpu, "0");
  std::filesystem::create_directories(cpu + "/cpu1/cpufreq");
  std::ofstream(cpu + "/cpu1/cpufreq/scaling_cur_freq") << "1200000\n";
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  ASSERT_EQ(raw.cpus.size(), 2u);
  EXPECT_EQ(raw.cpus[1].hertz, 1.2e9);
}

// The tree tests/fixtures/make_large_host.py writes, when a run points
// HOSTPULSE_LARGE_HOST at one.
TEST(CpufreqLargeHostTest, GeneratedTreeGivesEveryCpu) {
  const char* root = std::getenv("HOSTPULSE_LARGE_HOST");
  if (root == nullptr) GTEST_SKIP() << "HOSTPULSE_LARGE_HOST not set";
  CpufreqState state(settings_for(root));
  CpufreqRead raw;
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  EXPECT_EQ(raw.cpus.size(), 64u);
}

TEST(CpufreqLiveTest, ThisMachineHasNoCpufreqAndReportsItAbsent) {
  if (std::filesystem::exists("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) {
    GTEST_SKIP() << "this machine has cpufreq; the absent path is tested on fixtures";
  }
  static const SourceDefinition definitions[] = {cpufreq_source()};
  CollectorSet collectors(SourceSettings{}, definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable) << status.error;
  EXPECT_THAT(status.error, HasSubstr("no cpufreq: no /sys/devices/system/cpu/cpuN/cpufreq"));
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(CpufreqExposeTest, NodeExporterScalingFrequencyPerOnlineCpu) {
  CpufreqState state(settings_for(host_root("sensors_laptop")));
  CpufreqRead raw;
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  testing_support::RecordingMetricWriter writer(cpufreq_source().metrics);
  expose_cpufreq(raw, writer);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples,
              ::testing::ElementsAre(metric_sample("node_cpu_scaling_frequency_hertz", {{"cpu", "0"}}, 2.4e9),
                                     metric_sample("node_cpu_scaling_frequency_hertz", {{"cpu", "1"}}, 3100123000.0),
                                     metric_sample("node_cpu_scaling_frequency_hertz", {{"cpu", "3"}}, 8e8)));
}

TEST(CpufreqExposeTest, UnknownFrequencyHasNoSample) {
  CpufreqState state(settings_for(host_root("sensors_server")));
  CpufreqRead raw;
  ASSERT_TRUE(read_cpufreq(state, {}, raw).ok());
  testing_support::RecordingMetricWriter writer(cpufreq_source().metrics);
  expose_cpufreq(raw, writer);
  EXPECT_EQ(writer.samples.size(), 31u);
  EXPECT_EQ(writer.value("node_cpu_scaling_frequency_hertz", {"7"}), std::nullopt);
  EXPECT_EQ(writer.value("node_cpu_scaling_frequency_hertz", {"31"}), (2000000.0 + 31 * 50000) * 1000);
}

}  // namespace
}  // namespace hostpulse
