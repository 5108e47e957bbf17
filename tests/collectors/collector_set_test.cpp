#include "collectors/collector_table.hpp"

#include <unistd.h>

#include <array>
#include <cmath>
#include <map>
#include <cstdint>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collectors/fixture_files.hpp"
#include "tests/support/recording_series_writer.hpp"

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

TEST(PlatformSourcesTest, ListsEveryLinuxSourceExplicitly) {
  const std::span<const SourceDefinition> table = core_sources();
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].name, "proc_stat");
  EXPECT_EQ(table[0].procfs_path, "stat");
  EXPECT_EQ(table[1].name, "proc_meminfo");
  EXPECT_EQ(table[1].procfs_path, "meminfo");
  EXPECT_EQ(table[2].name, "proc_loadavg");
  EXPECT_EQ(table[2].procfs_path, "loadavg");
  EXPECT_EQ(table[3].name, "proc_uptime");
  EXPECT_EQ(table[3].procfs_path, "uptime");
  for (const SourceDefinition& definition : table) {
    EXPECT_NE(definition.create, nullptr);
    EXPECT_FALSE(definition.series.empty()) << definition.name;
  }
}

TEST(CollectorSetTest, CollectsEverySourceFromFixture) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"), core_sources());
  ASSERT_EQ(collectors.size(), 4u);
  std::vector<std::pair<std::string, std::string>> entities;
  EXPECT_EQ(collectors.collect_all(), 0u);
  for (std::size_t i = 0; i < collectors.size(); ++i) EXPECT_TRUE(collectors.source(i).current_ok());
  const auto values = testing_support::derive_to_map(collectors, 0.0, &entities);
  // Spot values from tests/fixtures/proc/linux6_2cpu, one per source.
  EXPECT_EQ(entities, (std::vector<std::pair<std::string, std::string>>{{"cpu", "0"}, {"cpu", "1"}}));
  EXPECT_EQ(values.at("procs.running"), 1.0);
  EXPECT_EQ(values.at("mem.total_bytes"), 24684084.0 * 1024);
  EXPECT_EQ(values.at("procs.total"), 79.0);
  EXPECT_EQ(values.at("system.uptime_s"), 368.91);
  // Without a previous read there are no rates.
  EXPECT_EQ(values.count("system.context_switches_per_s"), 0u);
}

TEST(CollectorSetTest, CollectOneReadsOnlyItsSource) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"), core_sources());
  ASSERT_TRUE(collectors.collect_one(2).ok());
  EXPECT_TRUE(collectors.source(2).current_ok());
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_FALSE(collectors.source(1).current_ok());
  EXPECT_FALSE(collectors.source(3).current_ok());
}

TEST(CollectorSetTest, EveryBadFixtureFailsEverySource) {
  for (const std::string_view case_name : testing_support::kBadCases) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(fixture_paths(case_name), core_sources());
    EXPECT_EQ(collectors.collect_all(), 4u);
    for (std::size_t i = 0; i < collectors.size(); ++i) EXPECT_FALSE(collectors.source(i).current_ok());
    // A failed read writes nothing.
    EXPECT_TRUE(testing_support::derive_to_map(collectors, 1.0).empty());
  }
}

TEST(CollectorSetTest, ParseErrorsNameTheFileRead) {
  CollectorSet collectors(fixture_paths("empty"), core_sources());
  const Status status = collectors.collect_one(0);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, fixture_root("empty") + "/stat: stat: file is empty");
}

TEST(CollectorSetTest, GoodFixturesPassEverySource) {
  for (const std::string_view case_name : testing_support::kGoodCases) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(fixture_paths(case_name), core_sources());
    for (std::size_t index = 0; index < collectors.size(); ++index) {
      const Status status = collectors.collect_one(index);
      EXPECT_TRUE(status.ok()) << collectors.definition(index).name << ": " << status.error;
    }
  }
}

TEST(CollectorSetTest, MissingRootFailsWithPathAndReason) {
  HostPaths paths;
  paths.proc = ::testing::TempDir() + "hostpulse_no_such_proc";
  CollectorSet collectors(paths, core_sources());
  EXPECT_EQ(collectors.collect_all(), 4u);
  const Status status = collectors.collect_one(1);
  EXPECT_THAT(status.error, HasSubstr(paths.proc_file("meminfo")));
  EXPECT_THAT(status.error, HasSubstr("cannot open"));
}

