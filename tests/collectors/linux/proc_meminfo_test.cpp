#include "collectors/linux/proc_meminfo.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/collectors/fixture_files.hpp"
#include "tests/support/recording_metric_writer.hpp"

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

TEST(ProcMeminfoExposeTest, EveryFieldUnderNodeExporterNames) {
  MemInfo meminfo;
  ASSERT_TRUE(parse_proc_meminfo(read_fixture("linux6_2cpu", "meminfo"), meminfo).ok());
  testing_support::RecordingMetricWriter writer(proc_meminfo_source().metrics);
  expose_proc_meminfo(meminfo, writer);
  using testing_support::metric_sample;
  // Every line of tests/fixtures/proc/linux6_2cpu/meminfo, in its order:
  // "Active(anon)" as Active_anon, kB in bytes, HugePages_* as counts.
  const std::vector<testing_support::RecordedSample> expected = {
      metric_sample("node_memory_MemTotal_bytes", {}, 24684084 * kKibibyte),
      metric_sample("node_memory_MemFree_bytes", {}, 24540360 * kKibibyte),
      metric_sample("node_memory_MemAvailable_bytes", {}, 24448580 * kKibibyte),
      metric_sample("node_memory_Buffers_bytes", {}, 676 * kKibibyte),
      metric_sample("node_memory_Cached_bytes", {}, 18528 * kKibibyte),
      metric_sample("node_memory_SwapCached_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Active_bytes", {}, 7848 * kKibibyte),
      metric_sample("node_memory_Inactive_bytes", {}, 6780 * kKibibyte),
      metric_sample("node_memory_Active_anon_bytes", {}, 1512 * kKibibyte),
      metric_sample("node_memory_Inactive_anon_bytes", {}, 2784 * kKibibyte),
      metric_sample("node_memory_Active_file_bytes", {}, 6336 * kKibibyte),
      metric_sample("node_memory_Inactive_file_bytes", {}, 3996 * kKibibyte),
      metric_sample("node_memory_Unevictable_bytes", {}, 11204 * kKibibyte),
      metric_sample("node_memory_Mlocked_bytes", {}, 10240 * kKibibyte),
      metric_sample("node_memory_SwapTotal_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_SwapFree_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Zswap_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Zswapped_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Dirty_bytes", {}, 124 * kKibibyte),
      metric_sample("node_memory_Writeback_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_AnonPages_bytes", {}, 6728 * kKibibyte),
      metric_sample("node_memory_Mapped_bytes", {}, 10484 * kKibibyte),
      metric_sample("node_memory_Shmem_bytes", {}, 8872 * kKibibyte),
      metric_sample("node_memory_KReclaimable_bytes", {}, 48036 * kKibibyte),
      metric_sample("node_memory_Slab_bytes", {}, 69180 * kKibibyte),
      metric_sample("node_memory_SReclaimable_bytes", {}, 48036 * kKibibyte),
      metric_sample("node_memory_SUnreclaim_bytes", {}, 21144 * kKibibyte),
      metric_sample("node_memory_KernelStack_bytes", {}, 1256 * kKibibyte),
      metric_sample("node_memory_PageTables_bytes", {}, 1272 * kKibibyte),
      metric_sample("node_memory_SecPageTables_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_NFS_Unstable_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Bounce_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_WritebackTmp_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_CommitLimit_bytes", {}, 12342040 * kKibibyte),
      metric_sample("node_memory_Committed_AS_bytes", {}, 49868 * kKibibyte),
      metric_sample("node_memory_VmallocTotal_bytes", {}, 34359738367 * kKibibyte),
      metric_sample("node_memory_VmallocUsed_bytes", {}, 14060 * kKibibyte),
      metric_sample("node_memory_VmallocChunk_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Percpu_bytes", {}, 688 * kKibibyte),
      metric_sample("node_memory_AnonHugePages_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_ShmemHugePages_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_ShmemPmdMapped_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_FileHugePages_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_FilePmdMapped_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_Balloon_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_HugePages_Total", {}, 0),
      metric_sample("node_memory_HugePages_Free", {}, 0),
      metric_sample("node_memory_HugePages_Rsvd", {}, 0),
      metric_sample("node_memory_HugePages_Surp", {}, 0),
      metric_sample("node_memory_Hugepagesize_bytes", {}, 2048 * kKibibyte),
      metric_sample("node_memory_Hugetlb_bytes", {}, 0 * kKibibyte),
      metric_sample("node_memory_DirectMap4k_bytes", {}, 26624 * kKibibyte),
      metric_sample("node_memory_DirectMap2M_bytes", {}, 2070528 * kKibibyte),
      metric_sample("node_memory_DirectMap1G_bytes", {}, 25165824 * kKibibyte),
  };
  EXPECT_EQ(writer.samples, expected);
  EXPECT_EQ(writer.refused, 0u);
}

TEST(ProcMeminfoExposeTest, UnknownFieldsSkippedAndFieldsOutOfKernelOrderFound) {
  // FutureCounter and FutureNode(x,y) are in no kernel yet; Unaccepted comes
  // after Hugetlb here, not where 6.x prints it.
  MemInfo meminfo;
  ASSERT_TRUE(parse_proc_meminfo(read_fixture("extra_fields", "meminfo"), meminfo).ok());
  testing_support::RecordingMetricWriter writer(proc_meminfo_source().metrics);
  expose_proc_meminfo(meminfo, writer);
  EXPECT_EQ(writer.samples.size(), 56u);  // 58 lines, two unknown
  EXPECT_EQ(writer.value("node_memory_Unaccepted_bytes"), 0.0);
  EXPECT_EQ(writer.value("node_memory_HardwareCorrupted_bytes"), 0.0);
  EXPECT_EQ(writer.value("node_memory_DirectMap1G_bytes"), 25165824.0 * kKibibyte);
  for (const testing_support::RecordedSample& sample : writer.samples) {
    EXPECT_THAT(sample.name, ::testing::Not(HasSubstr("Future"))) << sample.name;
  }
}

TEST(ProcMeminfoExposeTest, MalformedUnusedFieldIsNoSampleAndEstimateIsNotExposed) {
  MemInfo meminfo;
  const Status status = parse_proc_meminfo(
      "MemTotal: 1000 kB\nMemFree: 400 kB\nActive(anon): lots kB\nMapped: 5 MB\n"
      "HugePages_Total: 3 kB\nHugePages_Free: 2\nCommitLimit: 7 kB\nCommitLimit: 9 kB\n"
      "Slab: 99999999999999999999 kB\nPercpu: 18014398509481984 kB\nBounce: 12x kB\nZswap: 1 kB extra\n",
      meminfo);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(meminfo.available_estimated);
  testing_support::RecordingMetricWriter writer(proc_meminfo_source().metrics);
  expose_proc_meminfo(meminfo, writer);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples, ::testing::ElementsAre(metric_sample("node_memory_MemTotal_bytes", {}, 1000 * kKibibyte),
                                                     metric_sample("node_memory_MemFree_bytes", {}, 400 * kKibibyte),
                                                     metric_sample("node_memory_CommitLimit_bytes", {}, 7 * kKibibyte),
                                                     metric_sample("node_memory_HugePages_Free", {}, 2)));
}

}  // namespace
}  // namespace hostpulse
