#include "collectors/collector_table.hpp"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collectors/fixture_files.hpp"

namespace hostpulse {
namespace {

using testing_support::fixture_root;
using ::testing::HasSubstr;

HostPaths fixture_paths(std::string_view case_name) {
  HostPaths paths;
  paths.proc = fixture_root(case_name);
  paths.sys = fixture_root(case_name) + "/no_sys";
  return paths;
}

TEST(PlatformCollectorsTest, ListsEveryLinuxSourceExplicitly) {
  const std::span<const CollectorDefinition> table = platform_collectors();
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].name, "proc_stat");
  EXPECT_EQ(table[0].procfs_path, "stat");
  EXPECT_EQ(table[0].ok_flag, &RawSample::stat_ok);
  EXPECT_EQ(table[1].name, "proc_meminfo");
  EXPECT_EQ(table[1].procfs_path, "meminfo");
  EXPECT_EQ(table[1].ok_flag, &RawSample::memory_ok);
  EXPECT_EQ(table[2].name, "proc_loadavg");
  EXPECT_EQ(table[2].procfs_path, "loadavg");
  EXPECT_EQ(table[2].ok_flag, &RawSample::load_ok);
  EXPECT_EQ(table[3].name, "proc_uptime");
  EXPECT_EQ(table[3].procfs_path, "uptime");
  EXPECT_EQ(table[3].ok_flag, &RawSample::uptime_ok);
  for (const CollectorDefinition& definition : table) EXPECT_NE(definition.parse_into, nullptr);
}

TEST(CollectorSetTest, CollectsEverySourceFromFixture) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"));
  ASSERT_EQ(collectors.size(), 4u);
  RawSample sample;
  EXPECT_EQ(collectors.collect_all(sample), 0u);
  EXPECT_TRUE(sample.stat_ok);
  EXPECT_TRUE(sample.memory_ok);
  EXPECT_TRUE(sample.load_ok);
  EXPECT_TRUE(sample.uptime_ok);
  // Spot values from tests/fixtures/proc/linux6_2cpu, one per source.
  EXPECT_EQ(sample.stat.cpus.size(), 2u);
  EXPECT_EQ(sample.stat.total[CpuState::idle], 70882u);
  EXPECT_EQ(sample.memory.total_bytes, std::uint64_t{24684084} * 1024);
  EXPECT_EQ(sample.load.tasks_total, 79u);
  EXPECT_EQ(sample.uptime.uptime_s, 368.91);
}

TEST(CollectorSetTest, CollectOneSetsOnlyItsFlag) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"));
  RawSample sample;
  ASSERT_TRUE(collectors.collect_one(2, sample).ok());
  EXPECT_TRUE(sample.load_ok);
  EXPECT_FALSE(sample.stat_ok);
  EXPECT_FALSE(sample.memory_ok);
  EXPECT_FALSE(sample.uptime_ok);
}

TEST(CollectorSetTest, EveryBadFixtureFailsEverySource) {
  for (const std::string_view case_name : testing_support::kBadCases) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(fixture_paths(case_name));
    RawSample sample;
    sample.stat_ok = sample.memory_ok = sample.load_ok = sample.uptime_ok = true;
    EXPECT_EQ(collectors.collect_all(sample), 4u);
    EXPECT_FALSE(sample.stat_ok);
    EXPECT_FALSE(sample.memory_ok);
    EXPECT_FALSE(sample.load_ok);
    EXPECT_FALSE(sample.uptime_ok);
  }
}

TEST(CollectorSetTest, ParseErrorsNameTheFileRead) {
  CollectorSet collectors(fixture_paths("empty"));
  RawSample sample;
  const Status status = collectors.collect_one(0, sample);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, fixture_root("empty") + "/stat: stat: file is empty");
}

TEST(CollectorSetTest, GoodFixturesPassEverySource) {
  for (const std::string_view case_name : testing_support::kGoodCases) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(fixture_paths(case_name));
    RawSample sample;
    for (std::size_t index = 0; index < collectors.size(); ++index) {
      const Status status = collectors.collect_one(index, sample);
      EXPECT_TRUE(status.ok()) << collectors.definition(index).name << ": " << status.error;
    }
  }
}

TEST(CollectorSetTest, MissingRootFailsWithPathAndReason) {
  HostPaths paths;
  paths.proc = ::testing::TempDir() + "hostpulse_no_such_proc";
  CollectorSet collectors(paths);
  RawSample sample;
  EXPECT_EQ(collectors.collect_all(sample), 4u);
  const Status status = collectors.collect_one(1, sample);
  EXPECT_THAT(status.error, HasSubstr(paths.proc_file("meminfo")));
  EXPECT_THAT(status.error, HasSubstr("cannot open"));
}

