#include "collectors/linux/pressure.hpp"

#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/collectors/linux/proc_host_fixtures.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::host_fixture_settings;
using testing_support::RecordingSeriesWriter;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

std::span<const SeriesSpec> pressure_series() { return pressure_source().series; }

constexpr std::size_t kCpu = 0, kMemory = 1, kIo = 2, kIrq = 3;

Status read_tree(std::string_view case_name, Pressure& out) {
  PressureState state(host_fixture_settings(case_name));
  return read_pressure(state, {}, out);
}

TEST(PressureParseTest, ParsesSomeAndFull) {
  PressureFile file;
  const Status status = parse_pressure_file(
      "some avg10=5.78 avg60=2.81 avg300=4.56 total=5041034753\n"
      "full avg10=0.00 avg60=0.01 avg300=0.00 total=17\n",
      "cpu", file);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(file.some.present);
  EXPECT_DOUBLE_EQ(file.some.avg10_pct, 5.78);
  EXPECT_DOUBLE_EQ(file.some.avg60_pct, 2.81);
  EXPECT_DOUBLE_EQ(file.some.avg300_pct, 4.56);
  EXPECT_EQ(file.some.total_us, 5041034753u);
  EXPECT_TRUE(file.full.present);
  EXPECT_DOUBLE_EQ(file.full.avg60_pct, 0.01);
  EXPECT_EQ(file.full.total_us, 17u);
}

TEST(PressureParseTest, FullOnlyAsIrqPrintsIt) {
  PressureFile file;
  ASSERT_TRUE(parse_pressure_file("full avg10=0.05 avg60=0.02 avg300=0.01 total=4242\n", "irq", file).ok());
  EXPECT_FALSE(file.some.present);
  EXPECT_TRUE(file.full.present);
  EXPECT_EQ(file.full.total_us, 4242u);
}

TEST(PressureParseTest, IgnoresUnknownKeysAndReordering) {
  PressureFile file;
  const Status status =
      parse_pressure_file("some total=9 avg300=3.00 avg60=2.00 avg10=1.00 avg1200=7.00\r\n", "io", file);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_DOUBLE_EQ(file.some.avg10_pct, 1.0);
  EXPECT_DOUBLE_EQ(file.some.avg300_pct, 3.0);
  EXPECT_EQ(file.some.total_us, 9u);
}

TEST(PressureParseTest, ClearsWhatAPreviousParseFilled) {
  PressureFile file;
  ASSERT_TRUE(parse_pressure_file("some avg10=1 avg60=1 avg300=1 total=1\nfull avg10=1 avg60=1 avg300=1 total=1\n",
                                  "cpu", file)
                  .ok());
  ASSERT_TRUE(parse_pressure_file("some avg10=1 avg60=1 avg300=1 total=1\n", "cpu", file).ok());
  EXPECT_FALSE(file.full.present);
}

