#include "collectors/linux/proc_vmstat.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/collectors/linux/proc_host_fixtures.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"

namespace hostpulse {
namespace {

using testing_support::host_fixture_proc;
using testing_support::host_fixture_settings;
using testing_support::RecordingSeriesWriter;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

std::string read_vmstat_fixture(std::string_view case_name) {
  std::ifstream stream(host_fixture_proc(case_name) + "/vmstat", std::ios::binary);
  EXPECT_TRUE(stream) << case_name;
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

constexpr std::uint64_t kAbsent = ~std::uint64_t{0} - 1;  // marks "no such key" in the table below

struct VmstatFixtureCase {
  std::string_view case_name;
  std::uint64_t pgpgin, pgpgout, pswpin, pswpout, pgmajfault, oom_kill;
};
void PrintTo(const VmstatFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

void expect_counter(const VmStatCounter& counter, std::uint64_t expected, std::string_view key) {
  SCOPED_TRACE(key);
  if (expected == kAbsent) {
    EXPECT_FALSE(counter.present);
    return;
  }
  EXPECT_TRUE(counter.present);
  EXPECT_EQ(counter.value, expected);
}

class ProcVmstatFixtureTest : public ::testing::TestWithParam<VmstatFixtureCase> {};

TEST_P(ProcVmstatFixtureTest, ParsesExactValues) {
  const VmstatFixtureCase& expected = GetParam();
  VmStat vmstat;
  const Status status = parse_proc_vmstat(read_vmstat_fixture(expected.case_name), vmstat);
  ASSERT_TRUE(status.ok()) << status.error;
  expect_counter(vmstat.pages_in_kib, expected.pgpgin, "pgpgin");
  expect_counter(vmstat.pages_out_kib, expected.pgpgout, "pgpgout");
  expect_counter(vmstat.swap_ins, expected.pswpin, "pswpin");
  expect_counter(vmstat.swap_outs, expected.pswpout, "pswpout");
  expect_counter(vmstat.major_faults, expected.pgmajfault, "pgmajfault");
  expect_counter(vmstat.oom_kills, expected.oom_kill, "oom_kill");
}

// Values copied by hand from tests/fixtures/hosts/<case>/proc/vmstat.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcVmstatFixtureTest,
    ::testing::Values(VmstatFixtureCase{"vmstat_this_vm", 15013909, 139557824, 0, 0, 26980, 0},
                      VmstatFixtureCase{"vmstat_this_vm_t1", 15014165, 139626096, 0, 0, 26982, 0},
                      VmstatFixtureCase{"vmstat_old_kernel", 2104872, 5122936, 12, 340, 4821, kAbsent},
                      VmstatFixtureCase{"vmstat_missing_keys", 15013909, 139557824, kAbsent, kAbsent, kAbsent, 0},
                      VmstatFixtureCase{"vmstat_huge", 18446744073709551615u, 139557824, 0, 0, 26980,
                                        18446744073709551615u}),
    [](const ::testing::TestParamInfo<VmstatFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcVmstatTest, IgnoresUnknownAndMalformedUnusedLines) {
  VmStat vmstat;
  const Status status = parse_proc_vmstat(
      "nr_free_pages lots\r\n"
      "garbage line with words\r\n"
      "pgpgin\t12\r\n"
      "pgpgin_extra 1 2 3\r\n"
      "\r\n"
      "oom_kill   3  \r\n"sv,
      vmstat);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(vmstat.pages_in_kib.value, 12u);
  EXPECT_EQ(vmstat.oom_kills.value, 3u);
  EXPECT_FALSE(vmstat.pages_out_kib.present);
}

TEST(ProcVmstatTest, ClearsWhatAPreviousParseFilled) {
  VmStat vmstat;
  ASSERT_TRUE(parse_proc_vmstat(read_vmstat_fixture("vmstat_this_vm"), vmstat).ok());
  ASSERT_TRUE(parse_proc_vmstat("pgpgin 1\n", vmstat).ok());
  EXPECT_FALSE(vmstat.oom_kills.present);
  EXPECT_FALSE(vmstat.major_faults.present);
}

struct BadVmstatCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};
void PrintTo(const BadVmstatCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcVmstatBadTest : public ::testing::TestWithParam<BadVmstatCase> {};

TEST_P(ProcVmstatBadTest, FailsNamingTheLine) {
  VmStat vmstat;
  const Status status = parse_proc_vmstat(GetParam().text, vmstat);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcVmstatBadTest,
    ::testing::Values(
        BadVmstatCase{"empty", "", "vmstat: file is empty"},
        BadVmstatCase{"truncated", "pgpgin 1\npgpgout 12", "vmstat: text does not end with a newline"},
        BadVmstatCase{"nothing_known", "nr_free_pages 1\nfoo 2\n",
                      "vmstat: none of pgpgin, pgpgout, pswpin, pswpout, pgfault, pgmajfault, oom_kill found"},
        BadVmstatCase{"twice", "pgpgin 1\npgpgout 2\npgpgin 3\n", "vmstat line 3: pgpgin: appears twice (first on line 1)"},
        BadVmstatCase{"no_value", "pgpgin\n", "vmstat line 1: pgpgin: expected a number, got nothing"},
        BadVmstatCase{"word", "pgmajfault many\n", "vmstat line 1: pgmajfault: expected a number, got 'many'"},
        BadVmstatCase{"negative", "pswpin -1\n", "pswpin: expected a non-negative number, got '-1'"},
        BadVmstatCase{"decimal", "pswpout 1.5\n", "pswpout: expected a number, got '1.5'"},
        BadVmstatCase{"extra", "oom_kill 1 2\n", "vmstat line 1: oom_kill: unexpected '2' after the value"},
        BadVmstatCase{"overflow", "pgpgin 18446744073709551616\n",
                      "pgpgin: value '18446744073709551616' does not fit in 64 bits"},
        BadVmstatCase{"nul", "pgpgin 1\0\n"sv, "pgpgin: expected a number, got '1\\x00'"}),
    [](const ::testing::TestParamInfo<BadVmstatCase>& param_info) { return std::string(param_info.param.name); });

TEST(ProcVmstatTest, BadFixturesFail) {
  VmStat vmstat;
  EXPECT_THAT(parse_proc_vmstat(read_vmstat_fixture("vmstat_truncated"), vmstat).error,
              HasSubstr("does not end with a newline"));
  EXPECT_FALSE(parse_proc_vmstat(read_vmstat_fixture("vmstat_garbage"), vmstat).ok());
  EXPECT_THAT(parse_proc_vmstat(read_vmstat_fixture("vmstat_overflow"), vmstat).error,
              HasSubstr("vmstat line 97: pgmajfault: value '18446744073709551616' does not fit in 64 bits"));
  EXPECT_THAT(parse_proc_vmstat(read_vmstat_fixture("vmstat_unknown_only"), vmstat).error, HasSubstr("none of"));
}

std::span<const SeriesSpec> vmstat_series() { return proc_vmstat_source().series; }

VmStat parsed(std::string_view text) {
  VmStat vmstat;
  const Status status = parse_proc_vmstat(text, vmstat);
  EXPECT_TRUE(status.ok()) << status.error;
  return vmstat;
}

TEST(ProcVmstatDeriveTest, RatesFromTheCapturedPair) {
  const VmStat before = parsed(read_vmstat_fixture("vmstat_this_vm"));
  const VmStat after = parsed(read_vmstat_fixture("vmstat_this_vm_t1"));
  RecordingSeriesWriter out(vmstat_series());
  derive_proc_vmstat(&before, after, DeriveContext{.elapsed_s = 2.0, .facts = {}}, out);
  // (15014165 - 15013909) / 2, (139626096 - 139557824) / 2, (26982 - 26980) / 2.
  EXPECT_DOUBLE_EQ(out.values.at("vm.page_ins_per_s"), 128.0);
  EXPECT_DOUBLE_EQ(out.values.at("vm.page_outs_per_s"), 34136.0);
  EXPECT_DOUBLE_EQ(out.values.at("vm.swap_ins_per_s"), 0.0);
  EXPECT_DOUBLE_EQ(out.values.at("vm.swap_outs_per_s"), 0.0);
  EXPECT_DOUBLE_EQ(out.values.at("vm.major_faults_per_s"), 1.0);
  EXPECT_DOUBLE_EQ(out.values.at("vm.oom_kills"), 0.0);
  EXPECT_TRUE(out.entities.empty());
}

TEST(ProcVmstatDeriveTest, NoRatesWithoutPreviousAndNoSpikeWhenACounterGoesBack) {
  const VmStat low = parsed("pgpgin 10\npgpgout 10\noom_kill 2\n");
  const VmStat high = parsed("pgpgin 500\npgpgout 20\noom_kill 3\n");
  RecordingSeriesWriter first(vmstat_series());
  derive_proc_vmstat(nullptr, high, DeriveContext{.elapsed_s = 1.0, .facts = {}}, first);
  EXPECT_EQ(first.values.count("vm.page_ins_per_s"), 0u);
  EXPECT_DOUBLE_EQ(first.values.at("vm.oom_kills"), 3.0);

  RecordingSeriesWriter backwards(vmstat_series());
  derive_proc_vmstat(&high, low, DeriveContext{.elapsed_s = 1.0, .facts = {}}, backwards);
  EXPECT_TRUE(std::isnan(backwards.values.at("vm.page_ins_per_s")));
  EXPECT_TRUE(std::isnan(backwards.values.at("vm.page_outs_per_s")));
}

TEST(ProcVmstatDeriveTest, OldKernelWithoutOomKillHasNoValueForIt) {
  const VmStat old = parsed(read_vmstat_fixture("vmstat_old_kernel"));
  RecordingSeriesWriter out(vmstat_series());
  derive_proc_vmstat(&old, old, DeriveContext{.elapsed_s = 1.0, .facts = {}}, out);
  EXPECT_EQ(out.values.count("vm.oom_kills"), 0u);
  EXPECT_DOUBLE_EQ(out.values.at("vm.swap_outs_per_s"), 0.0);

  // A key that disappears between reads gives no rate, not a spike.
  const VmStat missing = parsed(read_vmstat_fixture("vmstat_missing_keys"));
  RecordingSeriesWriter gone(vmstat_series());
  derive_proc_vmstat(&old, missing, DeriveContext{.elapsed_s = 1.0, .facts = {}}, gone);
  EXPECT_EQ(gone.values.count("vm.major_faults_per_s"), 0u);
  EXPECT_EQ(gone.values.count("vm.swap_ins_per_s"), 0u);
}

TEST(ProcVmstatCollectorSetTest, CollectsFixtureTree) {
  const SourceDefinition definitions[] = {proc_vmstat_source()};
  CollectorSet collectors(host_fixture_settings("vmstat_this_vm"), definitions);
  EXPECT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_DOUBLE_EQ(values.at("vm.page_ins_per_s"), 0.0);  // the same file twice
  EXPECT_DOUBLE_EQ(values.at("vm.oom_kills"), 0.0);
  EXPECT_EQ(values.size(), 6u);

  CollectorSet garbage(host_fixture_settings("vmstat_garbage"), definitions);
  const Status status = garbage.collect_one(0);
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/hosts/vmstat_garbage/proc/vmstat: vmstat: "));
}

TEST(ProcVmstatCollectorSetTest, MissingFileIsAbsentNotAFailure) {
  // psi_none holds only a loadavg, like a sandbox's partial /proc.
  const SourceDefinition definitions[] = {proc_vmstat_source()};
  CollectorSet collectors(host_fixture_settings("psi_none"), definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/hosts/psi_none/proc/vmstat: not present"));
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(ProcVmstatLiveTest, ReadsThisMachine) {
  std::ifstream stream("/proc/vmstat");
  if (!stream) GTEST_SKIP() << "no /proc/vmstat here";
  const std::string text{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
  VmStat vmstat;
  const Status status = parse_proc_vmstat(text, vmstat);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(vmstat.pages_in_kib.present);
  EXPECT_TRUE(vmstat.major_faults.present);
  EXPECT_TRUE(vmstat.oom_kills.present);  // this machine runs 6.x
}

TEST(ProcVmstatExposeTest, NodeExporterDefaultFieldsUntypedUnderTheKernelNames) {
  VmStat vmstat;
  ASSERT_TRUE(parse_proc_vmstat(read_vmstat_fixture("vmstat_this_vm"), vmstat).ok());
  testing_support::RecordingMetricWriter writer(proc_vmstat_source().metrics);
  expose_proc_vmstat(vmstat, writer);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples, ::testing::ElementsAre(metric_sample("node_vmstat_pgpgin", {}, 15013909),
                                                     metric_sample("node_vmstat_pgpgout", {}, 139557824),
                                                     metric_sample("node_vmstat_pswpin", {}, 0),
                                                     metric_sample("node_vmstat_pswpout", {}, 0),
                                                     metric_sample("node_vmstat_pgfault", {}, 683512607),
                                                     metric_sample("node_vmstat_pgmajfault", {}, 26980),
                                                     metric_sample("node_vmstat_oom_kill", {}, 0)));
  for (const MetricSpec& spec : proc_vmstat_source().metrics) EXPECT_EQ(spec.type, MetricType::untyped) << spec.name;
}

TEST(ProcVmstatExposeTest, CounterTheKernelLacksHasNoSample) {
  VmStat vmstat;
  ASSERT_TRUE(parse_proc_vmstat(read_vmstat_fixture("vmstat_old_kernel"), vmstat).ok());
  testing_support::RecordingMetricWriter writer(proc_vmstat_source().metrics);
  expose_proc_vmstat(vmstat, writer);
  EXPECT_EQ(writer.count("node_vmstat_oom_kill"), 0u);
  EXPECT_EQ(writer.value("node_vmstat_pgfault"), 71523112.0);
  EXPECT_EQ(writer.samples.size(), 6u);
}

}  // namespace
}  // namespace hostpulse
