#include "collectors/linux/power_supply.hpp"

#include <cmath>
#include <filesystem>
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

using Parser = Status (*)(std::string_view, std::string_view, double&);

struct AttributeCase {
  std::string_view name;
  Parser parse;
  std::string_view text;
  bool ok;
  double value;  // NaN: no value
  std::string_view message_part;
};
void PrintTo(const AttributeCase& c, std::ostream* os) { *os << c.name; }
class PowerSupplyAttributeTest : public ::testing::TestWithParam<AttributeCase> {};

TEST_P(PowerSupplyAttributeTest, Parses) {
  const AttributeCase& c = GetParam();
  double value = -1;
  const Status status = c.parse(c.text, "attr", value);
  ASSERT_EQ(status.ok(), c.ok) << status.error;
  if (!c.ok) {
    EXPECT_THAT(status.error, HasSubstr(c.message_part));
    EXPECT_THAT(status.error, ::testing::StartsWith("attr: "));
  } else if (std::isnan(c.value)) {
    EXPECT_TRUE(std::isnan(value)) << value;
  } else {
    EXPECT_EQ(value, c.value);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, PowerSupplyAttributeTest,
    ::testing::Values(
        AttributeCase{"capacity", &parse_capacity, "87\n", true, 87, ""},
        AttributeCase{"capacity_empty_battery", &parse_capacity, "0\n", true, 0, ""},
        AttributeCase{"capacity_full", &parse_capacity, "100\n", true, 100, ""},
        AttributeCase{"capacity_overshoot", &parse_capacity, "101\n", true, NAN, ""},
        AttributeCase{"capacity_negative", &parse_capacity, "-5\n", false, 0, "expected a non-negative number"},
        AttributeCase{"capacity_word", &parse_capacity, "eighty\n", false, 0, "expected an integer, got 'eighty'"},
        AttributeCase{"capacity_truncated", &parse_capacity, "87", false, 0, "does not end with a newline"},
        AttributeCase{"status_discharging", &parse_status, "Discharging\n", true, 1, ""},
        AttributeCase{"status_charging", &parse_status, "Charging\n", true, 0, ""},
        AttributeCase{"status_full", &parse_status, "Full\n", true, 0, ""},
        AttributeCase{"status_not_charging", &parse_status, "Not charging\n", true, 0, ""},
        AttributeCase{"status_unknown", &parse_status, "Unknown\n", true, 0, ""},
        AttributeCase{"status_lowercase", &parse_status, "discharging\n", true, 0, ""},
        AttributeCase{"status_blank", &parse_status, "\n", false, 0, "expected a status, got nothing"},
        AttributeCase{"status_truncated", &parse_status, "Discharging", false, 0, "does not end with a newline"},
        AttributeCase{"online_1", &parse_online, "1\n", true, 1, ""},
        AttributeCase{"online_0", &parse_online, "0\n", true, 0, ""},
        AttributeCase{"online_usb_c_programmable", &parse_online, "2\n", true, 1, ""},
        AttributeCase{"online_negative", &parse_online, "-1\n", false, 0, "expected a non-negative number, got -1"},
        AttributeCase{"online_word", &parse_online, "yes\n", false, 0, "got 'yes'"}),
    [](const ::testing::TestParamInfo<AttributeCase>& param_info) { return std::string(param_info.param.name); });

TEST(PowerSupplyKindTest, BatteriesAndUpsCarryChargeTheRestOnline) {
  EXPECT_EQ(supply_kind("Battery"), SupplyKind::battery);
  EXPECT_EQ(supply_kind("UPS"), SupplyKind::battery);
  EXPECT_EQ(supply_kind("Mains"), SupplyKind::external);
  EXPECT_EQ(supply_kind("USB"), SupplyKind::external);
  EXPECT_EQ(supply_kind("Wireless"), SupplyKind::external);
  EXPECT_EQ(supply_kind(""), SupplyKind::external);
}

struct PowerRun {
  explicit PowerRun(const std::string& root) : state(settings_for(root)) {}
  Status read() { return read_power_supply(state, {}, raw); }
  std::map<std::string, double> derive() {
    RecordingSeriesWriter writer(power_supply_source().series);
    derive_power_supply(nullptr, raw, DeriveContext{}, writer);
    return writer.values;
  }
  PowerSupplyState state;
  PowerSupplyRead raw;
};

TEST(PowerSupplyFixtureTest, LaptopOnBattery) {
  PowerRun run(host_root("power_laptop"));
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(run.derive(), (std::map<std::string, double>{
                              {"power.AC.online", 0},
                              {"power.BAT0.charge_pct", 87},
                              {"power.BAT0.discharging", 1},
                              {"power.hid-00:1f:20:aa:bb:cc-battery.charge_pct", 40},
                              {"power.hid-00:1f:20:aa:bb:cc-battery.discharging", 1},
                              {"power.ucsi-source-psy-USBC000:001.online", 0},
                          }));
}

TEST(PowerSupplyFixtureTest, LaptopOnAcCharging) {
  PowerRun run(host_root("power_charging"));
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.derive(), (std::map<std::string, double>{
                              {"power.ADP1.online", 1},
                              {"power.BAT0.charge_pct", 100},
                              {"power.BAT0.discharging", 0},
                              {"power.BAT1.charge_pct", 62},
                              {"power.BAT1.discharging", 0},
                              {"power.ucsi-source-psy-USBC000:002.online", 1},
                          }));
}

