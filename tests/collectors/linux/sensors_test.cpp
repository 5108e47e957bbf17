#include "collectors/linux/sensors.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "collectors/linux/sysfs_attribute.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::RecordingSeriesWriter;
using testing_support::TempDir;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

std::string host_root(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

SourceSettings settings_for(const std::string& root) {
  return SourceSettings{.paths = HostPaths{.proc = root + "/proc", .sys = root + "/sys", .rootfs = "/"}};
}

// Reads once through the source's own functions and derives with a recorder.
struct SensorsRun {
  explicit SensorsRun(const std::string& root) : state(settings_for(root)) {}
  Status read() { return read_sensors(state, {}, raw); }
  std::map<std::string, double> derive() {
    RecordingSeriesWriter writer(sensors_source().series);
    derive_sensors(nullptr, raw, DeriveContext{}, writer);
    entities = writer.entities;
    return writer.values;
  }
  SensorsState state;
  SensorsRead raw;
  std::vector<std::pair<std::string, std::string>> entities;
};

// --- pure parts, table-driven -------------------------------------------------

struct IntegerCase {
  std::string_view name;
  std::string_view text;
  bool ok;
  std::int64_t value;
  std::string_view message_part;
};
void PrintTo(const IntegerCase& c, std::ostream* os) { *os << c.name; }
class SysfsIntegerTest : public ::testing::TestWithParam<IntegerCase> {};

TEST_P(SysfsIntegerTest, ParsesWholeTokenIntegers) {
  const IntegerCase& c = GetParam();
  std::int64_t value = 0;
  const Status status = sysfs_attribute::parse_integer(c.text, "temp1_input", value);
  ASSERT_EQ(status.ok(), c.ok) << status.error;
  if (c.ok) {
    EXPECT_EQ(value, c.value);
  } else {
    EXPECT_THAT(status.error, HasSubstr(c.message_part));
    EXPECT_THAT(status.error, ::testing::StartsWith("temp1_input: "));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, SysfsIntegerTest,
    ::testing::Values(IntegerCase{"positive", "45000\n", true, 45000, ""},
                      IntegerCase{"negative", "-5000\n", true, -5000, ""},
                      IntegerCase{"zero", "0\n", true, 0, ""},
                      IntegerCase{"int64_max", "9223372036854775807\n", true, INT64_MAX, ""},
                      IntegerCase{"empty", "", false, 0, "file is empty"},
                      IntegerCase{"truncated", "45000", false, 0, "does not end with a newline"},
                      IntegerCase{"blank", "\n", false, 0, "expected an integer, got nothing"},
                      IntegerCase{"word", "forty two\n", false, 0, "expected an integer, got 'forty two'"},
                      IntegerCase{"decimal", "45.5\n", false, 0, "got '45.5'"},
                      IntegerCase{"plus", "+5\n", false, 0, "got '+5'"},
                      IntegerCase{"hex", "0x10\n", false, 0, "got '0x10'"},
                      IntegerCase{"leading_space", " 5\n", false, 0, "got ' 5'"},
                      IntegerCase{"two_lines", "1\n2\n", false, 0, "expected one line"},
                      IntegerCase{"overflow", "99999999999999999999\n", false, 0, "does not fit in 64 bits"},
                      IntegerCase{"nul", "4\0005\n"sv, false, 0, "got '4\\x005'"}),
    [](const ::testing::TestParamInfo<IntegerCase>& param_info) { return std::string(param_info.param.name); });

TEST(SensorsConversionTest, MillidegreesToCelsiusKeepsPlausibleValuesToATenth) {
  const struct {
    std::int64_t millidegrees;
    double celsius;  // NaN: no value
  } cases[] = {
      {45000, 45.0},   {38850, 38.9},      {-5000, -5.0},  {-273150, -273.2}, {0, 0.0},
      {999999, 1000.0}, {1000000, NAN},    {-273151, NAN}, {2000000000, NAN}, {255500, 255.5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.millidegrees);
    const double got = millidegrees_to_celsius(c.millidegrees);
    if (std::isnan(c.celsius)) {
      EXPECT_TRUE(std::isnan(got)) << got;
    } else {
      EXPECT_DOUBLE_EQ(got, c.celsius);
    }
  }
}

TEST(SensorsConversionTest, RpmOutsideWhatAFanCanDoIsNoValue) {
  EXPECT_EQ(plausible_rpm(0), 0.0);
  EXPECT_EQ(plausible_rpm(2435), 2435.0);
  EXPECT_EQ(plausible_rpm(kMaxPlausibleRpm), static_cast<double>(kMaxPlausibleRpm));
  EXPECT_TRUE(std::isnan(plausible_rpm(kMaxPlausibleRpm + 1)));
  EXPECT_TRUE(std::isnan(plausible_rpm(-1)));
}

TEST(SensorsConversionTest, OnlyTheCriticalTripIsCritical) {
  EXPECT_TRUE(is_critical_trip("critical\n"));
  EXPECT_TRUE(is_critical_trip("critical"));
  EXPECT_FALSE(is_critical_trip("hot\n"));
  EXPECT_FALSE(is_critical_trip("passive\n"));
  EXPECT_FALSE(is_critical_trip("critical \n"));
  EXPECT_FALSE(is_critical_trip(""));
}

TEST(SensorsConversionTest, HardwareErrorsAreNoValueSetupErrorsAreNot) {
  for (const int error_number : {EIO, ENODATA, ENXIO, ENODEV, ETIMEDOUT, EAGAIN, EINVAL, EOPNOTSUPP, EBUSY, EREMOTEIO,
                                 ENOENT}) {
    EXPECT_TRUE(sysfs_attribute::is_no_value_error(error_number)) << error_number;
  }
  for (const int error_number : {0, EACCES, EPERM, EMFILE, ENFILE, ENOMEM, ELOOP}) {
    EXPECT_FALSE(sysfs_attribute::is_no_value_error(error_number)) << error_number;
  }
}

TEST(SensorsConversionTest, UsableNamesAreShortPrintableAndSlashFree) {
  EXPECT_TRUE(sysfs_attribute::usable_name("Package id 0", 100));
  EXPECT_TRUE(sysfs_attribute::usable_name("100% %zz", 100));
  EXPECT_FALSE(sysfs_attribute::usable_name("", 100));
  EXPECT_FALSE(sysfs_attribute::usable_name("bad\x01label", 100));
  EXPECT_FALSE(sysfs_attribute::usable_name("a/b", 100));
  EXPECT_FALSE(sysfs_attribute::usable_name(std::string(101, 'L'), 100));
  EXPECT_TRUE(sysfs_attribute::usable_name(std::string(100, 'L'), 100));
}

// --- fixture hosts ------------------------------------------------------------

TEST(SensorsFixtureTest, LaptopGivesCoretempNvmeAcpiZonesAndFan) {
  SensorsRun run(host_root("sensors_laptop"));
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = run.derive();
  // Values written by hand from tests/fixtures/hosts/sensors_laptop.
  EXPECT_EQ(values.at("sensor.coretemp/Package id 0.temp_celsius"), 52.0);
  EXPECT_EQ(values.at("sensor.coretemp/Package id 0.temp_max_celsius"), 100.0);
  EXPECT_EQ(values.at("sensor.coretemp/Package id 0.temp_crit_celsius"), 100.0);
  for (int core = 0; core < 4; ++core) {
    EXPECT_EQ(values.at("sensor.coretemp/Core " + std::to_string(core) + ".temp_celsius"), 49.0 + core);
  }
  EXPECT_EQ(values.at("sensor.nvme/Composite.temp_celsius"), 38.9);
  EXPECT_EQ(values.at("sensor.nvme/Composite.temp_max_celsius"), 81.9);
  EXPECT_EQ(values.at("sensor.nvme/Composite.temp_crit_celsius"), 84.9);
  EXPECT_EQ(values.at("sensor.acpitz/temp1.temp_celsius"), 45.0);
  EXPECT_TRUE(std::isnan(values.at("sensor.acpitz/temp1.temp_max_celsius")));
  EXPECT_EQ(values.at("sensor.acpitz/temp1.temp_crit_celsius"), 98.0);
  EXPECT_EQ(values.at("sensor.thermal/acpitz.temp_celsius"), 45.0);
  EXPECT_EQ(values.at("sensor.thermal/acpitz.temp_crit_celsius"), 98.0);  // trip 0 is critical
  EXPECT_EQ(values.at("sensor.thermal/x86_pkg_temp.temp_celsius"), 52.0);
  EXPECT_TRUE(std::isnan(values.at("sensor.thermal/x86_pkg_temp.temp_crit_celsius")));  // passive only
  EXPECT_EQ(values.at("fan.thinkpad/fan1.rpm"), 2435.0);

  std::set<std::string> sensors;
  for (const auto& [label, key] : run.entities) {
    if (label == "sensor") sensors.insert(key);
  }
  EXPECT_EQ(sensors.size(), 1u + 1u + 5u + 2u);  // acpitz, nvme, coretemp, two zones
  EXPECT_EQ(run.state.counts.names_replaced, 0u);
}

TEST(SensorsFixtureTest, ServerSuffixesChipsThatShareANameAndReadsTheOldLayout) {
  SensorsRun run(host_root("sensors_server"));
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = run.derive();
  EXPECT_EQ(values.at("sensor.coretemp@coretemp.0/Package id 0.temp_celsius"), 61.0);
  EXPECT_EQ(values.at("sensor.coretemp@coretemp.1/Package id 1.temp_celsius"), 63.0);
  EXPECT_EQ(values.at("sensor.coretemp@coretemp.1/Core 7.temp_celsius"), 59.5);
  EXPECT_EQ(values.at("sensor.nvme@nvme0/Composite.temp_celsius"), 40.9);
  EXPECT_EQ(values.at("sensor.nvme@nvme1/Composite.temp_celsius"), 41.9);
  // 65261.85 °C: the "no limit" some NVMe drives report; no value.
  EXPECT_TRUE(std::isnan(values.at("sensor.nvme@nvme1/Sensor 1.temp_max_celsius")));
  EXPECT_EQ(values.at("sensor.nct6779/SYSTIN.temp_celsius"), 34.0);
  EXPECT_EQ(values.at("fan.nct6779/fan3.rpm"), 0.0);  // a stopped fan reads 0: a value
  EXPECT_EQ(values.at("fan.nct6779/fan4.rpm"), 8912.0);
  // Attributes under hwmon5/device/ (kernels before 3.x).
  EXPECT_EQ(values.at("sensor.w83627ehf/temp1.temp_celsius"), 37.0);
  EXPECT_EQ(values.at("fan.w83627ehf/fan1.rpm"), 2700.0);
  EXPECT_EQ(run.raw.temperatures.size(), 2u * 9u + 2u * 2u + 1u + 1u);
  EXPECT_EQ(run.raw.fans.size(), 6u);
}

TEST(SensorsFixtureTest, HostileNamesAndValuesNeverFailTheSource) {
  SensorsRun run(host_root("sensors_hostile"));
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = run.derive();
  EXPECT_EQ(values.at("sensor.outdoor/Outside.temp_celsius"), -5.0);
  EXPECT_TRUE(std::isnan(values.at("sensor.outdoor/Below absolute zero.temp_celsius")));
  EXPECT_TRUE(std::isnan(values.at("sensor.outdoor/Wrapped register.temp_celsius")));
  EXPECT_EQ(values.at("sensor.outdoor/CPU Die  (avg).temp_celsius"), 31.0);
  EXPECT_EQ(values.at("sensor.outdoor/temp5.temp_celsius"), 32.0);  // control byte in the label
  EXPECT_EQ(values.at("sensor.outdoor/temp6.temp_celsius"), 33.0);  // 300-byte label
  EXPECT_EQ(values.at("sensor.outdoor/100% %zz.temp_celsius"), 34.0);
  EXPECT_EQ(values.at("sensor.outdoor/temp8.temp_celsius"), 35.0);  // '/' in the label
  EXPECT_TRUE(std::isnan(values.at("fan.outdoor/fan1.rpm")));
  EXPECT_EQ(values.at("fan.outdoor/Rear fan.rpm"), 900.0);
  EXPECT_EQ(values.at("sensor.hwmon1/temp1.temp_celsius"), 30.0);  // control byte in the chip name
  EXPECT_EQ(values.at("sensor.hwmon2/temp1.temp_celsius"), 30.5);  // 300-byte chip name
  EXPECT_EQ(values.at("sensor.dup/Core 0@temp1.temp_celsius"), 41.0);
  EXPECT_EQ(values.at("sensor.dup/Core 0@temp2.temp_celsius"), 42.0);
  EXPECT_EQ(values.at("sensor.dup/Core 1.temp_celsius"), 43.0);
  EXPECT_EQ(values.at("sensor.dirchip/temp2.temp_celsius"), 36.0);
  EXPECT_EQ(values.count("sensor.dirchip/temp1.temp_celsius"), 0u);  // a directory, not a file
  EXPECT_EQ(values.count("sensor.outdoor/temp9.temp_celsius"), 0u);  // temp09_input: not a kernel name
  EXPECT_EQ(values.at("sensor.thermal/acpitz@thermal_zone0.temp_crit_celsius"), 105.0);
  EXPECT_EQ(values.at("sensor.thermal/acpitz@thermal_zone1.temp_crit_celsius"), 110.0);  // trip 1
  EXPECT_EQ(run.state.counts.names_replaced, 5u);  // three labels, two chip names
  EXPECT_EQ(run.state.counts.not_regular, 1u);
  for (const auto& [label, key] : run.entities) EXPECT_LE(key.size(), 256u) << key;
}

TEST(SensorsFixtureTest, GarbageAndTruncatedValuesFailNamingTheFile) {
  for (const std::string_view case_name : {"sensors_garbage"sv, "sensors_truncated"sv}) {
    SCOPED_TRACE(case_name);
    SensorsRun run(host_root(case_name));
    const Status status = run.read();
    ASSERT_FALSE(status.ok());
    EXPECT_FALSE(status.unavailable);
    EXPECT_THAT(status.error, HasSubstr("/sys/class/hwmon/hwmon0/temp"));
  }
  SensorsRun garbage(host_root("sensors_garbage"));
  EXPECT_THAT(garbage.read().error, HasSubstr("temp2_input: expected an integer, got 'forty two'"));
}

TEST(SensorsFixtureTest, HostWithoutChipsOrZonesIsAbsent) {
  for (const std::string& root : {host_root("sensors_none"), host_root("no_such_case")}) {
    SCOPED_TRACE(root);
    SensorsRun run(root);
    const Status status = run.read();
    EXPECT_TRUE(status.unavailable);
    EXPECT_THAT(status.error, HasSubstr("no hwmon chip in " + root + "/sys/class/hwmon and no thermal zone in"));
    EXPECT_TRUE(run.raw.temperatures.empty());
  }
}

TEST(SensorsFixtureTest, CollectorSetReadsTheLaptopThroughHostPaths) {
  static const SourceDefinition definitions[] = {sensors_source()};
  CollectorSet collectors(settings_for(host_root("sensors_laptop")), definitions);
  EXPECT_EQ(definitions[0].name, "sensors");
  EXPECT_TRUE(definitions[0].procfs_path.empty());
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values.at("sensor.nvme/Composite.temp_celsius"), 38.9);
  collectors.advance_all();
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto again = testing_support::derive_to_map(collectors, 1.0);
  ASSERT_EQ(again.size(), values.size());
  for (const auto& [name, value] : values) {
    if (!std::isnan(value)) {
      EXPECT_EQ(again.at(name), value) << name;
    }
  }
}

TEST(SensorsFixtureTest, SeriesAreTheContractOnes) {
  const SourceDefinition definition = sensors_source();
  std::vector<std::string_view> names;
  for (const SeriesSpec& spec : definition.series) {
    names.push_back(spec.name);
    EXPECT_EQ(spec.kind, SeriesKind::gauge);
    EXPECT_EQ(spec.unit, spec.name.starts_with("fan.") ? "rpm" : "celsius");
    EXPECT_EQ(spec.decimals, spec.name.starts_with("fan.") ? 0 : 1);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"sensor.{sensor}.temp_celsius", "sensor.{sensor}.temp_max_celsius",
                                                   "sensor.{sensor}.temp_crit_celsius", "fan.{fan}.rpm"}));
}