struct BadPressureCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};
void PrintTo(const BadPressureCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class PressureBadTest : public ::testing::TestWithParam<BadPressureCase> {};

TEST_P(PressureBadTest, FailsNamingFileAndLine) {
  PressureFile file;
  const Status status = parse_pressure_file(GetParam().text, "memory", file);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, PressureBadTest,
    ::testing::Values(
        BadPressureCase{"empty", "", "pressure/memory: file is empty"},
        BadPressureCase{"truncated", "some avg10=1.00 avg60=1.00 avg300=1.00 total=12", "does not end with a newline"},
        BadPressureCase{"unknown_kind", "most avg10=1 avg60=1 avg300=1 total=1\n",
                        "pressure/memory line 1: expected 'some' or 'full', got 'most'"},
        BadPressureCase{"blank_line", "some avg10=1 avg60=1 avg300=1 total=1\n\n", "line 2: expected 'some' or 'full', got an empty line"},
        BadPressureCase{"twice", "some avg10=1 avg60=1 avg300=1 total=1\nsome avg10=1 avg60=1 avg300=1 total=1\n",
                        "line 2: 'some' appears twice"},
        BadPressureCase{"key_twice", "some avg10=1 avg10=1 avg60=1 avg300=1 total=1\n", "line 1: avg10 appears twice"},
        BadPressureCase{"total_missing", "full avg10=1 avg60=1 avg300=1\n", "line 1: total missing"},
        BadPressureCase{"no_equals", "some avg10 1 avg60=1 avg300=1 total=1\n", "line 1: expected key=value, got 'avg10'"},
        BadPressureCase{"word_average", "some avg10=lots avg60=1 avg300=1 total=1\n", "avg10: expected a number, got 'lots'"},
        BadPressureCase{"negative_average", "some avg10=-1.00 avg60=1 avg300=1 total=1\n", "avg10: expected a non-negative number"},
        BadPressureCase{"average_above_100", "some avg10=100.01 avg60=1 avg300=1 total=1\n", "avg10: '100.01' is above 100 percent"},
        BadPressureCase{"nan_average", "some avg10=nan avg60=1 avg300=1 total=1\n", "avg10: expected a finite number"},
        BadPressureCase{"huge_total", "some avg10=1 avg60=1 avg300=1 total=18446744073709551616\n",
                        "total: value '18446744073709551616' does not fit in 64 bits"},
        BadPressureCase{"negative_total", "some avg10=1 avg60=1 avg300=1 total=-5\n", "total: expected a non-negative number"},
        BadPressureCase{"control_bytes", "some avg10=1\x01 avg60=1 avg300=1 total=1\n", "got '1\\x01'"},
        BadPressureCase{"nul", "some avg10=1 avg60=1 avg300=1 total=1\0\n"sv, "total: expected a number, got '1\\x00'"}),
    [](const ::testing::TestParamInfo<BadPressureCase>& param_info) { return std::string(param_info.param.name); });

TEST(PressureReadTest, CapturedTreeHasCpuMemoryIoButNoIrq) {
  Pressure pressure;
  const Status status = read_tree("psi_this_vm", pressure);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(pressure.present[kCpu]);
  EXPECT_TRUE(pressure.present[kMemory]);
  EXPECT_TRUE(pressure.present[kIo]);
  EXPECT_FALSE(pressure.present[kIrq]);
  // Copied by hand from tests/fixtures/hosts/psi_this_vm/proc/pressure/.
  EXPECT_DOUBLE_EQ(pressure.files[kCpu].some.avg10_pct, 29.06);
  EXPECT_EQ(pressure.files[kCpu].some.total_us, 5087381762u);
  EXPECT_TRUE(pressure.files[kCpu].full.present);
  EXPECT_EQ(pressure.files[kCpu].full.total_us, 0u);
  EXPECT_DOUBLE_EQ(pressure.files[kIo].full.avg300_pct, 0.23);
  EXPECT_EQ(pressure.files[kIo].full.total_us, 80553497u);
  EXPECT_EQ(pressure.files[kMemory].some.total_us, 0u);
}

TEST(PressureReadTest, TreeWithIrqAndAnOldKernelsCpu) {
  Pressure pressure;
  ASSERT_TRUE(read_tree("psi_with_irq", pressure).ok());
  EXPECT_TRUE(pressure.present[kIrq]);
  EXPECT_FALSE(pressure.files[kIrq].some.present);
  EXPECT_EQ(pressure.files[kIrq].full.total_us, 4242u);
  EXPECT_EQ(pressure.files[kIo].some.total_us, 18446744073709551615u);

  ASSERT_TRUE(read_tree("psi_old_kernel", pressure).ok());
  EXPECT_TRUE(pressure.files[kCpu].some.present);
  EXPECT_FALSE(pressure.files[kCpu].full.present);  // cpu "full" arrived in 5.13
  EXPECT_FALSE(pressure.present[kIrq]);
}

TEST(PressureReadTest, NoPressureDirectoryIsAbsentNotAFailure) {
  Pressure pressure;
  const Status status = read_tree("psi_none", pressure);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("pressure stall information not present"));

  const Status empty = read_tree("psi_no_files", pressure);
  EXPECT_TRUE(empty.unavailable);
  EXPECT_THAT(empty.error, HasSubstr("holds none of cpu, memory, io, irq"));
}

TEST(PressureReadTest, DamagedFilesFailNamingThePath) {
  for (const std::string_view case_name : {"psi_garbage", "psi_truncated", "psi_hostile"}) {
    SCOPED_TRACE(case_name);
    Pressure pressure;
    const Status status = read_tree(case_name, pressure);
    ASSERT_FALSE(status.ok());
    EXPECT_FALSE(status.unavailable);
    EXPECT_THAT(status.error, HasSubstr("/hosts/" + std::string(case_name) + "/proc/pressure/"));
  }
  Pressure pressure;
  EXPECT_THAT(read_tree("psi_truncated", pressure).error, HasSubstr("pressure/cpu: text does not end with a newline"));
  EXPECT_THAT(read_tree("psi_hostile", pressure).error, HasSubstr("pressure/io line 1: total: value"));
}

