#include "collectors/linux/proc_meminfo.hpp"

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

constexpr std::uint64_t kKibibyte = 1024;

// kB values copied by hand from tests/fixtures/proc/<case>/meminfo.
struct MeminfoFixtureCase {
  std::string_view case_name;
  std::uint64_t total_kb;
  std::uint64_t free_kb;
  std::uint64_t available_kb;
  std::uint64_t buffers_kb;
  std::uint64_t cached_kb;
  std::uint64_t shared_kb;
  std::uint64_t slab_reclaimable_kb;
  std::uint64_t swap_total_kb;
  std::uint64_t swap_free_kb;
  std::uint64_t dirty_kb;
  bool available_estimated;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const MeminfoFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

constexpr MeminfoFixtureCase kLinux6TwoCpu{"linux6_2cpu", 24684084, 24540360, 24448580, 676, 18528, 8872,
                                           48036,         0,        0,        124,      false};

class ProcMeminfoFixtureTest : public ::testing::TestWithParam<MeminfoFixtureCase> {};

TEST_P(ProcMeminfoFixtureTest, ParsesExactValues) {
  const MeminfoFixtureCase& expected = GetParam();
  MemInfo memory;
  const Status status = parse_proc_meminfo(read_fixture(expected.case_name, "meminfo"), memory);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(memory.total_bytes, expected.total_kb * kKibibyte);
  EXPECT_EQ(memory.free_bytes, expected.free_kb * kKibibyte);
  EXPECT_EQ(memory.available_bytes, expected.available_kb * kKibibyte);
  EXPECT_EQ(memory.buffers_bytes, expected.buffers_kb * kKibibyte);
  EXPECT_EQ(memory.cached_bytes, expected.cached_kb * kKibibyte);
  EXPECT_EQ(memory.shared_bytes, expected.shared_kb * kKibibyte);
  EXPECT_EQ(memory.slab_reclaimable_bytes, expected.slab_reclaimable_kb * kKibibyte);
  EXPECT_EQ(memory.swap_total_bytes, expected.swap_total_kb * kKibibyte);
  EXPECT_EQ(memory.swap_free_bytes, expected.swap_free_kb * kKibibyte);
  EXPECT_EQ(memory.dirty_bytes, expected.dirty_kb * kKibibyte);
  EXPECT_EQ(memory.available_estimated, expected.available_estimated);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcMeminfoFixtureTest,
    ::testing::Values(
        kLinux6TwoCpu,
        MeminfoFixtureCase{"linux6_64cpu", 262566623, 134989788, 197238045, 1233531, 62484760, 3576889, 4213710,
                           8388608, 8087859, 385529, false},
        MeminfoFixtureCase{"linux6_256cpu", 1067002735, 406681285, 574053148, 3463654, 157274393, 2005255, 17278143,
                           8388608, 8071339, 128040, false},
        // No MemAvailable: estimated as free + buffers + cached + SReclaimable
        // (absent too) = 81244 + 156212 + 1203364 + 0.
        MeminfoFixtureCase{"linux2_6_old", 2075536, 81244, 1440820, 156212, 1203364, 0, 0, 4192956, 4192836, 412,
                           true},
        MeminfoFixtureCase{"extra_fields", 24684084, 24540360, 24448580, 676, 18528, 8872, 48036, 0, 0, 124, false},
        MeminfoFixtureCase{"missing_fields", 24684084, 24540360, 24448580, 676, 18528, 8872, 48036, 0, 0, 124,
                           false},
        MeminfoFixtureCase{"cpu_offline", 24684084, 24540360, 24448580, 676, 18528, 8872, 48036, 0, 0, 124, false}),
    [](const ::testing::TestParamInfo<MeminfoFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcMeminfoTest, ParsesMinimalText) {
  MemInfo memory;
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 100 kB\nMemFree: 40 kB\nMemAvailable: 60 kB\n", memory).ok());
  EXPECT_EQ(memory.total_bytes, 102400u);
  EXPECT_EQ(memory.free_bytes, 40960u);
  EXPECT_EQ(memory.available_bytes, 61440u);
  EXPECT_FALSE(memory.available_estimated);
  EXPECT_EQ(memory.swap_total_bytes, 0u);
}

TEST(ProcMeminfoTest, AcceptsTabsCrlfAndUnknownOrMalformedLines) {
  MemInfo memory;
  const Status status = parse_proc_meminfo(
      "garbage without a colon\r\n"
      "Weird: not a number kB\r\n"
      "HugePages_Total:       0\r\n"
      "MemTotal:\t\t200\tkB\r\n"
      ": 12 kB\r\n"
      "MemFree:   20 kB   \r\n"
      "MemAvailable: 150 kB\r\n"
      "Unknown\0Key: \0 kB\r\n"sv,
      memory);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(memory.total_bytes, 200 * kKibibyte);
  EXPECT_EQ(memory.free_bytes, 20 * kKibibyte);
  EXPECT_EQ(memory.available_bytes, 150 * kKibibyte);
}

TEST(ProcMeminfoTest, LargestValueThatFitsInBytes) {
  MemInfo memory;
  // 2^54 - 1 kB is the largest kB count whose byte value fits in 64 bits.
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 18014398509481983 kB\nMemFree: 0 kB\n", memory).ok());
  EXPECT_EQ(memory.total_bytes, 18446744073709550592u);
}

TEST(ProcMeminfoTest, EstimateIsClampedToTotal) {
  MemInfo memory;
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 100 kB\nMemFree: 50 kB\nBuffers: 40 kB\nCached: 30 kB\n"
                                 "SReclaimable: 20 kB\n",
                                 memory)
                  .ok());
  EXPECT_TRUE(memory.available_estimated);
  EXPECT_EQ(memory.available_bytes, 100 * kKibibyte);
}