// --- trees built at test time (FIFOs cannot live in git) ------------------------

void write(const std::string& path, std::string_view text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(SensorsTreeTest, FifoFoundAtDiscoveryIsSkipped) {
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "fifochip\n");
  write(chip + "/temp2_input", "40000\n");
  ASSERT_EQ(::mkfifo((chip + "/temp1_input").c_str(), 0600), 0);
  SensorsRun run(root.path());
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(run.state.counts.not_regular, 1u);
  ASSERT_EQ(run.raw.temperatures.size(), 1u);
  EXPECT_EQ(run.raw.temperatures[0].key, "fifochip/temp2");
}

TEST(SensorsTreeTest, FifoSwappedInLaterFailsWithoutBlocking) {
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "fifochip\n");
  write(chip + "/temp1_input", "40000\n");
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(::unlink((chip + "/temp1_input").c_str()), 0);
  ASSERT_EQ(::mkfifo((chip + "/temp1_input").c_str(), 0600), 0);
  const Status status = run.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("temp1_input: is a FIFO, not a regular file"));
}

TEST(SensorsTreeTest, ThousandsOfSensorsAreCappedAndCounted) {
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "huge\n");
  constexpr std::size_t kPlanted = 3000;
  for (std::size_t i = 1; i <= kPlanted; ++i) write(chip + "/temp" + std::to_string(i) + "_input", "20000\n");
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.raw.temperatures.size(), SensorsState::kMaxSensors);
  EXPECT_EQ(run.state.counts.over_cap, kPlanted - SensorsState::kMaxSensors);
  // The lowest-numbered ones are kept, so the choice is the same every start.
  EXPECT_EQ(run.raw.temperatures.front().key, "huge/temp1");
  EXPECT_EQ(run.raw.temperatures.back().key, "huge/temp" + std::to_string(SensorsState::kMaxSensors));
  // Known chips are not rediscovered: a second tick keeps the same set.
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.state.counts.over_cap, kPlanted - SensorsState::kMaxSensors);
}