TEST(PressureReadTest, FifoInPlaceOfAResourceFileFailsWithoutBlocking) {
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("pressure"));
  root.write("pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n");
  ASSERT_EQ(::mkfifo(root.file("pressure/memory").c_str(), 0600), 0);
  SourceSettings settings;
  settings.paths.proc = root.path();
  PressureState state(settings);
  Pressure pressure;
  const Status status = read_pressure(state, {}, pressure);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("pressure/memory: is a FIFO, not a regular file"));
}

Pressure parsed(std::string_view cpu, std::string_view irq = {}) {
  Pressure pressure;
  EXPECT_TRUE(parse_pressure_file(cpu, "cpu", pressure.files[kCpu]).ok());
  pressure.present[kCpu] = true;
  if (!irq.empty()) {
    EXPECT_TRUE(parse_pressure_file(irq, "irq", pressure.files[kIrq]).ok());
    pressure.present[kIrq] = true;
  }
  return pressure;
}

TEST(PressureDeriveTest, AveragesAsTheyAreAndStallFromTotal) {
  const Pressure before = parsed("some avg10=1.00 avg60=2.00 avg300=3.00 total=1000000\n"
                                 "full avg10=0.10 avg60=0.20 avg300=0.30 total=500\n",
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  const Pressure after = parsed("some avg10=4.50 avg60=2.25 avg300=3.00 total=1500000\n"
                                "full avg10=0.10 avg60=0.20 avg300=0.30 total=20500\n",
                                "full avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\n");
  RecordingSeriesWriter out(pressure_series());
  derive_pressure(&before, after, DeriveContext{.elapsed_s = 2.0, .facts = {}}, out);
  EXPECT_EQ(out.entities, (std::vector<std::pair<std::string, std::string>>{{"resource", "cpu"}, {"resource", "irq"}}));
  EXPECT_DOUBLE_EQ(out.values.at("pressure.cpu.some_avg10_pct"), 4.5);
  EXPECT_DOUBLE_EQ(out.values.at("pressure.cpu.some_avg60_pct"), 2.25);
  EXPECT_DOUBLE_EQ(out.values.at("pressure.cpu.full_avg300_pct"), 0.3);
  // 500,000 us stalled over 2 s = 25 %; 20,000 us over 2 s = 1 %.
  EXPECT_DOUBLE_EQ(out.values.at("pressure.cpu.some_stall_pct"), 25.0);
  EXPECT_DOUBLE_EQ(out.values.at("pressure.cpu.full_stall_pct"), 1.0);
  // irq has only "full": no "some" series at all.
  EXPECT_EQ(out.values.count("pressure.irq.some_avg10_pct"), 0u);
  EXPECT_EQ(out.values.count("pressure.irq.some_stall_pct"), 0u);
  EXPECT_DOUBLE_EQ(out.values.at("pressure.irq.full_stall_pct"), 100.0);
}

TEST(PressureDeriveTest, NoStallValueWithoutPreviousOrWhenTotalGoesBack) {
  const Pressure high = parsed("some avg10=1 avg60=1 avg300=1 total=900\n");
  const Pressure low = parsed("some avg10=1 avg60=1 avg300=1 total=100\n");
  RecordingSeriesWriter first(pressure_series());
  derive_pressure(nullptr, low, DeriveContext{.elapsed_s = 1.0, .facts = {}}, first);
  EXPECT_DOUBLE_EQ(first.values.at("pressure.cpu.some_avg10_pct"), 1.0);
  EXPECT_TRUE(std::isnan(first.values.at("pressure.cpu.some_stall_pct")));

  RecordingSeriesWriter backwards(pressure_series());
  derive_pressure(&high, low, DeriveContext{.elapsed_s = 1.0, .facts = {}}, backwards);
  EXPECT_TRUE(std::isnan(backwards.values.at("pressure.cpu.some_stall_pct")));

  RecordingSeriesWriter no_time(pressure_series());
  derive_pressure(&low, high, DeriveContext{.elapsed_s = 0.0, .facts = {}}, no_time);
  EXPECT_TRUE(std::isnan(no_time.values.at("pressure.cpu.some_stall_pct")));

  // A resource that just appeared has no previous total.
  Pressure without_cpu;
  RecordingSeriesWriter appeared(pressure_series());
  derive_pressure(&without_cpu, high, DeriveContext{.elapsed_s = 1.0, .facts = {}}, appeared);
  EXPECT_TRUE(std::isnan(appeared.values.at("pressure.cpu.some_stall_pct")));
}

TEST(PressureCollectorSetTest, CollectsFixtureTreeAndReportsAbsence) {
  const SourceDefinition definitions[] = {pressure_source()};
  {
    CollectorSet collectors(host_fixture_settings("psi_with_irq"), definitions);
    EXPECT_EQ(collectors.collect_all(), 0u);
    collectors.advance_all();
    EXPECT_EQ(collectors.collect_all(), 0u);
    std::vector<std::pair<std::string, std::string>> entities;
    const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
    EXPECT_EQ(entities.size(), 4u);
    EXPECT_DOUBLE_EQ(values.at("pressure.memory.some_avg10_pct"), 12.0);
    EXPECT_DOUBLE_EQ(values.at("pressure.irq.full_avg10_pct"), 0.05);
    EXPECT_DOUBLE_EQ(values.at("pressure.io.full_avg10_pct"), 100.0);
    EXPECT_DOUBLE_EQ(values.at("pressure.cpu.some_stall_pct"), 0.0);  // same file twice
  }
  {
    CollectorSet collectors(host_fixture_settings("psi_none"), definitions);
    const Status status = collectors.collect_one(0);
    EXPECT_TRUE(status.unavailable);
    EXPECT_EQ(collectors.collect_all(), 0u);  // absent is not counted as failed
    EXPECT_FALSE(collectors.source(0).current_ok());
  }
}

TEST(PressureExposeTest, NodeExporterTotalsInSecondsWithoutCpuFull) {
  // cpu, io, memory from this VM: cpu "full" (0 system-wide) is not a family.
  Pressure pressure;
  ASSERT_TRUE(read_tree("psi_this_vm", pressure).ok());
  testing_support::RecordingMetricWriter writer(pressure_source().metrics);
  expose_pressure(pressure, writer);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples,
              ::testing::ElementsAre(metric_sample("node_pressure_cpu_waiting_seconds_total", {}, 5087.381762),
                                     metric_sample("node_pressure_io_waiting_seconds_total", {}, 129.5451),
                                     metric_sample("node_pressure_io_stalled_seconds_total", {}, 80.553497),
                                     metric_sample("node_pressure_memory_waiting_seconds_total", {}, 0),
                                     metric_sample("node_pressure_memory_stalled_seconds_total", {}, 0)));
}

