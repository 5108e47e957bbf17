#include "collectors/linux/proc_stat.hpp"

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collectors/fixture_files.hpp"

namespace hostpulse {
namespace {

using testing_support::read_fixture;
using ::testing::HasSubstr;

using Jiffies = std::array<std::uint64_t, kCpuStateCount>;

struct ExpectedCpu {
  std::size_t index;  // position in ProcStat::cpus
  std::uint32_t cpu;
  Jiffies jiffies;
};

// Numbers copied by hand from tests/fixtures/proc/<case>/stat.
struct StatFixtureCase {
  std::string_view case_name;
  Jiffies total;
  std::uint8_t columns;
  std::size_t cpu_count;
  std::vector<ExpectedCpu> cpus;  // a sample, not necessarily all
  std::uint64_t context_switches;
  std::uint64_t processes_forked;
  std::uint32_t procs_running;
  std::uint32_t procs_blocked;
  std::uint64_t boot_time_s;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const StatFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

const std::vector<StatFixtureCase>& stat_fixture_cases() {
  static const std::vector<StatFixtureCase> cases = {
      {"linux6_2cpu",
       {1121, 0, 1228, 70882, 245, 0, 41, 10, 0, 0},
       10,
       2,
       {{0, 0, {289, 0, 450, 35992, 6, 0, 3, 2, 0, 0}}, {1, 1, {831, 0, 777, 34890, 239, 0, 37, 7, 0, 0}}},
       233904,
       2795,
       1,
       0,
       1795320093},
      {"linux6_64cpu",
       {9939623014, 256025806, 2510837716, 30841981269, 399532706, 81407290, 267108585, 44871394, 0, 0},
       10,
       64,
       {{0, 0, {164655374, 4758792, 25136604, 486333977, 3722572, 2529367, 4637104, 1059381, 0, 0}},
        {1, 1, {53995578, 2887278, 24845624, 601985226, 341017, 1116671, 6378467, 1285412, 0, 0}},
        {63, 63, {79035390, 5990638, 45503883, 553348507, 3288503, 1716664, 3217349, 731598, 0, 0}}},
       1092792154093,
       45848115,
       18,
       2,
       1790206129},
      {"linux6_256cpu",
       {43095151408, 893833542, 11008092339, 124122415614, 1780621488, 365692526, 957846069, 187966184, 0, 0},
       10,
       256,
       {{0, 0, {129161057, 284199, 58249931, 516920035, 3456013, 1458641, 2560968, 453913, 0, 0}},
        {63, 63, {269509443, 4002367, 65151518, 367067657, 2611853, 1759322, 1694956, 748193, 0, 0}},
        {255, 255, {205608179, 3394779, 59996242, 432568187, 4735751, 1804849, 3945872, 491619, 0, 0}}},
       2374657505130,
       54562256,
       68,
       0,
       1790009016},
      {"linux2_6_old",
       {79190, 1532, 36189, 18863899, 43087, 410, 1383, 0, 0, 0},
       7,
       2,
       {{0, 0, {40213, 1520, 18734, 9412876, 30211, 410, 1288, 0, 0, 0}},
        {1, 1, {38977, 12, 17455, 9451023, 12876, 0, 95, 0, 0, 0}}},
       8120773,
       10386,
       1,
       0,
       1129651200},
      {"extra_fields",
       {1832, 17, 2101, 90813, 412, 0, 77, 23, 0, 0},
       10,
       2,
       {{0, 0, {901, 17, 1043, 45502, 200, 0, 40, 11, 0, 0}}, {1, 1, {931, 0, 1058, 45311, 212, 0, 37, 12, 0, 0}}},
       310442,
       3120,
       2,
       1,
       1795320093},
      {"missing_fields",
       {1121, 0, 1228, 70882, 245, 0, 41, 10, 0, 0},
       10,
       2,
       {{0, 0, {289, 0, 450, 35992, 6, 0, 3, 2, 0, 0}}, {1, 1, {831, 0, 777, 34890, 239, 0, 37, 7, 0, 0}}},
       233904,
       2795,
       0,
       0,
       1795320093},
      {"cpu_offline",
       {16695, 15, 7653, 610886, 305, 0, 163, 0, 0, 0},
       10,
       3,
       {{0, 0, {5123, 12, 2301, 190233, 88, 0, 51, 0, 0, 0}},
        {1, 1, {4870, 0, 2254, 190611, 102, 0, 47, 0, 0, 0}},
        {2, 3, {5502, 3, 2398, 189942, 95, 0, 55, 0, 0, 0}}},
       801233,
       9120,
       3,
       0,
       1795100000},
  };
  return cases;
}

class ProcStatFixtureTest : public ::testing::TestWithParam<StatFixtureCase> {};

TEST_P(ProcStatFixtureTest, ParsesExactValues) {
  const StatFixtureCase& expected = GetParam();
  ProcStat stat;
  const Status status = parse_proc_stat(read_fixture(expected.case_name, "stat"), stat);
  ASSERT_TRUE(status.ok()) << status.error;

  EXPECT_EQ(stat.total.jiffies, expected.total);
  EXPECT_EQ(stat.total.columns, expected.columns);
  ASSERT_EQ(stat.cpus.size(), expected.cpu_count);
  for (const ExpectedCpu& cpu : expected.cpus) {
    SCOPED_TRACE("cpus[" + std::to_string(cpu.index) + "]");
    EXPECT_EQ(stat.cpus[cpu.index].cpu, cpu.cpu);
    EXPECT_EQ(stat.cpus[cpu.index].times.jiffies, cpu.jiffies);
    EXPECT_EQ(stat.cpus[cpu.index].times.columns, expected.columns);
  }
  for (std::size_t index = 0; index < stat.cpus.size(); ++index) {
    if (expected.case_name != "cpu_offline") {
      EXPECT_EQ(stat.cpus[index].cpu, index);
    }
  }
  EXPECT_EQ(stat.context_switches, expected.context_switches);
  EXPECT_EQ(stat.processes_forked, expected.processes_forked);
  EXPECT_EQ(stat.procs_running, expected.procs_running);
  EXPECT_EQ(stat.procs_blocked, expected.procs_blocked);
  EXPECT_EQ(stat.boot_time_s, expected.boot_time_s);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ProcStatFixtureTest, ::testing::ValuesIn(stat_fixture_cases()),
                         [](const ::testing::TestParamInfo<StatFixtureCase>& param_info) {
                           return std::string(param_info.param.case_name);
                         });

TEST(ProcStatTest, IndexesColumnsByCpuState) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat("cpu  1 2 3 4 5 6 7 8 9 10\n", stat).ok());
  EXPECT_EQ(stat.total[CpuState::user], 1u);
  EXPECT_EQ(stat.total[CpuState::idle], 4u);
  EXPECT_EQ(stat.total[CpuState::steal], 8u);
  EXPECT_EQ(stat.total[CpuState::guest_nice], 10u);
}

struct StatTextCase {
  std::string_view name;
  std::string_view text;
  Jiffies total;
  std::uint8_t columns;
  std::vector<std::uint32_t> cpu_ids;
  std::uint64_t context_switches;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const StatTextCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcStatTextTest : public ::testing::TestWithParam<StatTextCase> {};

TEST_P(ProcStatTextTest, Parses) {
  const StatTextCase& expected = GetParam();
  ProcStat stat;
  const Status status = parse_proc_stat(expected.text, stat);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(stat.total.jiffies, expected.total);
  EXPECT_EQ(stat.total.columns, expected.columns);
  std::vector<std::uint32_t> ids;
  for (const CpuLine& cpu : stat.cpus) ids.push_back(cpu.cpu);
  EXPECT_EQ(ids, expected.cpu_ids);
  EXPECT_EQ(stat.context_switches, expected.context_switches);
}

using namespace std::string_view_literals;

INSTANTIATE_TEST_SUITE_P(
    Formats, ProcStatTextTest,
    ::testing::Values(
        // 2.4: four columns, no procs_* lines, page/swap/disk_io lines.
        StatTextCase{"linux2_4", "cpu  100 2 30 400\ncpu0 100 2 30 400\npage 5741 1808\nswap 1 0\n"
                                 "intr 1 2\ndisk_io: (3,0):(1,2,3,4,5)\nctxt 5\nbtime 6\nprocesses 7\n",
                     {100, 2, 30, 400, 0, 0, 0, 0, 0, 0}, 4, {0}, 5},
        // 2.6.11 added steal, 2.6.24 guest, 2.6.33 guest_nice.
        StatTextCase{"eight_columns", "cpu 1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n",
                     {1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, 8, {0}, 0},
        StatTextCase{"nine_columns", "cpu 1 2 3 4 5 6 7 8 9\n", {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, 9, {}, 0},
        StatTextCase{"eleven_columns_ignored", "cpu 1 2 3 4 5 6 7 8 9 10 11\ncpu0 1 2 3 4 5 6 7 8 9 10 x y\n",
                     {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10, {0}, 0},
        StatTextCase{"crlf", "cpu 1 2 3 4\r\ncpu0 1 2 3 4\r\nctxt 9\r\n", {1, 2, 3, 4, 0, 0, 0, 0, 0, 0}, 4, {0}, 9},
        StatTextCase{"tabs_and_extra_spaces", "  cpu\t1  2\t\t3 4   \n\tcpu7 1 2 3 4\nctxt\t 12 \n",
                     {1, 2, 3, 4, 0, 0, 0, 0, 0, 0}, 4, {7}, 12},
        StatTextCase{"largest_values", "cpu 18446744073709551615 0 0 18446744073709551615\n",
                     {18446744073709551615u, 0, 0, 18446744073709551615u, 0, 0, 0, 0, 0, 0}, 4, {}, 0},
        StatTextCase{"leading_zeros", "cpu 007 0 0 1\n", {7, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 4, {}, 0},
        StatTextCase{"highest_cpu_id_and_file_order", "cpu 1 1 1 1\ncpu8191 1 1 1 1\ncpu0 1 1 1 1\n",
                     {1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, 4, {8191, 0}, 0},
        StatTextCase{"blank_and_unknown_lines", "\ncpu 1 2 3 4\n\nunknown words here\nintr\nsoftirq\n\n",
                     {1, 2, 3, 4, 0, 0, 0, 0, 0, 0}, 4, {}, 0},
        StatTextCase{"nul_in_skipped_line", "cpu 1 2 3 4\nintr 1 \0 2\n"sv, {1, 2, 3, 4, 0, 0, 0, 0, 0, 0}, 4, {},
                     0}),
    [](const ::testing::TestParamInfo<StatTextCase>& param_info) {
      return std::string(param_info.param.name);
    });

struct BadStatCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const BadStatCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcStatBadTest : public ::testing::TestWithParam<BadStatCase> {};

TEST_P(ProcStatBadTest, FailsNamingTheProblem) {
  const BadStatCase& bad = GetParam();
  ProcStat stat;
  const Status status = parse_proc_stat(bad.text, stat);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(bad.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcStatBadTest,
    ::testing::Values(
        BadStatCase{"empty", "", "stat: file is empty"},
        BadStatCase{"no_final_newline", "cpu 1 2 3 4", "does not end with a newline"},
        BadStatCase{"no_aggregate_line", "cpu0 1 2 3 4\nintr 1 2\n", "aggregate cpu line is missing"},
        BadStatCase{"only_newlines", "\n\n\n", "aggregate cpu line is missing"},
        BadStatCase{"too_few_columns", "cpu 1 2 3\n", "stat line 1: cpu: expected at least 4 columns, got 3"},
        BadStatCase{"no_columns", "cpu\n", "expected at least 4 columns, got 0"},
        BadStatCase{"word_in_column",
                    "cpu 1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 x\n",
                    "stat line 3: cpu1: column 4 (idle): expected a number, got 'x'"},
        BadStatCase{"negative_column", "cpu 1 -2 3 4\n", "column 2 (nice): expected a non-negative number, got '-2'"},
        BadStatCase{"overflowing_column", "cpu 1 2 3 18446744073709551616\n",
                    "column 4 (idle): value '18446744073709551616' does not fit in 64 bits"},
        BadStatCase{"hex_column", "cpu 1 2 3 0x4\n", "got '0x4'"},
        BadStatCase{"plus_sign", "cpu 1 2 3 +4\n", "got '+4'"},
        BadStatCase{"decimal_point", "cpu 1 2 3 4.5\n", "got '4.5'"},
        BadStatCase{"nul_in_column", "cpu 1 2 3 4\0\n"sv, "got '4\\x00'"},
        BadStatCase{"long_garbage_is_capped", "cpu 1 2 3 4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
                    "xxxxxxxxx...'"},
        BadStatCase{"cpu_id_not_a_number", "cpu 1 2 3 4\ncpux 1 2 3 4\n",
                    "stat line 2: bad CPU id in 'cpux': expected a number, got 'x'"},
        BadStatCase{"cpu_id_negative", "cpu 1 2 3 4\ncpu-1 1 2 3 4\n", "bad CPU id in 'cpu-1'"},
        BadStatCase{"cpu_id_overflow", "cpu 1 2 3 4\ncpu4294967296 1 2 3 4\n", "does not fit in 32 bits"},
        BadStatCase{"cpu_id_above_maximum", "cpu 1 2 3 4\ncpu8192 1 2 3 4\n",
                    "stat line 2: cpu8192: CPU id above the maximum 8191"},
        BadStatCase{"unknown_cpu_prefixed_line", "cpu 1 2 3 4\ncpufreq 1\n", "bad CPU id in 'cpufreq'"},
        BadStatCase{"duplicate_cpu_id", "cpu 1 2 3 4\ncpu1 1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\n",
                    "stat line 4: cpu1 appears twice"},
        BadStatCase{"duplicate_aggregate", "cpu 1 2 3 4\ncpu 1 2 3 4\n",
                    "stat line 2: the aggregate cpu line appears twice"},
        BadStatCase{"cpu_line_too_short", "cpu 1 2 3 4\ncpu0 1 2\n", "stat line 2: cpu0: expected at least 4 columns"},
        BadStatCase{"column_count_mismatch", "cpu 1 2 3 4 5 6 7\ncpu0 1 2 3 4\n",
                    "cpu0 has 4 columns but the aggregate cpu line has 7"},
        BadStatCase{"ctxt_without_value", "cpu 1 2 3 4\nctxt\n", "stat line 2: ctxt: expected a number, got nothing"},
        BadStatCase{"ctxt_word", "cpu 1 2 3 4\nctxt abc\n", "ctxt: expected a number, got 'abc'"},
        BadStatCase{"ctxt_extra_value", "cpu 1 2 3 4\nctxt 1 2\n", "ctxt: unexpected '2' after the value"},
        BadStatCase{"btime_negative", "cpu 1 2 3 4\nbtime -5\n", "btime: expected a non-negative number"},
        BadStatCase{"processes_overflow", "cpu 1 2 3 4\nprocesses 99999999999999999999\n",
                    "processes: value '99999999999999999999' does not fit in 64 bits"},
        BadStatCase{"procs_running_overflow", "cpu 1 2 3 4\nprocs_running 4294967296\n",
                    "procs_running: value '4294967296' does not fit in 32 bits"},
        BadStatCase{"procs_blocked_word", "cpu 1 2 3 4\nprocs_blocked many\n", "procs_blocked: expected a number"},
        BadStatCase{"duplicate_scalar", "cpu 1 2 3 4\nbtime 1\nbtime 2\n", "stat line 3: btime appears twice"}),
    [](const ::testing::TestParamInfo<BadStatCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ProcStatTest, BadFixturesFail) {
  for (const std::string_view case_name : testing_support::kBadCases) {
    SCOPED_TRACE(case_name);
    ProcStat stat;
    const Status status = parse_proc_stat(read_fixture(case_name, "stat"), stat);
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(status.error, ::testing::StartsWith("stat"));
  }
}

TEST(ProcStatTest, BadFixtureMessages) {
  ProcStat stat;
  EXPECT_THAT(parse_proc_stat(read_fixture("truncated", "stat"), stat).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_stat(read_fixture("empty", "stat"), stat).error, HasSubstr("file is empty"));
  EXPECT_THAT(parse_proc_stat(read_fixture("garbage", "stat"), stat).error,
              HasSubstr("aggregate cpu line is missing"));
}

TEST(ProcStatTest, ReusesCpuCapacityOnTheSteadyPath) {
  const std::string big = read_fixture("linux6_256cpu", "stat");
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat(big, stat).ok());
  const CpuLine* const first_data = stat.cpus.data();
  const std::size_t first_capacity = stat.cpus.capacity();
  ASSERT_GE(first_capacity, 256u);

  ASSERT_TRUE(parse_proc_stat(big, stat).ok());
  EXPECT_EQ(stat.cpus.data(), first_data);
  EXPECT_EQ(stat.cpus.capacity(), first_capacity);
  EXPECT_EQ(stat.cpus.size(), 256u);

  // A smaller machine's text keeps the storage too: no shrink, no regrowth.
  ASSERT_TRUE(parse_proc_stat(read_fixture("linux6_2cpu", "stat"), stat).ok());
  EXPECT_EQ(stat.cpus.data(), first_data);
  EXPECT_EQ(stat.cpus.size(), 2u);
}

TEST(ProcStatTest, OptionalFieldsResetBetweenParses) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat(read_fixture("linux6_64cpu", "stat"), stat).ok());
  ASSERT_EQ(stat.procs_running, 18u);
  ASSERT_TRUE(parse_proc_stat("cpu 1 2 3 4 5 6 7\n", stat).ok());
  EXPECT_EQ(stat.procs_running, 0u);
  EXPECT_EQ(stat.procs_blocked, 0u);
  EXPECT_EQ(stat.context_switches, 0u);
  EXPECT_EQ(stat.processes_forked, 0u);
  EXPECT_EQ(stat.boot_time_s, 0u);
  EXPECT_TRUE(stat.cpus.empty());
  // Columns an old kernel does not report read as 0, not as last parse's values.
  EXPECT_EQ(stat.total.jiffies, (Jiffies{1, 2, 3, 4, 5, 6, 7, 0, 0, 0}));
}

}  // namespace
}  // namespace hostpulse