TEST(SensorsTreeTest, NoValueErrorsLeaveTheSensorWithoutAValue) {
  // EIO/ENODATA cannot be planted in a plain file; ENOENT (the file gone
  // between listing and reading) goes through the same path.
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "nvme\n");
  write(chip + "/temp1_input", "40000\n");
  write(chip + "/temp2_input", "41000\n");
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(::unlink((chip + "/temp1_input").c_str()), 0);
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(run.raw.temperatures.size(), 2u);
  EXPECT_TRUE(std::isnan(run.raw.temperatures[0].temp_celsius));
  EXPECT_EQ(run.raw.temperatures[1].temp_celsius, 41.0);
}

TEST(SensorsTreeTest, ChipsComingAndGoingKeepExistingKeys) {
  TempDir root;
  const std::string hwmon = root.path() + "/sys/class/hwmon";
  write(hwmon + "/hwmon0/name", "nvme\n");
  write(hwmon + "/hwmon0/temp1_input", "40000\n");
  ASSERT_EQ(::symlink("../../nvme0", (hwmon + "/hwmon0/device").c_str()), 0);
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.temperatures.size(), 1u);
  EXPECT_EQ(run.raw.temperatures[0].key, "nvme/temp1");

  // A second drive is hot-plugged: it gets the suffix, the first keeps its key.
  write(hwmon + "/hwmon1/name", "nvme\n");
  write(hwmon + "/hwmon1/temp1_input", "42000\n");
  ASSERT_EQ(::symlink("../../nvme1", (hwmon + "/hwmon1/device").c_str()), 0);
  ASSERT_TRUE(run.read().ok());
  std::set<std::string_view> keys;
  for (const TemperatureReading& reading : run.raw.temperatures) keys.insert(reading.key);
  EXPECT_EQ(keys, (std::set<std::string_view>{"nvme/temp1", "nvme@nvme1/temp1"}));

  // The first goes away: its sensor goes with it.
  std::filesystem::remove_all(hwmon + "/hwmon0");
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.temperatures.size(), 1u);
  EXPECT_EQ(run.raw.temperatures[0].key, "nvme@nvme1/temp1");
  EXPECT_EQ(run.raw.temperatures[0].temp_celsius, 42.0);

  // Everything gone: absent again.
  std::filesystem::remove_all(hwmon);
  EXPECT_TRUE(run.read().unavailable);
}