TEST(PressureExposeTest, IrqHasOnlyStalledAndAnOldCpuOnlyWaiting) {
  Pressure pressure;
  ASSERT_TRUE(read_tree("psi_with_irq", pressure).ok());
  testing_support::RecordingMetricWriter writer(pressure_source().metrics);
  expose_pressure(pressure, writer);
  EXPECT_EQ(writer.value("node_pressure_irq_stalled_seconds_total"), 0.004242);
  EXPECT_EQ(writer.value("node_pressure_cpu_waiting_seconds_total"), 123.456789);
  EXPECT_EQ(writer.value("node_pressure_io_waiting_seconds_total"), 18446744073709551615.0 / 1e6);
  EXPECT_EQ(writer.samples.size(), 6u);
}

TEST(PressureLiveTest, ReadsThisMachine) {
  std::ifstream probe("/proc/pressure/cpu");
  if (!probe) GTEST_SKIP() << "this kernel has no /proc/pressure (PSI off or before 4.20)";
  PressureState state(SourceSettings{});
  Pressure pressure;
  const Status status = read_pressure(state, {}, pressure);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(pressure.present[kCpu]);
  EXPECT_TRUE(pressure.files[kCpu].some.present);
  EXPECT_EQ(pressure.present[kIrq], static_cast<bool>(std::ifstream("/proc/pressure/irq")));
}

}  // namespace
}  // namespace hostpulse