TEST(CollectorSetTest, RatesNeedTwoGoodReadsInARow) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"), core_sources());
  ASSERT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  ASSERT_EQ(collectors.collect_all(), 0u);
  // Same file twice: no ticks passed, so no CPU shares, but a rate of 0.
  auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values.at("system.context_switches_per_s"), 0.0);
  EXPECT_TRUE(std::isnan(values.at("cpu.busy_pct")));
  collectors.advance_all();
  // A failed read in between: the next good one has no previous to rate against.
  ASSERT_TRUE(collectors.source(0).current_ok() == false);
}

TEST(CollectorSetTest, IndexOutOfRangeIsAFailure) {
  CollectorSet collectors(fixture_paths("linux6_2cpu"), core_sources());
  const Status status = collectors.collect_one(4);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("collector index 4 out of range (4 collectors)"));
}

struct Nothing {};
Status parse_throwing_bad_alloc(std::string_view, Nothing&) { throw std::bad_alloc(); }
Status parse_throwing_runtime_error(std::string_view, Nothing&) { throw std::runtime_error("boom"); }
Status parse_throwing_integer(std::string_view, Nothing&) { throw 42; }
Status parse_accepting_anything(std::string_view, Nothing&) { return Status::success(); }
void derive_nothing(const Nothing*, const Nothing&, const DeriveContext&, SeriesWriter&) {}

constexpr SourceFunctions<Nothing> kAllocating{&parse_throwing_bad_alloc, &derive_nothing};
constexpr SourceFunctions<Nothing> kThrowing{&parse_throwing_runtime_error, &derive_nothing};
constexpr SourceFunctions<Nothing> kOdd{&parse_throwing_integer, &derive_nothing};
constexpr SourceFunctions<Nothing> kAccepting{&parse_accepting_anything, &derive_nothing};

TEST(CollectorSetTest, ExceptionsBecomeFailures) {
  static const SourceDefinition kDefinitions[] = {
      {.name = "allocating", .procfs_path = "stat", .series = {}, .create = &create_source<Nothing, kAllocating>},
      {.name = "throwing", .procfs_path = "meminfo", .series = {}, .create = &create_source<Nothing, kThrowing>},
      {.name = "odd", .procfs_path = "loadavg", .series = {}, .create = &create_source<Nothing, kOdd>},
      {.name = "fine", .procfs_path = "uptime", .series = {}, .create = &create_source<Nothing, kAccepting>},
  };
  CollectorSet collectors(fixture_paths("linux6_2cpu"), kDefinitions);
  EXPECT_EQ(collectors.collect_one(0).error, "allocating: out of memory");
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_EQ(collectors.collect_one(1).error, "throwing: unexpected exception: boom");
  EXPECT_FALSE(collectors.source(1).current_ok());
  EXPECT_THAT(collectors.collect_one(2).error, HasSubstr("odd: unexpected non-standard exception"));
  EXPECT_FALSE(collectors.source(2).current_ok());
  EXPECT_TRUE(collectors.collect_one(3).ok());
  EXPECT_TRUE(collectors.source(3).current_ok());
}

// A stateful source without a procfs file, whose data comes and goes: it
// counts how often it was asked, so the test sees when the set reads it.
struct Probe {
  explicit Probe(const SourceSettings& /*settings*/) {}
  int reads = 0;
  bool present = false;
};
Status read_probe(Probe& probe, std::string_view primary, Nothing&) {
  ++probe.reads;
  EXPECT_TRUE(primary.empty());
  return probe.present ? Status::success() : Status::absent("probe: not present");
}
constexpr StatefulFunctions<Nothing, Probe> kProbe{&read_probe, &derive_nothing};