TEST(SensorsTreeTest, LimitsAreReadAgainAfterThePeriodInputsEveryRead) {
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "coretemp\n");
  write(chip + "/temp1_input", "40000\n");
  write(chip + "/temp1_max", "80000\n");
  write(chip + "/temp1_crit", "100000\n");
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.temperatures.size(), 1u);
  EXPECT_EQ(run.raw.temperatures[0].temp_max_celsius, 80.0);
  EXPECT_EQ(run.raw.temperatures[0].temp_crit_celsius, 100.0);

  write(chip + "/temp1_max", "85000\n");
  write(chip + "/temp1_crit", "105000\n");
  for (std::uint32_t read = 2; read <= sysfs_attribute::kRarelyChangingRereadReads; ++read) {
    write(chip + "/temp1_input", std::to_string(40000 + 1000 * read) + "\n");
    ASSERT_TRUE(run.read().ok());
    // The input every read; the limits as last read, every read.
    ASSERT_EQ(run.raw.temperatures[0].temp_celsius, 40.0 + read) << "read " << read;
    ASSERT_EQ(run.raw.temperatures[0].temp_max_celsius, 80.0) << "read " << read;
    ASSERT_EQ(run.raw.temperatures[0].temp_crit_celsius, 100.0) << "read " << read;
  }
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.raw.temperatures[0].temp_max_celsius, 85.0);
  EXPECT_EQ(run.raw.temperatures[0].temp_crit_celsius, 105.0);

  // A chip that appears later has its limits on its first read.
  const std::string second = root.path() + "/sys/class/hwmon/hwmon1";
  write(second + "/name", "nvme\n");
  write(second + "/temp1_input", "30000\n");
  write(second + "/temp1_crit", "90000\n");
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.temperatures.size(), 2u);
  EXPECT_EQ(run.raw.temperatures[1].key, "nvme/temp1");
  EXPECT_EQ(run.raw.temperatures[1].temp_crit_celsius, 90.0);
}