TEST(PowerSupplyFixtureTest, HostileSuppliesNeverFailTheSource) {
  PowerRun run(host_root("power_hostile"));
  const Status status = run.read();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = run.derive();
  EXPECT_TRUE(std::isnan(values.at("power.BAT0.charge_pct")));  // 250 %
  EXPECT_EQ(values.at("power.BAT0.discharging"), 0);            // Not charging
  EXPECT_TRUE(std::isnan(values.at("power.BAT1.charge_pct")));  // no capacity file
  EXPECT_EQ(values.at("power.My Battery 100%.charge_pct"), 5);
  EXPECT_EQ(values.at("power.BAT2.charge_pct"), 0);
  EXPECT_EQ(values.at("power.odd.online"), 1);
  EXPECT_EQ(run.raw.supplies.size(), 5u);  // the 200-byte name is left out
  EXPECT_EQ(run.state.names_skipped, 1u);
  // Left out once, not looked at again every tick.
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.state.names_skipped, 1u);
}

TEST(PowerSupplyFixtureTest, GarbageAndNegativeValuesFailNamingTheFile) {
  PowerRun garbage(host_root("power_garbage"));
  Status status = garbage.read();
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("power_supply/BAT0/capacity: expected an integer, got 'eighty'"));
  PowerRun negative(host_root("power_negative"));
  status = negative.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("power_supply/AC/online: expected a non-negative number, got -1"));
}

TEST(PowerSupplyFixtureTest, NoSuppliesIsAbsent) {
  for (const std::string& root : {host_root("power_none"), host_root("no_such_case")}) {
    SCOPED_TRACE(root);
    PowerRun run(root);
    const Status status = run.read();
    EXPECT_TRUE(status.unavailable);
    EXPECT_EQ(status.error, "no power supply in " + root + "/sys/class/power_supply (no battery, no AC adapter)");
  }
}

