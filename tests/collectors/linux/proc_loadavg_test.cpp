#include "collectors/linux/proc_loadavg.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collectors/fixture_files.hpp"

namespace hostpulse {
namespace {

using testing_support::read_fixture;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

// Values copied by hand from tests/fixtures/proc/<case>/loadavg.
struct LoadavgFixtureCase {
  std::string_view case_name;
  double load_1m;
  double load_5m;
  double load_15m;
  std::uint32_t tasks_runnable;
  std::uint32_t tasks_total;
  std::uint32_t last_pid;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const LoadavgFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class ProcLoadavgFixtureTest : public ::testing::TestWithParam<LoadavgFixtureCase> {};

TEST_P(ProcLoadavgFixtureTest, ParsesExactValues) {
  const LoadavgFixtureCase& expected = GetParam();
  LoadAvg load;
  const Status status = parse_proc_loadavg(read_fixture(expected.case_name, "loadavg"), load);
  ASSERT_TRUE(status.ok()) << status.error;
  // from_chars rounds correctly, so the result equals the literal exactly.
  EXPECT_EQ(load.load_1m, expected.load_1m);
  EXPECT_EQ(load.load_5m, expected.load_5m);
  EXPECT_EQ(load.load_15m, expected.load_15m);
  EXPECT_EQ(load.tasks_runnable, expected.tasks_runnable);
  EXPECT_EQ(load.tasks_total, expected.tasks_total);
  EXPECT_EQ(load.last_pid, expected.last_pid);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcLoadavgFixtureTest,
    ::testing::Values(LoadavgFixtureCase{"linux6_2cpu", 0.00, 0.03, 0.00, 1, 79, 2796},
                      LoadavgFixtureCase{"linux6_64cpu", 16.07, 19.05, 16.15, 4, 2560, 2869744},
                      LoadavgFixtureCase{"linux6_256cpu", 33.20, 38.96, 33.36, 74, 6144, 2897787},
                      LoadavgFixtureCase{"linux2_6_old", 0.08, 0.03, 0.01, 1, 102, 10385},
                      LoadavgFixtureCase{"extra_fields", 1.52, 0.97, 0.41, 3, 151, 48213},
                      LoadavgFixtureCase{"missing_fields", 0.00, 0.03, 0.00, 1, 79, 2796},
                      LoadavgFixtureCase{"cpu_offline", 0.00, 0.03, 0.00, 1, 79, 2796}),
    [](const ::testing::TestParamInfo<LoadavgFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcLoadavgTest, AcceptsTabsCrlfAndLargeValues) {
  LoadAvg load;
  const Status status = parse_proc_loadavg("  1024.99\t2.5 3 \t 4294967295/4294967295 4194304 \r\n", load);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(load.load_1m, 1024.99);
  EXPECT_EQ(load.load_5m, 2.5);
  EXPECT_EQ(load.load_15m, 3.0);
  EXPECT_EQ(load.tasks_runnable, 4294967295u);
  EXPECT_EQ(load.tasks_total, 4294967295u);
  EXPECT_EQ(load.last_pid, 4194304u);
}

struct BadLoadavgCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const BadLoadavgCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcLoadavgBadTest : public ::testing::TestWithParam<BadLoadavgCase> {};

TEST_P(ProcLoadavgBadTest, FailsNamingTheProblem) {
  const BadLoadavgCase& bad = GetParam();
  LoadAvg load;
  const Status status = parse_proc_loadavg(bad.text, load);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(bad.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcLoadavgBadTest,
    ::testing::Values(
        BadLoadavgCase{"empty", "", "loadavg: file is empty"},
        BadLoadavgCase{"no_final_newline", "0.20 0.18 0.12 1/80 11206", "does not end with a newline"},
        BadLoadavgCase{"blank_line", "\n", "loadavg: 1-minute load: expected a number, got nothing"},
        BadLoadavgCase{"second_line", "0.20 0.18 0.12 1/80 11206\n0.20 0.18 0.12 1/80 11206\n",
                       "expected one line, found more after line 1"},
        BadLoadavgCase{"word", "high 0.18 0.12 1/80 11206\n", "1-minute load: expected a number, got 'high'"},
        BadLoadavgCase{"negative", "0.20 -0.18 0.12 1/80 11206\n",
                       "5-minute load: expected a non-negative number, got '-0.18'"},
        BadLoadavgCase{"negative_zero", "-0.00 0.18 0.12 1/80 11206\n", "1-minute load: expected a non-negative"},
        BadLoadavgCase{"infinite", "0.20 0.18 inf 1/80 11206\n",
                       "15-minute load: expected a finite number, got 'inf'"},
        BadLoadavgCase{"not_a_number", "nan 0.18 0.12 1/80 11206\n", "expected a finite number, got 'nan'"},
        BadLoadavgCase{"double_overflow", "1e999 0.18 0.12 1/80 11206\n", "value '1e999' does not fit in a double"},
        BadLoadavgCase{"comma_decimal", "0,20 0.18 0.12 1/80 11206\n", "got '0,20'"},
        BadLoadavgCase{"missing_loads", "0.20 0.18\n", "15-minute load: expected a number, got nothing"},
        BadLoadavgCase{"tasks_missing", "0.20 0.18 0.12\n", "expected runnable/total tasks, got nothing"},
        BadLoadavgCase{"tasks_without_slash", "0.20 0.18 0.12 1-80 11206\n",
                       "expected runnable/total tasks, got '1-80'"},
        BadLoadavgCase{"runnable_empty", "0.20 0.18 0.12 /80 11206\n",
                       "runnable tasks: expected a number, got nothing"},
        BadLoadavgCase{"total_empty", "0.20 0.18 0.12 1/ 11206\n", "total tasks: expected a number, got nothing"},
        BadLoadavgCase{"total_overflow", "0.20 0.18 0.12 1/4294967296 11206\n",
                       "total tasks: value '4294967296' does not fit in 32 bits"},
        BadLoadavgCase{"double_slash", "0.20 0.18 0.12 1/8/0 11206\n", "total tasks: expected a number, got '8/0'"},
        BadLoadavgCase{"last_pid_missing", "0.20 0.18 0.12 1/80\n", "loadavg: last pid missing"},
        BadLoadavgCase{"last_pid_negative", "0.20 0.18 0.12 1/80 -1\n", "last pid: expected a non-negative number"},
        BadLoadavgCase{"trailing_field", "0.20 0.18 0.12 1/80 11206 7\n", "unexpected '7' after the last pid"},
        BadLoadavgCase{"nul_byte", "0.20\0 0.18 0.12 1/80 11206\n"sv, "got '0.20\\x00'"}),
    [](const ::testing::TestParamInfo<BadLoadavgCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ProcLoadavgTest, BadFixturesFail) {
  LoadAvg load;
  EXPECT_THAT(parse_proc_loadavg(read_fixture("truncated", "loadavg"), load).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_loadavg(read_fixture("empty", "loadavg"), load).error, HasSubstr("file is empty"));
  const Status garbage = parse_proc_loadavg(read_fixture("garbage", "loadavg"), load);
  EXPECT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.error, ::testing::StartsWith("loadavg: "));
}

}  // namespace
}  // namespace hostpulse