TEST(SensorsTreeTest, ABrokenLimitFailsEveryReadUntilItIsReadAgain) {
  TempDir root;
  const std::string chip = root.path() + "/sys/class/hwmon/hwmon0";
  write(chip + "/name", "coretemp\n");
  write(chip + "/temp1_input", "40000\n");
  write(chip + "/temp1_max", "garbage\n");
  SensorsRun run(root.path());
  for (int read = 0; read < 3; ++read) {
    const Status status = run.read();
    ASSERT_FALSE(status.ok()) << "read " << read;
    EXPECT_THAT(status.error, HasSubstr("temp1_max"));
  }
}

// The tree tests/fixtures/make_large_host_sensors.py writes, when a run
// points HOSTPULSE_LARGE_HOST at one (the integrator's bench does).
TEST(SensorsLargeHostTest, GeneratedTreeGivesEverySensor) {
  const char* root = std::getenv("HOSTPULSE_LARGE_HOST");
  if (root == nullptr) GTEST_SKIP() << "HOSTPULSE_LARGE_HOST not set";
  SensorsRun run(root);
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.raw.temperatures.size(), 146u);
  EXPECT_EQ(run.raw.fans.size(), 16u);
  EXPECT_EQ(run.state.counts.names_replaced, 0u);
  EXPECT_EQ(run.state.counts.over_cap, 0u);
}