TEST(ProcMeminfoTest, EstimateDoesNotWrapAround) {
  MemInfo memory;
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 18014398509481983 kB\nMemFree: 18014398509481983 kB\n"
                                 "Cached: 18014398509481983 kB\n",
                                 memory)
                  .ok());
  EXPECT_EQ(memory.available_bytes, memory.total_bytes);
}

TEST(ProcMeminfoTest, FieldsResetBetweenParses) {
  MemInfo memory;
  ASSERT_TRUE(parse_proc_meminfo(read_fixture("linux6_64cpu", "meminfo"), memory).ok());
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 10 kB\nMemFree: 5 kB\nMemAvailable: 6 kB\n", memory).ok());
  EXPECT_EQ(memory.swap_total_bytes, 0u);
  EXPECT_EQ(memory.dirty_bytes, 0u);
  EXPECT_EQ(memory.cached_bytes, 0u);
}

struct BadMeminfoCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const BadMeminfoCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcMeminfoBadTest : public ::testing::TestWithParam<BadMeminfoCase> {};

TEST_P(ProcMeminfoBadTest, FailsNamingTheProblem) {
  const BadMeminfoCase& bad = GetParam();
  MemInfo memory;
  const Status status = parse_proc_meminfo(bad.text, memory);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(bad.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcMeminfoBadTest,
    ::testing::Values(
        BadMeminfoCase{"empty", "", "meminfo: file is empty"},
        BadMeminfoCase{"no_final_newline", "MemTotal: 1 kB\nMemFree: 1 kB", "does not end with a newline"},
        BadMeminfoCase{"total_missing", "MemFree: 1 kB\n", "meminfo: MemTotal missing"},
        BadMeminfoCase{"free_missing", "MemTotal: 1 kB\n", "meminfo: MemFree missing"},
        BadMeminfoCase{"total_key_with_space", "MemTotal : 1 kB\nMemFree: 1 kB\n", "MemTotal missing"},
        BadMeminfoCase{"word_value", "MemTotal: abc kB\nMemFree: 1 kB\n",
                       "meminfo line 1: MemTotal: expected a number, got 'abc'"},
        BadMeminfoCase{"no_value", "MemTotal:\nMemFree: 1 kB\n", "MemTotal: expected a number, got nothing"},
        BadMeminfoCase{"negative_value", "MemTotal: 1 kB\nMemFree: -1 kB\n",
                       "meminfo line 2: MemFree: expected a non-negative number, got '-1'"},
        BadMeminfoCase{"wrong_unit", "MemTotal: 12 MB\nMemFree: 1 kB\n", "MemTotal: expected unit 'kB', got 'MB'"},
        BadMeminfoCase{"no_unit", "MemTotal: 12\nMemFree: 1 kB\n", "MemTotal: expected unit 'kB', got nothing"},
        BadMeminfoCase{"text_after_unit", "MemTotal: 12 kB extra\nMemFree: 1 kB\n",
                       "MemTotal: unexpected 'extra' after the unit"},
        BadMeminfoCase{"bytes_overflow", "MemTotal: 18014398509481984 kB\nMemFree: 1 kB\n",
                       "MemTotal: 18014398509481984 kB does not fit in 64-bit bytes"},
        BadMeminfoCase{"number_overflow", "MemTotal: 99999999999999999999 kB\nMemFree: 1 kB\n",
                       "value '99999999999999999999' does not fit in 64 bits"},
        BadMeminfoCase{"decimal_value", "MemTotal: 1.5 kB\nMemFree: 1 kB\n", "got '1.5'"},
        BadMeminfoCase{"duplicate_field", "MemTotal: 1 kB\nMemFree: 1 kB\nMemTotal: 2 kB\n",
                       "meminfo line 3: MemTotal: appears twice (first on line 1)"},
        BadMeminfoCase{"malformed_optional_field", "MemTotal: 1 kB\nMemFree: 1 kB\nDirty: lots kB\n",
                       "meminfo line 3: Dirty: expected a number, got 'lots'"},
        BadMeminfoCase{"nul_in_used_value", "MemTotal: 1\0 kB\nMemFree: 1 kB\n"sv, "got '1\\x00'"}),
    [](const ::testing::TestParamInfo<BadMeminfoCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ProcMeminfoTest, BadFixturesFail) {
  MemInfo memory;
  EXPECT_THAT(parse_proc_meminfo(read_fixture("truncated", "meminfo"), memory).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_meminfo(read_fixture("empty", "meminfo"), memory).error, HasSubstr("file is empty"));
  EXPECT_THAT(parse_proc_meminfo(read_fixture("garbage", "meminfo"), memory).error,
              HasSubstr("MemTotal missing"));
}

}  // namespace
}  // namespace hostpulse
