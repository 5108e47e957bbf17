#include "collectors/linux/proc_uptime.hpp"

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

// Values copied by hand from tests/fixtures/proc/<case>/uptime.
struct UptimeFixtureCase {
  std::string_view case_name;
  double uptime_s;
  double idle_s;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const UptimeFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class ProcUptimeFixtureTest : public ::testing::TestWithParam<UptimeFixtureCase> {};

TEST_P(ProcUptimeFixtureTest, ParsesExactValues) {
  const UptimeFixtureCase& expected = GetParam();
  Uptime uptime;
  const Status status = parse_proc_uptime(read_fixture(expected.case_name, "uptime"), uptime);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(uptime.uptime_s, expected.uptime_s);
  EXPECT_EQ(uptime.idle_s, expected.idle_s);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcUptimeFixtureTest,
    ::testing::Values(UptimeFixtureCase{"linux6_2cpu", 368.91, 708.82},
                      UptimeFixtureCase{"linux6_64cpu", 6928364.80, 308419812.69},
                      UptimeFixtureCase{"linux6_256cpu", 7125477.55, 1241224156.14},
                      UptimeFixtureCase{"linux2_6_old", 95204.77, 93984.15},
                      UptimeFixtureCase{"extra_fields", 9123.44, 17002.91},
                      UptimeFixtureCase{"missing_fields", 368.91, 708.82},
                      UptimeFixtureCase{"cpu_offline", 368.91, 708.82}),
    [](const ::testing::TestParamInfo<UptimeFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcUptimeTest, AcceptsTabsCrlfAndZero) {
  Uptime uptime;
  const Status status = parse_proc_uptime("\t0 \t 0.00  \r\n", uptime);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(uptime.uptime_s, 0.0);
  EXPECT_EQ(uptime.idle_s, 0.0);
}

struct BadUptimeCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const BadUptimeCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcUptimeBadTest : public ::testing::TestWithParam<BadUptimeCase> {};

TEST_P(ProcUptimeBadTest, FailsNamingTheProblem) {
  const BadUptimeCase& bad = GetParam();
  Uptime uptime;
  const Status status = parse_proc_uptime(bad.text, uptime);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(bad.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcUptimeBadTest,
    ::testing::Values(
        BadUptimeCase{"empty", "", "uptime: file is empty"},
        BadUptimeCase{"no_final_newline", "350735.47 234388.90", "does not end with a newline"},
        BadUptimeCase{"blank_line", "\n", "uptime: seconds up: expected a number, got nothing"},
        BadUptimeCase{"idle_missing", "350735.47\n", "uptime: idle seconds: expected a number, got nothing"},
        BadUptimeCase{"negative_uptime", "-1.00 2.00\n", "seconds up: expected a non-negative number, got '-1.00'"},
        BadUptimeCase{"negative_idle", "1.00 -2.00\n", "idle seconds: expected a non-negative number"},
        BadUptimeCase{"infinite", "inf 2.00\n", "seconds up: expected a finite number, got 'inf'"},
        BadUptimeCase{"not_a_number", "1.00 nan\n", "idle seconds: expected a finite number, got 'nan'"},
        BadUptimeCase{"overflow", "1e400 2.00\n", "value '1e400' does not fit in a double"},
        BadUptimeCase{"word", "up 2.00\n", "expected a number, got 'up'"},
        BadUptimeCase{"trailing_field", "1.00 2.00 3.00\n", "unexpected '3.00' after the idle seconds"},
        BadUptimeCase{"second_line", "1.00 2.00\n1.00 2.00\n", "expected one line, found more after line 1"},
        BadUptimeCase{"nul_byte", "1.00 2.\0\n"sv, "got '2.\\x00'"}),
    [](const ::testing::TestParamInfo<BadUptimeCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ProcUptimeTest, BadFixturesFail) {
  Uptime uptime;
  EXPECT_THAT(parse_proc_uptime(read_fixture("truncated", "uptime"), uptime).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_uptime(read_fixture("empty", "uptime"), uptime).error, HasSubstr("file is empty"));
  const Status garbage = parse_proc_uptime(read_fixture("garbage", "uptime"), uptime);
  EXPECT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.error, ::testing::StartsWith("uptime: "));
}

}  // namespace
}  // namespace hostpulse