// --- this machine -------------------------------------------------------------

TEST(SensorsLiveTest, ThisMachineHasNoSensorsAndReportsThemAbsent) {
  if (std::filesystem::exists("/sys/class/hwmon/hwmon0") || std::filesystem::exists("/sys/class/thermal/thermal_zone0")) {
    GTEST_SKIP() << "this machine has hwmon chips or thermal zones; the absent path is tested on fixtures";
  }
  static const SourceDefinition definitions[] = {sensors_source()};
  CollectorSet collectors(SourceSettings{}, definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable) << status.error;
  EXPECT_EQ(status.error, "no hwmon chip in /sys/class/hwmon and no thermal zone in /sys/class/thermal");
  EXPECT_EQ(collectors.collect_all(), 0u);  // absent is not a failure
}

// --- node_exporter's families ------------------------------------------------

TEST(SensorsExposeTest, ChipLabelsAsNodeExporterFormsThem) {
  EXPECT_EQ(node_exporter_chip_label("/sys/devices/platform/coretemp.0", "coretemp", "hwmon2"), "platform_coretemp_0");
  EXPECT_EQ(node_exporter_chip_label("/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", "nvme", "hwmon1"),
            "nvme_nvme0");
  EXPECT_EQ(node_exporter_chip_label("/sys/devices/pci0000:00/0000:00:18.3", "k10temp", "hwmon0"),
            "pci0000:00_0000:00:18_3");
  EXPECT_EQ(node_exporter_chip_label("/sys/devices/virtual/thermal/thermal_zone0", "acpitz", "hwmon0"),
            "thermal_thermal_zone0");
  // No device link (or one that resolves nowhere): the name file, then hwmonN.
  EXPECT_EQ(node_exporter_chip_label("", "Thinkpad", "hwmon3"), "thinkpad");
  EXPECT_EQ(node_exporter_chip_label("", "", "hwmon3"), "hwmon3");
  EXPECT_EQ(node_exporter_clean_name("__Package id 0!_"), "package_id_0");
  EXPECT_EQ(node_exporter_clean_name("--"), "");
}