TEST(CollectorSetTest, GoodThenBadClearsFlag) {
  CollectorSet good(fixture_paths("linux6_2cpu"));
  CollectorSet bad(fixture_paths("garbage"));
  RawSample sample;
  ASSERT_EQ(good.collect_all(sample), 0u);
  EXPECT_EQ(bad.collect_all(sample), 4u);
  EXPECT_FALSE(sample.stat_ok);
  EXPECT_FALSE(sample.uptime_ok);
  ASSERT_EQ(good.collect_all(sample), 0u);
  EXPECT_TRUE(sample.stat_ok);
}

TEST(CollectorSetTest, IndexOutOfRangeIsAFailure) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"));
  RawSample sample;
  const Status status = collectors.collect_one(4, sample);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("collector index 4 out of range (4 collectors)"));
}

Status parse_throwing_bad_alloc(std::string_view, RawSample&) { throw std::bad_alloc(); }
Status parse_throwing_runtime_error(std::string_view, RawSample&) { throw std::runtime_error("boom"); }
Status parse_throwing_integer(std::string_view, RawSample&) { throw 42; }
Status parse_accepting_anything(std::string_view, RawSample&) { return Status::success(); }

TEST(CollectorSetTest, ExceptionsBecomeFailures) {
  static constexpr std::array<CollectorDefinition, 5> kDefinitions = {{
      {"allocating", "stat", &parse_throwing_bad_alloc, &RawSample::stat_ok},
      {"throwing", "meminfo", &parse_throwing_runtime_error, &RawSample::memory_ok},
      {"odd", "loadavg", &parse_throwing_integer, &RawSample::load_ok},
      {"no_parser", "uptime", nullptr, &RawSample::uptime_ok},
      {"no_flag", "uptime", &parse_accepting_anything, nullptr},
  }};
  CollectorSet collectors(fixture_paths("linux6_2cpu"), kDefinitions);
  RawSample sample;
  sample.stat_ok = sample.memory_ok = sample.load_ok = sample.uptime_ok = true;

  EXPECT_EQ(collectors.collect_one(0, sample).error, "allocating: out of memory");
  EXPECT_FALSE(sample.stat_ok);
  EXPECT_EQ(collectors.collect_one(1, sample).error, "throwing: unexpected exception: boom");
  EXPECT_FALSE(sample.memory_ok);
  EXPECT_THAT(collectors.collect_one(2, sample).error, HasSubstr("odd: unexpected non-standard exception"));
  EXPECT_FALSE(sample.load_ok);
  EXPECT_THAT(collectors.collect_one(3, sample).error, HasSubstr("no_parser: no parser"));
  EXPECT_FALSE(sample.uptime_ok);
  EXPECT_TRUE(collectors.collect_one(4, sample).ok());
}

// The real kernel of whatever machine runs the tests.
TEST(CollectorSetLiveTest, ReadsThisMachinesProc) {
  CollectorSet collectors{HostPaths{}};
  RawSample sample;
  for (std::size_t index = 0; index < collectors.size(); ++index) {
    const Status status = collectors.collect_one(index, sample);
    EXPECT_TRUE(status.ok()) << collectors.definition(index).name << ": " << status.error;
  }

  const long online_cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GT(online_cpus, 0);
  EXPECT_EQ(sample.stat.cpus.size(), static_cast<std::size_t>(online_cpus));
  std::set<std::uint32_t> ids;
  for (const CpuLine& cpu : sample.stat.cpus) {
    EXPECT_LE(cpu.cpu, kMaxCpuId);
    EXPECT_EQ(cpu.times.columns, sample.stat.total.columns);
    ids.insert(cpu.cpu);
  }
  EXPECT_EQ(ids.size(), sample.stat.cpus.size());
  EXPECT_GE(sample.stat.total.columns, 4u);
  EXPECT_GT(sample.stat.boot_time_s, 0u);
  EXPECT_GT(sample.stat.context_switches, 0u);
  EXPECT_GE(sample.stat.procs_running, 1u);  // this test is running

  EXPECT_GT(sample.memory.total_bytes, 0u);
  EXPECT_LE(sample.memory.available_bytes, sample.memory.total_bytes);
  EXPECT_LE(sample.memory.free_bytes, sample.memory.total_bytes);
  EXPECT_LE(sample.memory.swap_free_bytes, sample.memory.swap_total_bytes);

  EXPECT_GE(sample.load.tasks_total, 1u);
  EXPECT_LE(sample.load.tasks_runnable, sample.load.tasks_total);
  EXPECT_GT(sample.uptime.uptime_s, 0.0);

  // A second pass reuses every buffer; it must succeed just the same.
  EXPECT_EQ(collectors.collect_all(sample), 0u);
}

}  // namespace
}  // namespace hostpulse
