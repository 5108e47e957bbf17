#include "collectors/linux/proc_file_nr.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <map>
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
using testing_support::read_host_fixture;
using testing_support::RecordingSeriesWriter;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

struct FileNrFixtureCase {
  std::string_view case_name;
  std::uint64_t allocated, unused, max;
};
void PrintTo(const FileNrFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class ProcFileNrFixtureTest : public ::testing::TestWithParam<FileNrFixtureCase> {};

TEST_P(ProcFileNrFixtureTest, ParsesExactValues) {
  const FileNrFixtureCase& expected = GetParam();
  FileNr file_nr;
  const Status status = parse_proc_file_nr(read_host_fixture(expected.case_name, "sys/fs/file-nr"), file_nr);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(file_nr.allocated, expected.allocated);
  EXPECT_EQ(file_nr.unused, expected.unused);
  EXPECT_EQ(file_nr.max, expected.max);
}

// Values copied by hand from tests/fixtures/hosts/<case>/proc/sys/fs/file-nr.
INSTANTIATE_TEST_SUITE_P(Fixtures, ProcFileNrFixtureTest,
                         ::testing::Values(FileNrFixtureCase{"filenr_this_vm", 1497, 0, 2466116},
                                           FileNrFixtureCase{"filenr_unlimited", 1234, 0, 9223372036854775807u},
                                           FileNrFixtureCase{"filenr_near_limit", 98304, 0, 100000},
                                           FileNrFixtureCase{"filenr_zero_max", 12, 0, 0}),
                         [](const ::testing::TestParamInfo<FileNrFixtureCase>& param_info) {
                           return std::string(param_info.param.case_name);
                         });

struct BadFileNrCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};
void PrintTo(const BadFileNrCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcFileNrBadTest : public ::testing::TestWithParam<BadFileNrCase> {};

TEST_P(ProcFileNrBadTest, FailsNamingTheField) {
  FileNr file_nr;
  const Status status = parse_proc_file_nr(GetParam().text, file_nr);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcFileNrBadTest,
    ::testing::Values(
        BadFileNrCase{"empty", "", "file-nr: file is empty"},
        BadFileNrCase{"truncated", "1234\t0\t92233", "file-nr: text does not end with a newline"},
        BadFileNrCase{"two_lines", "1\t0\t2\n1\t0\t2\n", "file-nr: expected one line, found more after line 1"},
        BadFileNrCase{"nothing", "\n", "file-nr: allocated handles: expected a number, got nothing"},
        BadFileNrCase{"no_max", "1234\t0\n", "file-nr: maximum: expected a number, got nothing"},
        BadFileNrCase{"word", "1234\tzero\t5\n", "file-nr: unused handles: expected a number, got 'zero'"},
        BadFileNrCase{"negative", "-1\t0\t5\n", "allocated handles: expected a non-negative number, got '-1'"},
        BadFileNrCase{"extra", "1\t0\t5\t6\n", "file-nr: unexpected '6' after the maximum"},
        BadFileNrCase{"overflow", "1\t0\t18446744073709551616\n",
                      "file-nr: maximum: value '18446744073709551616' does not fit in 64 bits"},
        BadFileNrCase{"nul", "1\0\t0\t5\n"sv, "got '1\\x00'"}),
    [](const ::testing::TestParamInfo<BadFileNrCase>& param_info) { return std::string(param_info.param.name); });

TEST(ProcFileNrTest, BadFixturesFail) {
  FileNr file_nr;
  EXPECT_THAT(parse_proc_file_nr(read_host_fixture("filenr_truncated", "sys/fs/file-nr"), file_nr).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_file_nr(read_host_fixture("filenr_huge", "sys/fs/file-nr"), file_nr).error,
              HasSubstr("maximum: value '18446744073709551616' does not fit"));
  EXPECT_THAT(parse_proc_file_nr(read_host_fixture("filenr_extra_line", "sys/fs/file-nr"), file_nr).error,
              HasSubstr("expected one line"));
  EXPECT_FALSE(parse_proc_file_nr(read_host_fixture("filenr_garbage", "sys/fs/file-nr"), file_nr).ok());
}

std::map<std::string, double> derived(const FileNr& file_nr) {
  RecordingSeriesWriter out(proc_file_nr_source().series);
  derive_proc_file_nr(nullptr, file_nr, DeriveContext{.elapsed_s = 1.0, .facts = {}}, out);
  return out.values;
}

TEST(ProcFileNrDeriveTest, OpenMaxAndShareOfTheLimit) {
  EXPECT_EQ(derived(FileNr{.allocated = 98304, .unused = 0, .max = 100000}),
            (std::map<std::string, double>{{"files.open", 98304.0}, {"files.max", 100000.0}, {"files.used_pct", 98.3}}));
  // The unlimited default (LONG_MAX): a tiny share, still a number.
  EXPECT_EQ(derived(FileNr{.allocated = 1234, .unused = 0, .max = 9223372036854775807u}).at("files.used_pct"), 0.0);
  // Unused handles (2.4 kernels) are not open.
  EXPECT_EQ(derived(FileNr{.allocated = 100, .unused = 40, .max = 200}).at("files.used_pct"), 30.0);
  // Inconsistent counts do not wrap around.
  EXPECT_EQ(derived(FileNr{.allocated = 1, .unused = 5, .max = 200}).at("files.open"), 0.0);
  // No limit to measure against: no share.
  EXPECT_EQ(derived(FileNr{.allocated = 12, .unused = 0, .max = 0}).count("files.used_pct"), 0u);
}

TEST(ProcFileNrCollectorSetTest, CollectsFixtureTree) {
  const SourceDefinition definitions[] = {proc_file_nr_source()};
  CollectorSet collectors(host_fixture_settings("filenr_this_vm"), definitions);
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  // 1497 / 2466116 = 0.0607 %.
  EXPECT_EQ(values, (std::map<std::string, double>{{"files.open", 1497.0}, {"files.max", 2466116.0},
                                                   {"files.used_pct", 0.06}}));

  CollectorSet garbage(host_fixture_settings("filenr_garbage"), definitions);
  EXPECT_THAT(garbage.collect_one(0).error, HasSubstr("/hosts/filenr_garbage/proc/sys/fs/file-nr: file-nr: "));
}

TEST(ProcFileNrCollectorSetTest, MissingFileIsAbsentNotAFailure) {
  // psi_none holds only a loadavg, like a sandbox's partial /proc.
  const SourceDefinition definitions[] = {proc_file_nr_source()};
  CollectorSet collectors(host_fixture_settings("psi_none"), definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/hosts/psi_none/proc/sys/fs/file-nr: not present"));
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(ProcFileNrCollectorSetTest, FifoOrDirectoryInPlaceOfTheFileFailsWithoutBlocking) {
  // Something is there, so it is not "absent": a failure naming what is there.
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("sys/fs"));
  ASSERT_EQ(::mkfifo(root.file("sys/fs/file-nr").c_str(), 0600), 0);
  SourceSettings settings;
  settings.paths.proc = root.path();
  const SourceDefinition definitions[] = {proc_file_nr_source()};
  CollectorSet fifo(settings, definitions);
  const Status status = fifo.collect_one(0);
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("sys/fs/file-nr: is a FIFO, not a regular file"));

  std::filesystem::remove(root.file("sys/fs/file-nr"));
  std::filesystem::create_directories(root.file("sys/fs/file-nr"));
  CollectorSet directory(settings, definitions);
  const Status directory_status = directory.collect_one(0);
  EXPECT_FALSE(directory_status.unavailable);
  EXPECT_FALSE(directory_status.ok());
}

TEST(ProcFileNrExposeTest, WritesNodeExporterFilefdFromTheRawFields) {
  // allocated 1497, unused 0, max 2466116 in the fixture.
  FileNr file_nr;
  ASSERT_TRUE(parse_proc_file_nr(read_host_fixture("filenr_this_vm", "sys/fs/file-nr"), file_nr).ok());
  testing_support::RecordingMetricWriter writer(proc_file_nr_source().metrics);
  expose_proc_file_nr(file_nr, writer);
  EXPECT_THAT(writer.samples, ::testing::ElementsAre(testing_support::metric_sample("node_filefd_allocated", {}, 1497),
                                                     testing_support::metric_sample("node_filefd_maximum", {}, 2466116)));
  EXPECT_EQ(writer.refused, 0u);
}

TEST(ProcFileNrExposeTest, AllocatedIsTheFirstFieldAsNodeExporterReadsIt) {
  FileNr file_nr;
  ASSERT_TRUE(parse_proc_file_nr("100\t7\t5000\n", file_nr).ok());
  testing_support::RecordingMetricWriter writer(proc_file_nr_source().metrics);
  expose_proc_file_nr(file_nr, writer);
  EXPECT_EQ(writer.value("node_filefd_allocated"), 100.0);
}

TEST(ProcFileNrLiveTest, ReadsThisMachine) {
  const std::string text = testing_support::read_live_proc("sys/fs/file-nr");
  if (text.empty()) GTEST_SKIP() << "no /proc/sys/fs/file-nr here";
  FileNr file_nr;
  const Status status = parse_proc_file_nr(text, file_nr);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_GT(file_nr.allocated, 0u);  // this test process has files open
  EXPECT_GE(file_nr.max, file_nr.allocated);
}

}  // namespace
}  // namespace hostpulse