TEST(SensorsExposeTest, HwmonAndThermalZoneFamiliesOfTheLaptop) {
  // The fixture's device links resolve nowhere (no sys/devices in it), so
  // chips are named by their name files, as node_exporter would name them.
  SensorsRun run(host_root("sensors_laptop"));
  ASSERT_TRUE(run.read().ok());
  testing_support::RecordingMetricWriter writer(sensors_source().metrics);
  expose_sensors(run.raw, writer);
  EXPECT_EQ(writer.refused, 0u);

  using testing_support::metric_sample;
  using testing_support::RecordedSample;
  const auto at = [](std::string chip, std::string sensor) {
    return std::vector<std::pair<std::string, std::string>>{{"chip", std::move(chip)}, {"sensor", std::move(sensor)}};
  };
  const auto label = [](std::string chip, std::string text, std::string sensor) {
    return metric_sample("node_hwmon_sensor_label", {{"chip", chip}, {"label", text}, {"sensor", sensor}}, 1);
  };
  std::vector<RecordedSample> expected = {
      metric_sample("node_hwmon_temp_celsius", at("acpitz", "temp1"), 45),
      metric_sample("node_hwmon_temp_crit_celsius", at("acpitz", "temp1"), 98),
      metric_sample("node_hwmon_temp_celsius", at("nvme", "temp1"), 38.9),
      metric_sample("node_hwmon_temp_max_celsius", at("nvme", "temp1"), 81.9),
      metric_sample("node_hwmon_temp_crit_celsius", at("nvme", "temp1"), 84.9),
      label("nvme", "Composite", "temp1"),
      metric_sample("node_hwmon_fan_rpm", at("thinkpad", "fan1"), 2435),
      metric_sample("node_thermal_zone_temp", {{"type", "acpitz"}, {"zone", "0"}}, 45),
      metric_sample("node_thermal_zone_temp", {{"type", "x86_pkg_temp"}, {"zone", "1"}}, 52),
  };
  const double core_temps[] = {52, 49, 50, 51, 52};
  const std::string core_labels[] = {"Package id 0", "Core 0", "Core 1", "Core 2", "Core 3"};
  for (int index = 0; index < 5; ++index) {
    const std::string sensor = "temp" + std::to_string(index + 1);
    expected.push_back(metric_sample("node_hwmon_temp_celsius", at("coretemp", sensor), core_temps[index]));
    expected.push_back(metric_sample("node_hwmon_temp_max_celsius", at("coretemp", sensor), 100));
    expected.push_back(metric_sample("node_hwmon_temp_crit_celsius", at("coretemp", sensor), 100));
    expected.push_back(label("coretemp", core_labels[index], sensor));
  }
  for (const std::string chip : {"acpitz", "nvme", "coretemp", "thinkpad"}) {
    expected.push_back(metric_sample("node_hwmon_chip_names", {{"chip", chip}, {"chip_name", chip}}, 1));
  }
  EXPECT_THAT(writer.samples, ::testing::UnorderedElementsAreArray(expected));
}