TEST(PowerSupplyFixtureTest, CollectorSetReadsThroughHostPaths) {
  static const SourceDefinition definitions[] = {power_supply_source()};
  EXPECT_EQ(definitions[0].name, "power_supply");
  std::vector<std::string_view> names;
  for (const SeriesSpec& spec : definitions[0].series) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string_view>{"power.{supply}.charge_pct", "power.{supply}.discharging",
                                                   "power.{supply}.online"}));
  EXPECT_EQ(definitions[0].series[0].unit, "percent");
  EXPECT_EQ(definitions[0].series[1].unit, "bool");
  EXPECT_EQ(definitions[0].series[2].unit, "bool");
  CollectorSet collectors(settings_for(host_root("power_laptop")), definitions);
  EXPECT_EQ(collectors.collect_all(), 0u);
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  EXPECT_EQ(values.at("power.BAT0.charge_pct"), 87);
  EXPECT_EQ(entities.size(), 4u);
  for (const auto& entity : entities) EXPECT_EQ(entity.first, "supply");
}

TEST(PowerSupplyTreeTest, BatteryRemovedAndPluggedBack) {
  testing_support::TempDir root;
  const std::string supplies = root.path() + "/sys/class/power_supply";
  std::filesystem::create_directories(supplies + "/BAT0");
  std::filesystem::create_directories(supplies + "/AC");
  root.write("sys/class/power_supply/BAT0/type", "Battery\n");
  root.write("sys/class/power_supply/BAT0/capacity", "50\n");
  root.write("sys/class/power_supply/BAT0/status", "Discharging\n");
  root.write("sys/class/power_supply/AC/type", "Mains\n");
  root.write("sys/class/power_supply/AC/online", "0\n");
  PowerRun run(root.path());
  ASSERT_TRUE(run.read().ok());
  EXPECT_EQ(run.raw.supplies.size(), 2u);
  std::filesystem::remove_all(supplies + "/BAT0");
  root.write("sys/class/power_supply/AC/online", "1\n");
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.supplies.size(), 1u);
  EXPECT_EQ(run.raw.supplies[0].online, 1);
  std::filesystem::create_directories(supplies + "/BAT0");
  root.write("sys/class/power_supply/BAT0/type", "Battery\n");
  root.write("sys/class/power_supply/BAT0/capacity", "51\n");
  ASSERT_TRUE(run.read().ok());
  ASSERT_EQ(run.raw.supplies.size(), 2u);
  EXPECT_EQ(run.raw.supplies[1].name, "BAT0");
  EXPECT_EQ(run.raw.supplies[1].charge_pct, 51);
  EXPECT_TRUE(std::isnan(run.raw.supplies[1].discharging));  // no status file this time
}

TEST(PowerSupplyLiveTest, ThisMachineHasNoPowerSupplyAndReportsItAbsent) {
  const std::filesystem::path supplies = "/sys/class/power_supply";
  if (std::filesystem::exists(supplies) && !std::filesystem::is_empty(supplies)) {
    GTEST_SKIP() << "this machine has power supplies; the absent path is tested on fixtures";
  }
  static const SourceDefinition definitions[] = {power_supply_source()};
  CollectorSet collectors(SourceSettings{}, definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable) << status.error;
  EXPECT_EQ(status.error, "no power supply in /sys/class/power_supply (no battery, no AC adapter)");
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(PowerSupplyExposeTest, NodeExporterCapacityAndOnlineBySupplyName) {
  PowerRun run(host_root("power_laptop"));
  ASSERT_TRUE(run.read().ok());
  testing_support::RecordingMetricWriter writer(power_supply_source().metrics);
  expose_power_supply(run.raw, writer);
  using testing_support::metric_sample;
  // Sorted by name, as the source keeps its supplies.
  EXPECT_THAT(writer.samples,
              ::testing::ElementsAre(
                  metric_sample("node_power_supply_online", {{"power_supply", "AC"}}, 0),
                  metric_sample("node_power_supply_capacity", {{"power_supply", "BAT0"}}, 87),
                  metric_sample("node_power_supply_capacity", {{"power_supply", "hid-00:1f:20:aa:bb:cc-battery"}}, 40),
                  metric_sample("node_power_supply_online", {{"power_supply", "ucsi-source-psy-USBC000:001"}}, 0)));
}

}  // namespace
}  // namespace hostpulse