TEST(CollectorSetTest, UnavailableSourcesRestBetweenRetries) {
  static const SourceDefinition kDefinitions[] = {
      {.name = "probe", .procfs_path = "", .series = {}, .create = &create_stateful_source<Nothing, Probe, kProbe>},
      {.name = "fine", .procfs_path = "uptime", .series = {}, .create = &create_source<Nothing, kAccepting>},
  };
  CollectorSet collectors(fixture_paths("linux6_2cpu"), kDefinitions);
  auto& probe = const_cast<StatefulSource<Nothing, Probe, kProbe>&>(
                    dynamic_cast<const StatefulSource<Nothing, Probe, kProbe>&>(collectors.source(0)))
                    .state();
  // Unavailable is not a failure, and it is asked once per retry period.
  EXPECT_EQ(collectors.collect_all(), 0u);
  EXPECT_EQ(probe.reads, 1);
  EXPECT_FALSE(collectors.source(0).current_ok());
  for (std::uint32_t read = 1; read < CollectorSet::kUnavailableRetryReads; ++read) {
    EXPECT_EQ(collectors.collect_all(), 0u);
    EXPECT_FALSE(collectors.source(0).current_ok());
    EXPECT_TRUE(collectors.source(1).current_ok());
  }
  EXPECT_EQ(probe.reads, 1);
  // The data appears (a battery plugged in): the next retry reads it, and
  // from then on it is read every time.
  probe.present = true;
  EXPECT_EQ(collectors.collect_all(), 0u);
  EXPECT_EQ(probe.reads, 2);
  EXPECT_TRUE(collectors.source(0).current_ok());
  EXPECT_FALSE(collectors.resting(0));
  EXPECT_TRUE(collectors.collect_one(0).ok());
  EXPECT_EQ(probe.reads, 3);
  // Gone again: unavailable, with the reason, then resting.
  probe.present = false;
  const Status gone = collectors.collect_one(0);
  EXPECT_TRUE(gone.unavailable);
  EXPECT_EQ(gone.error, "probe: not present");
  EXPECT_TRUE(collectors.resting(0));
}

// A fake --procfs tree or a kernel without the file: unavailable for an
// optional source, a failure for a required one.
TEST(CollectorSetTest, MissingFileIsUnavailableUnlessRequired) {
  static const SourceDefinition kDefinitions[] = {
      {.name = "optional", .procfs_path = "net/nowhere", .series = {}, .create = &create_source<Nothing, kAccepting>},
      {.name = "required", .procfs_path = "nowhere", .series = {}, .create = &create_source<Nothing, kAccepting>,
       .required = true},
      {.name = "present", .procfs_path = "uptime", .series = {}, .create = &create_source<Nothing, kAccepting>},
  };
  CollectorSet collectors(fixture_paths("linux6_2cpu"), kDefinitions);
  const Status optional = collectors.collect_one(0);
  EXPECT_TRUE(optional.unavailable);
  EXPECT_THAT(optional.error, HasSubstr("/net/nowhere: not present"));
  const Status required = collectors.collect_one(1);
  EXPECT_FALSE(required.ok());
  EXPECT_FALSE(required.unavailable);
  EXPECT_THAT(required.error, HasSubstr("No such file"));
  EXPECT_TRUE(collectors.collect_one(2).ok());
  EXPECT_EQ(collectors.collect_all(), 1u);  // only the required one counts as failed
  for (const SourceDefinition& definition : core_sources()) EXPECT_TRUE(definition.required) << definition.name;
}

// The real kernel of whatever machine runs the tests.
TEST(CollectorSetLiveTest, ReadsThisMachinesProc) {
  CollectorSet collectors{HostPaths{}, core_sources()};
  for (std::size_t index = 0; index < collectors.size(); ++index) {
    const Status status = collectors.collect_one(index);
    EXPECT_TRUE(status.ok()) << collectors.definition(index).name << ": " << status.error;
  }
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 0.0, &entities);

  const long online_cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GT(online_cpus, 0);
  EXPECT_EQ(entities.size(), static_cast<std::size_t>(online_cpus));
  std::set<std::string> ids;
  for (const auto& [label, key] : entities) {
    EXPECT_EQ(label, "cpu");
    EXPECT_LE(std::stoul(key), 8191u);  // Linux NR_CPUS at most
    ids.insert(key);
  }
  EXPECT_EQ(ids.size(), entities.size());
  EXPECT_GE(values.at("procs.running"), 1.0);  // this test is running
  EXPECT_GT(values.at("mem.total_bytes"), 0.0);
  EXPECT_LE(values.at("mem.available_bytes"), values.at("mem.total_bytes"));
  EXPECT_LE(values.at("mem.free_bytes"), values.at("mem.total_bytes"));
  EXPECT_LE(values.at("swap.free_bytes"), values.at("swap.total_bytes"));
  EXPECT_GE(values.at("procs.total"), 1.0);
  EXPECT_GT(values.at("system.uptime_s"), 0.0);
  EXPECT_EQ(values.at("load.1m_per_cpu") >= 0, true);

  // A second pass reuses every buffer; it must succeed just the same.
  collectors.advance_all();
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto rates = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_GE(rates.at("system.context_switches_per_s"), 0.0);
}

}  // namespace
}  // namespace hostpulse