TEST(SensorsExposeTest, HostileNamesGiveCleanLabelValues) {
  SensorsRun run(host_root("sensors_hostile"));
  ASSERT_TRUE(run.read().ok());
  testing_support::RecordingMetricWriter writer(sensors_source().metrics);
  expose_sensors(run.raw, writer);
  EXPECT_EQ(writer.refused, 0u);
  for (const testing_support::RecordedSample& sample : writer.samples) {
    for (const auto& [name, value] : sample.labels) {
      EXPECT_FALSE(value.empty()) << sample.name << " " << name;
      EXPECT_LE(value.size(), sysfs_attribute::kMaxAttributeBytes) << sample.name << " " << name;
      for (const char c : value) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << sample.name << " " << name;
    }
  }
  // A label with a control byte has no label sample; one with '%' keeps it as read.
  EXPECT_EQ(writer.value("node_hwmon_sensor_label", {"outdoor", "100% %zz", "temp7"}), 1.0);
  for (const testing_support::RecordedSample& sample : writer.named("node_hwmon_sensor_label")) {
    EXPECT_NE(sample.labels[2].second, "temp5");
  }
  EXPECT_EQ(writer.value("node_hwmon_temp_celsius", {"outdoor", "temp5"}), 32.0);
}

TEST(SensorsExposeTest, ResolvedDeviceLinkNamesTheChipByItsDevice) {
  TempDir root;
  const std::filesystem::path sys = std::filesystem::path(root.path()) / "sys";
  std::filesystem::create_directories(sys / "devices/platform/coretemp.0/hwmon/hwmon4");
  std::filesystem::create_directories(sys / "class/hwmon");
  const std::filesystem::path chip = sys / "devices/platform/coretemp.0/hwmon/hwmon4";
  std::filesystem::create_directory_symlink("../../devices/platform/coretemp.0/hwmon/hwmon4", sys / "class/hwmon/hwmon4");
  std::filesystem::create_directory_symlink("../../../coretemp.0", chip / "device");
  std::ofstream(chip / "name") << "coretemp\n";
  std::ofstream(chip / "temp1_input") << "61000\n";
  SensorsRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  testing_support::RecordingMetricWriter writer(sensors_source().metrics);
  expose_sensors(run.raw, writer);
  EXPECT_EQ(writer.value("node_hwmon_temp_celsius", {"platform_coretemp_0", "temp1"}), 61.0);
  EXPECT_EQ(writer.value("node_hwmon_chip_names", {"platform_coretemp_0", "coretemp"}), 1.0);
}

}  // namespace
}  // namespace hostpulse
