#include "collectors/linux/cgroup.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <vector>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::RecordingSeriesWriter;
using testing_support::TempDir;
using ::testing::HasSubstr;

// tests/fixtures/hosts/<case>: proc/self/{cgroup,mountinfo} and, under the
// case directory as the mounts root, the cgroup files at the mount points
// the mountinfo names (sys/fs/cgroup/...).
std::string host_case(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

std::string read_text(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

void write_text(const std::string& path, std::string_view text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  testing_support::write_file_atomically(path, text);
}

SourceSettings settings_for(const std::string& root) {
  SourceSettings settings;
  settings.paths.proc = root + "/proc";
  settings.paths.sys = root + "/sys";
  settings.cgroup.mounts_root = root;
  return settings;
}

const SourceDefinition kCgroupOnly[] = {cgroup_source()};

// ---- /proc/self/cgroup ----

struct MembershipCase {
  std::string_view name;
  std::string_view text;
  std::optional<std::string_view> unified = {};
  std::optional<std::string_view> cpu = {};
  std::optional<std::string_view> cpuacct = {};
  std::optional<std::string_view> memory = {};
};
void PrintTo(const MembershipCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class CgroupMembershipTest : public ::testing::TestWithParam<MembershipCase> {};

TEST_P(CgroupMembershipTest, FindsEachHierarchysPath) {
  const MembershipCase& expected = GetParam();
  CgroupMembership membership;
  const Status status = parse_cgroup_membership(expected.text, membership);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(membership.unified, expected.unified);
  EXPECT_EQ(membership.cpu, expected.cpu);
  EXPECT_EQ(membership.cpuacct, expected.cpuacct);
  EXPECT_EQ(membership.memory, expected.memory);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, CgroupMembershipTest,
    ::testing::Values(
        MembershipCase{.name = "v2 container", .text = "0::/\n", .unified = "/"},
        MembershipCase{.name = "v2 systemd service",
                       .text = "0::/system.slice/hostpulse.service\n",
                       .unified = "/system.slice/hostpulse.service"},
        MembershipCase{.name = "colon in the path", .text = "0::/a:b\n", .unified = "/a:b"},
        MembershipCase{.name = "v1 co-mounted cpu,cpuacct",
                       .text = "4:cpu,cpuacct:/docker/x\n10:memory:/docker/x\n1:name=systemd:/docker/x\n",
                       .cpu = "/docker/x", .cpuacct = "/docker/x", .memory = "/docker/x"},
        MembershipCase{.name = "v1 separate hierarchies, hybrid",
                       .text = "9:name=systemd:/\n4:memory:/m\n2:cpuacct:/a\n1:cpu:/c\n0::/\n",
                       .unified = "/", .cpu = "/c", .cpuacct = "/a", .memory = "/m"},
        MembershipCase{.name = "cpuset is not cpu", .text = "3:cpuset:/s\n"},
        MembershipCase{.name = "CRLF line", .text = "0::/x\r\n", .unified = "/x"}));

TEST(CgroupMembershipTest, ThisVmCapture) {
  CgroupMembership membership;
  const std::string text = read_text(host_case("cgroup_this_vm") + "/proc/self/cgroup");
  ASSERT_TRUE(parse_cgroup_membership(text, membership).ok());
  EXPECT_EQ(membership.unified, "/");
  EXPECT_EQ(membership.cpu, "/");
  EXPECT_EQ(membership.cpuacct, "/");
  EXPECT_EQ(membership.memory, "/process_api/0643b1b91971c2f5be92dee583f5c47d");
}

struct BadTextCase {
  std::string_view name;
  std::string_view text;
  std::string_view message;
};
void PrintTo(const BadTextCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class CgroupMembershipErrorTest : public ::testing::TestWithParam<BadTextCase> {};

TEST_P(CgroupMembershipErrorTest, FailsNamingTheLine) {
  CgroupMembership membership;
  const Status status = parse_cgroup_membership(GetParam().text, membership);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, CgroupMembershipErrorTest,
    ::testing::Values(BadTextCase{"empty", "", "file is empty"},
                      BadTextCase{"truncated", "0::/", "truncated"},
                      BadTextCase{"no colons", "0::/\nnot a cgroup line\n", "cgroup line 2: expected id:controllers:path"},
                      BadTextCase{"id not a number", "x::/\n", "cgroup line 1: hierarchy id"},
                      BadTextCase{"relative path", "1:cpu:docker\n", "expected an absolute cgroup path"},
                      BadTextCase{"unified twice", "0::/\n0::/a\n", "line 2: the unified hierarchy appears twice"},
                      BadTextCase{"memory twice", "4:memory:/\n5:memory:/\n", "the memory hierarchy appears twice"}));

// ---- mountinfo ----

TEST(CgroupMountinfoTest, ThisVmCaptureListsEveryCgroupMount) {
  CgroupMounts mounts;
  const std::string text = read_text(host_case("cgroup_this_vm") + "/proc/self/mountinfo");
  const Status status = parse_cgroup_mountinfo(text, mounts);
  ASSERT_TRUE(status.ok()) << status.error;
  // cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, systemd, unified
  ASSERT_EQ(mounts.mounts.size(), 10u);
  EXPECT_EQ(mounts.mounts_skipped, 0u);
  const CgroupMount& cpu = mounts.mounts[0];
  EXPECT_TRUE(cpu.cpu);
  EXPECT_FALSE(cpu.cpuacct);
  EXPECT_FALSE(cpu.unified);
  EXPECT_EQ(cpu.root, "/");
  EXPECT_EQ(cpu.mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_TRUE(mounts.mounts[1].cpuacct);
  EXPECT_FALSE(mounts.mounts[2].cpu) << "cpuset is not cpu";
  EXPECT_TRUE(mounts.mounts[3].memory);
  EXPECT_TRUE(mounts.mounts[9].unified);
  EXPECT_EQ(mounts.mounts[9].mount_point, "/sys/fs/cgroup/unified");
}

TEST(CgroupMountinfoTest, UnescapesAndReadsOptionalFields) {
  CgroupMounts mounts;
  const Status status = parse_cgroup_mountinfo(
      "30 25 0:26 /docker/a\\040b /sys/fs/cgroup/my\\040cpu rw shared:4 master:1 - cgroup cgroup rw,cpu,cpuacct\n"
      "31 25 0:27 / /c\\134g rw - cgroup2 cgroup2 rw\n",
      mounts);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(mounts.mounts.size(), 2u);
  EXPECT_EQ(mounts.mounts[0].root, "/docker/a b");
  EXPECT_EQ(mounts.mounts[0].mount_point, "/sys/fs/cgroup/my cpu");
  EXPECT_TRUE(mounts.mounts[0].cpu);
  EXPECT_TRUE(mounts.mounts[0].cpuacct);
  EXPECT_EQ(mounts.mounts[1].mount_point, "/c\\g");
}

TEST(CgroupMountinfoTest, CapsTheMountsKept) {
  std::string text;
  for (std::size_t i = 0; i < kMaxCgroupMounts + 5; ++i) text += "30 25 0:26 / /m rw - cgroup2 cgroup2 rw\n";
  CgroupMounts mounts;
  ASSERT_TRUE(parse_cgroup_mountinfo(text, mounts).ok());
  EXPECT_EQ(mounts.mounts.size(), kMaxCgroupMounts);
  EXPECT_EQ(mounts.mounts_skipped, 5u);
}

class CgroupMountinfoErrorTest : public ::testing::TestWithParam<BadTextCase> {};

TEST_P(CgroupMountinfoErrorTest, FailsNamingTheLine) {
  CgroupMounts mounts;
  const Status status = parse_cgroup_mountinfo(GetParam().text, mounts);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, CgroupMountinfoErrorTest,
    ::testing::Values(BadTextCase{"truncated", "30 25 0:26 / /m rw - cgroup2 cgroup2 rw", "truncated"},
                      BadTextCase{"no separator", "22 1 0:21 / /proc rw\n30 25 0:26 / /m rw cgroup2 x rw\n",
                                  "mountinfo line 1"},
                      BadTextCase{"few fields", "30 25 0:26 /\n", "mountinfo line 1: expected at least 6 fields"},
                      BadTextCase{"nothing after separator", "30 25 0:26 / /m rw -\n",
                                  "expected type, source and options"}));

// ---- finding the directory ----

struct ResolveCase {
  std::string_view name;
  std::string_view root;
  std::string_view mount_point;
  std::string_view cgroup_path;
  std::string_view directory;
};
void PrintTo(const ResolveCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class CgroupResolveTest : public ::testing::TestWithParam<ResolveCase> {};

TEST_P(CgroupResolveTest, JoinsThePathRelativeToTheMountRoot) {
  const ResolveCase& expected = GetParam();
  const CgroupMount mount{.unified = true, .root = std::string(expected.root),
                          .mount_point = std::string(expected.mount_point)};
  EXPECT_EQ(resolve_cgroup_directory(mount, expected.cgroup_path), expected.directory);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, CgroupResolveTest,
    ::testing::Values(
        ResolveCase{"own cgroup namespace", "/", "/sys/fs/cgroup", "/", "/sys/fs/cgroup"},
        ResolveCase{"systemd service", "/", "/sys/fs/cgroup", "/system.slice/hostpulse.service",
                    "/sys/fs/cgroup/system.slice/hostpulse.service"},
        ResolveCase{"v1 docker: root is the container", "/docker/abc", "/sys/fs/cgroup/memory", "/docker/abc",
                    "/sys/fs/cgroup/memory"},
        ResolveCase{"child of the mount root", "/docker/abc", "/sys/fs/cgroup/memory", "/docker/abc/sub",
                    "/sys/fs/cgroup/memory/sub"},
        ResolveCase{"not under the root", "/docker/abc", "/sys/fs/cgroup/memory", "/docker/abcd",
                    "/sys/fs/cgroup/memory"},
        ResolveCase{"outside the namespace root", "/", "/sys/fs/cgroup", "/../../x", "/sys/fs/cgroup"},
        ResolveCase{"trailing slash on the mount point", "/", "/cg/", "/a", "/cg/a"},
        ResolveCase{"mounted at /", "/", "/", "/a", "/a"}));

TEST(CgroupFindMountTest, PrefersTheMountWhoseRootHoldsThePath) {
  CgroupMounts mounts;
  ASSERT_TRUE(parse_cgroup_mountinfo("40 25 0:26 /other /elsewhere rw - cgroup cgroup rw,memory\n"
                                     "41 25 0:26 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                                     "42 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                                     mounts)
                  .ok());
  const CgroupMount* memory = find_cgroup_mount(mounts, CgroupController::memory, "/docker/x");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->mount_point, "/sys/fs/cgroup/memory");
  // None holds it: the first mount of the hierarchy.
  const CgroupMount* fallback = find_cgroup_mount(mounts, CgroupController::memory, "/y");
  ASSERT_NE(fallback, nullptr);
  EXPECT_EQ(fallback->mount_point, "/elsewhere");
  EXPECT_EQ(find_cgroup_mount(mounts, CgroupController::cpu, "/"), nullptr);
  const CgroupMount* unified = find_cgroup_mount(mounts, CgroupController::unified, "/");
  ASSERT_NE(unified, nullptr);
  EXPECT_EQ(unified->mount_point, "/sys/fs/cgroup");
}

// ---- the value files ----

TEST(CgroupValueParsersTest, CpuMax) {
  std::optional<double> cores;
  ASSERT_TRUE(parse_cpu_max("150000 100000\n", cores).ok());
  EXPECT_EQ(cores, 1.5);
  ASSERT_TRUE(parse_cpu_max("max 100000\n", cores).ok());
  EXPECT_FALSE(cores.has_value());
  ASSERT_TRUE(parse_cpu_max("50000 100000\n", cores).ok());
  EXPECT_EQ(cores, 0.5);
  for (const std::string_view bad : {"", "150000 100000", "lots 100000\n", "150000\n", "150000 0\n", "0 100000\n",
                                     "1 2 3\n", "1 2\n3 4\n", "-5 100000\n", "99999999999999999999 1\n"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_cpu_max(bad, cores).ok());
  }
}

TEST(CgroupValueParsersTest, CfsQuota) {
  std::optional<std::uint64_t> quota;
  ASSERT_TRUE(parse_cfs_quota("-1\n", quota).ok());
  EXPECT_FALSE(quota.has_value());
  ASSERT_TRUE(parse_cfs_quota("50000\n", quota).ok());
  EXPECT_EQ(quota, 50000u);
  for (const std::string_view bad : {"", "50000", "0\n", "-2\n", "x\n", "5 5\n"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_cfs_quota(bad, quota).ok());
  }
}

TEST(CgroupValueParsersTest, MemoryLimits) {
  std::optional<std::uint64_t> limit;
  ASSERT_TRUE(parse_memory_max("max\n", limit).ok());
  EXPECT_FALSE(limit.has_value());
  ASSERT_TRUE(parse_memory_max("536870912\n", limit).ok());
  EXPECT_EQ(limit, 536870912u);
  EXPECT_FALSE(parse_memory_max("-5\n", limit).ok());
  EXPECT_FALSE(parse_memory_max("max", limit).ok());
  // v1's "no limit" with 4 KiB and 64 KiB pages, and a real limit.
  ASSERT_TRUE(parse_v1_memory_limit("9223372036854771712\n", limit).ok());
  EXPECT_FALSE(limit.has_value());
  ASSERT_TRUE(parse_v1_memory_limit("9223372036854710272\n", limit).ok());
  EXPECT_FALSE(limit.has_value());
  ASSERT_TRUE(parse_v1_memory_limit("268435456\n", limit).ok());
  EXPECT_EQ(limit, 268435456u);
  EXPECT_FALSE(parse_v1_memory_limit("max\n", limit).ok());
}

TEST(CgroupValueParsersTest, NumbersAndKeyedFiles) {
  std::uint64_t value = 0;
  ASSERT_TRUE(parse_cgroup_number("201326592\n", "memory.current", value).ok());
  EXPECT_EQ(value, 201326592u);
  const Status truncated = parse_cgroup_number("201326592", "memory.current", value);
  EXPECT_THAT(truncated.error, HasSubstr("memory.current: text does not end with a newline"));
  EXPECT_THAT(parse_cgroup_number("12x\n", "cpuacct.usage", value).error, HasSubstr("cpuacct.usage: expected a number"));

  ASSERT_TRUE(parse_cgroup_keyed("usage_usec 8412001\nuser_usec 6100000\n", "cpu.stat", "usage_usec", value).ok());
  EXPECT_EQ(value, 8412001u);
  // "total_inactive_file" is not "inactive_file": keys match whole.
  ASSERT_TRUE(
      parse_cgroup_keyed("total_inactive_file 5\ninactive_file 7\n", "memory.stat", "inactive_file", value).ok());
  EXPECT_EQ(value, 7u);
  EXPECT_THAT(parse_cgroup_keyed("user_usec 1\n", "cpu.stat", "usage_usec", value).error,
              HasSubstr("cpu.stat: usage_usec missing"));
  EXPECT_THAT(parse_cgroup_keyed("usage_usec 1\nusage_usec 2\n", "cpu.stat", "usage_usec", value).error,
              HasSubstr("cpu.stat line 2: usage_usec appears twice (first on line 1)"));
  EXPECT_THAT(parse_cgroup_keyed("usage_usec 12x\n", "cpu.stat", "usage_usec", value).error,
              HasSubstr("cpu.stat line 1: usage_usec: expected a number"));
  EXPECT_THAT(parse_cgroup_keyed("usage_usec 1 2\n", "cpu.stat", "usage_usec", value).error,
              HasSubstr("unexpected '2'"));
}

// ---- derive ----

std::map<std::string, double> derive(const CgroupRead* previous, const CgroupRead& current, double elapsed_s) {
  RecordingSeriesWriter writer(cgroup_source().series);
  derive_cgroup(previous, current, DeriveContext{.elapsed_s = elapsed_s, .facts = {}}, writer);
  return writer.values;
}

TEST(CgroupDeriveTest, UseRelativeToTheLimits) {
  const CgroupRead before{.generation = 1, .cpu_usage_ns = 1'000'000'000, .cpu_limit_cores = 1.5,
                          .memory_used_bytes = 100, .memory_limit_bytes = 400};
  CgroupRead after = before;
  after.cpu_usage_ns = std::uint64_t{1'000'000'000} + 1'500'000'000;  // 0.75 cores over 2 s
  after.memory_used_bytes = 134;
  const auto values = derive(&before, after, 2.0);
  EXPECT_EQ(values.at("cgroup.cpu_limit_cores"), 1.5);
  EXPECT_EQ(values.at("cgroup.cpu_used_cores"), 0.75);
  EXPECT_EQ(values.at("cgroup.cpu_used_pct"), 50.0);
  EXPECT_EQ(values.at("cgroup.memory_limit_bytes"), 400.0);
  EXPECT_EQ(values.at("cgroup.memory_used_bytes"), 134.0);
  EXPECT_EQ(values.at("cgroup.memory_used_pct"), 33.5);
}

TEST(CgroupDeriveTest, NoLimitsStillReportUse) {
  const CgroupRead before{.generation = 1, .cpu_usage_ns = 0, .memory_used_bytes = 100};
  CgroupRead after = before;
  after.cpu_usage_ns = std::uint64_t{3'000'000'000};
  const auto values = derive(&before, after, 1.0);
  EXPECT_EQ(values.at("cgroup.cpu_used_cores"), 3.0);
  EXPECT_EQ(values.at("cgroup.memory_used_bytes"), 100.0);
  EXPECT_EQ(values.count("cgroup.cpu_limit_cores"), 0u);
  EXPECT_EQ(values.count("cgroup.cpu_used_pct"), 0u);
  EXPECT_EQ(values.count("cgroup.memory_limit_bytes"), 0u);
  EXPECT_EQ(values.count("cgroup.memory_used_pct"), 0u);
}

TEST(CgroupDeriveTest, NoCpuUseWithoutAComparableRead) {
  const CgroupRead before{.generation = 1, .cpu_usage_ns = 5'000'000'000, .cpu_limit_cores = 2.0};
  CgroupRead after = before;
  after.cpu_usage_ns = 6'000'000'000;
  // No previous read: gauges only.
  EXPECT_EQ(derive(nullptr, after, 1.0).count("cgroup.cpu_used_cores"), 0u);
  EXPECT_EQ(derive(nullptr, after, 1.0).at("cgroup.cpu_limit_cores"), 2.0);
  // Located again in between (another cgroup's counter).
  CgroupRead moved = after;
  moved.generation = 2;
  EXPECT_EQ(derive(&before, moved, 1.0).count("cgroup.cpu_used_cores"), 0u);
  // Counter went back (the cgroup was recreated): no value, no spike.
  CgroupRead reset = after;
  reset.cpu_usage_ns = 10;
  EXPECT_EQ(derive(&before, reset, 1.0).count("cgroup.cpu_used_cores"), 0u);
  EXPECT_EQ(derive(&before, reset, 1.0).count("cgroup.cpu_used_pct"), 0u);
  // No time passed.
  EXPECT_EQ(derive(&before, after, 0.0).count("cgroup.cpu_used_cores"), 0u);
}

// ---- the source over fixture trees ----

struct FixtureCase {
  std::string_view case_name;
  std::map<std::string, double> values;  // after two reads of the same files, 1 s apart
};
void PrintTo(const FixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class CgroupFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

// Values written by hand from the files under tests/fixtures/hosts/<case>.
TEST_P(CgroupFixtureTest, CollectorSetReadsTheCase) {
  CollectorSet collectors(settings_for(host_case(GetParam().case_name)), kCgroupOnly);
  for (int tick = 0; tick < 2; ++tick) {
    if (tick > 0) collectors.advance_all();
    const Status status = collectors.collect_one(0);
    ASSERT_TRUE(status.ok()) << status.error;
  }
  EXPECT_EQ(testing_support::derive_to_map(collectors, 1.0), GetParam().values);
}

INSTANTIATE_TEST_SUITE_P(
    Hosts, CgroupFixtureTest,
    ::testing::Values(
        // Hybrid: cpu and cpuacct as separate v1 hierarchies at the root,
        // memory in a v1 child; usage_in_bytes - total_inactive_file.
        FixtureCase{"cgroup_this_vm", {{"cgroup.cpu_used_cores", 0.0}, {"cgroup.memory_used_bytes", 56692736.0}}},
        FixtureCase{"cgroup_docker_v2",
                    {{"cgroup.cpu_limit_cores", 1.5},
                     {"cgroup.cpu_used_cores", 0.0},
                     {"cgroup.cpu_used_pct", 0.0},
                     {"cgroup.memory_limit_bytes", 536870912.0},
                     {"cgroup.memory_used_bytes", 159383552.0},  // 201326592 - 41943040
                     {"cgroup.memory_used_pct", 29.69}}},
        FixtureCase{"cgroup_v1_docker",
                    {{"cgroup.cpu_limit_cores", 0.5},
                     {"cgroup.cpu_used_cores", 0.0},
                     {"cgroup.cpu_used_pct", 0.0},
                     {"cgroup.memory_limit_bytes", 268435456.0},
                     {"cgroup.memory_used_bytes", 117440512.0},  // 150994944 - 33554432
                     {"cgroup.memory_used_pct", 43.75}}},
        FixtureCase{"cgroup_systemd_unlimited",
                    {{"cgroup.cpu_used_cores", 0.0}, {"cgroup.memory_used_bytes", 20971520.0}}},
        // The v2 root has cpu.stat only.
        FixtureCase{"cgroup_v2_root", {{"cgroup.cpu_used_cores", 0.0}}}));

TEST(CgroupSourceTest, NotMountedIsAbsent) {
  CollectorSet collectors(settings_for(host_case("cgroup_not_mounted")), kCgroupOnly);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("no cgroup cpu or memory files readable (the hierarchies of "));
  EXPECT_THAT(status.error, HasSubstr("are not mounted per "));
  EXPECT_EQ(collectors.collect_all(), 0u) << "absent is not a failure";
}

TEST(CgroupSourceTest, NoSelfCgroupFileIsAbsent) {
  const TempDir root;
  CollectorSet collectors(settings_for(root.path()), kCgroupOnly);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("self/cgroup"));
}

TEST(CgroupSourceTest, GarbageFilesFailNamingTheFile) {
  CollectorSet collectors(settings_for(host_case("cgroup_garbage")), kCgroupOnly);
  const Status status = collectors.collect_one(0);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("sys/fs/cgroup/cpu.max: cpu.max quota: expected a number, got 'lots'"));
  EXPECT_FALSE(collectors.source(0).current_ok());

  CollectorSet membership(settings_for(host_case("cgroup_garbage_membership")), kCgroupOnly);
  const Status bad = membership.collect_one(0);
  EXPECT_FALSE(bad.unavailable);
  EXPECT_THAT(bad.error, HasSubstr("proc/self/cgroup: cgroup line 2: expected id:controllers:path"));
}

// Each garbage file of the case on its own, in an otherwise good v2 tree.
TEST(CgroupSourceTest, EachGarbageFileFails) {
  for (const std::string_view file : {"cpu.max", "cpu.stat", "memory.max", "memory.current", "memory.stat"}) {
    SCOPED_TRACE(file);
    const TempDir root;
    std::filesystem::copy(host_case("cgroup_docker_v2"), root.path(), std::filesystem::copy_options::recursive);
    const std::string name = "/sys/fs/cgroup/" + std::string(file);
    write_text(root.path() + name, read_text(host_case("cgroup_garbage") + name));
    CollectorSet collectors(settings_for(root.path()), kCgroupOnly);
    const Status status = collectors.collect_one(0);
    ASSERT_FALSE(status.ok());
    EXPECT_FALSE(status.unavailable);
    EXPECT_THAT(status.error, HasSubstr(root.path() + name + ": "));
  }
}

TEST(CgroupSourceTest, AFifoInPlaceOfAFileFailsWithoutWaiting) {
  const TempDir root;
  std::filesystem::copy(host_case("cgroup_docker_v2"), root.path(), std::filesystem::copy_options::recursive);
  const std::string limit = root.path() + "/sys/fs/cgroup/memory.max";
  std::filesystem::remove(limit);
  ASSERT_EQ(::mkfifo(limit.c_str(), 0600), 0);
  CollectorSet collectors(settings_for(root.path()), kCgroupOnly);
  const Status status = collectors.collect_one(0);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("is a FIFO"));
}

TEST(CgroupSourceTest, CpuUseFromTwoReads) {
  const TempDir root;
  std::filesystem::copy(host_case("cgroup_docker_v2"), root.path(), std::filesystem::copy_options::recursive);
  CollectorSet collectors(settings_for(root.path()), kCgroupOnly);
  ASSERT_TRUE(collectors.collect_one(0).ok());
  collectors.advance_all();
  // 8412001 us + 0.6 s of CPU over 0.5 s: 1.2 cores, 80 % of the 1.5 allowed.
  write_text(root.path() + "/sys/fs/cgroup/cpu.stat", "usage_usec 9012001\nuser_usec 6700000\n");
  ASSERT_TRUE(collectors.collect_one(0).ok());
  const auto values = testing_support::derive_to_map(collectors, 0.5);
  EXPECT_EQ(values.at("cgroup.cpu_used_cores"), 1.2);
  EXPECT_EQ(values.at("cgroup.cpu_used_pct"), 80.0);
}

TEST(CgroupSourceTest, FindsTheFilesAgainWhenTheAgentMovesOrTheyVanish) {
  const TempDir root;
  std::filesystem::copy(host_case("cgroup_systemd_unlimited"), root.path(), std::filesystem::copy_options::recursive);
  const std::string service = root.path() + "/sys/fs/cgroup/system.slice/hostpulse.service";
  const std::string other = root.path() + "/sys/fs/cgroup/system.slice/other.service";
  std::filesystem::copy(service, other, std::filesystem::copy_options::recursive);
  write_text(other + "/memory.max", "1048576000\n");

  CgroupState state(settings_for(root.path()));
  CgroupRead read;
  ASSERT_TRUE(state.read(read).ok());
  EXPECT_EQ(state.generation(), 1u);
  EXPECT_FALSE(read.memory_limit_bytes.has_value());
  ASSERT_TRUE(state.read(read).ok());
  EXPECT_EQ(state.generation(), 1u) << "a steady tick does not look again";

  write_text(root.path() + "/proc/self/cgroup", "0::/system.slice/other.service\n");
  ASSERT_TRUE(state.read(read).ok());
  EXPECT_EQ(state.generation(), 2u);
  EXPECT_EQ(read.generation, 2u);
  EXPECT_EQ(read.memory_limit_bytes, 1048576000u);

  // The limit file goes (the controller was disabled): found again, without it.
  std::filesystem::remove(other + "/memory.max");
  const Status without_limit = state.read(read);
  ASSERT_TRUE(without_limit.ok()) << without_limit.error;
  EXPECT_EQ(state.generation(), 3u);
  EXPECT_FALSE(read.memory_limit_bytes.has_value());
  EXPECT_TRUE(read.memory_used_bytes.has_value());

  // The whole cgroup goes: absent until it is back.
  std::filesystem::remove_all(other);
  const Status gone = state.read(read);
  EXPECT_TRUE(gone.unavailable);
  EXPECT_THAT(gone.error, HasSubstr("none in " + other));
  std::filesystem::copy(service, other, std::filesystem::copy_options::recursive);
  ASSERT_TRUE(state.read(read).ok());
  EXPECT_EQ(read.memory_used_bytes, 20971520u);
}

// Every parser on every prefix of every fixture file and on random bytes,
// each copied into a heap block of exactly its size so a read past the end
// meets ASan's redzone: never a crash, and "ok" only with sane results.
void parse_everything(std::string_view text) {
  const std::vector<char> exact(text.begin(), text.end());
  const std::string_view view(exact.data(), exact.size());
  CgroupMembership membership;
  if (parse_cgroup_membership(view, membership).ok()) {
    for (const auto& path : {membership.unified, membership.cpu, membership.cpuacct, membership.memory}) {
      if (path) {
        EXPECT_EQ(path->front(), '/');
      }
    }
  }
  CgroupMounts mounts;
  if (parse_cgroup_mountinfo(view, mounts).ok()) {
    EXPECT_LE(mounts.mounts.size(), kMaxCgroupMounts);
  }
  std::optional<double> cores;
  if (parse_cpu_max(view, cores).ok() && cores) {
    EXPECT_GT(*cores, 0.0);
  }
  std::optional<std::uint64_t> limit;
  if (parse_cfs_quota(view, limit).ok() && limit) {
    EXPECT_GT(*limit, 0u);
  }
  (void)parse_memory_max(view, limit);
  if (parse_v1_memory_limit(view, limit).ok() && limit) {
    EXPECT_LT(*limit, kV1UnlimitedBytes);
  }
  std::uint64_t value = 0;
  (void)parse_cgroup_number(view, "file", value);
  (void)parse_cgroup_keyed(view, "file", "usage_usec", value);
}

TEST(CgroupParserRobustnessTest, PrefixesOfEveryFixtureAndRandomBytes) {
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts")) {
    if (!entry.is_regular_file() || entry.path().string().find("/cgroup_") == std::string::npos) continue;
    const std::string text = read_text(entry.path().string());
    // Long files (mountinfo) in steps, so the test stays fast.
    const std::size_t step = text.size() > 512 ? 7 : 1;
    for (std::size_t length = 0; length <= text.size(); length += step) parse_everything(text.substr(0, length));
  }
  std::mt19937 random(20261201);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(random() % 64, '\0');
    constexpr std::string_view kAlphabet = "0123456789 :/-\n\\maxcpu,_";
    for (char& c : junk) c = kAlphabet[random() % kAlphabet.size()];
    parse_everything(junk);
  }
}

// This machine: whatever it has must read without failing (it is a hybrid
// host with no limits set, so the limit series likely have no value).
TEST(CgroupLiveTest, ReadsThisMachine) {
  CollectorSet collectors{HostPaths{}, kCgroupOnly};
  const auto first_read = std::chrono::steady_clock::now();
  const Status first = collectors.collect_one(0);
  if (first.unavailable) GTEST_SKIP() << "no cgroup files here: " << first.error;
  ASSERT_TRUE(first.ok()) << first.error;
  collectors.advance_all();
  // Some CPU time for the cgroup to account between the reads.
  volatile double sink = 0;
  for (int i = 0; i < 2'000'000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
  const Status second = collectors.collect_one(0);
  ASSERT_TRUE(second.ok()) << second.error;
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_read).count();
  const auto values = testing_support::derive_to_map(collectors, elapsed_s);
  for (const auto& [name, value] : values) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(std::isfinite(value));
    EXPECT_GE(value, 0.0);
  }
  if (values.count("cgroup.cpu_used_cores") != 0) {
    // Not more cores than the machine has, give or take rounding.
    EXPECT_LE(values.at("cgroup.cpu_used_cores"), 4096.0);
  }
  EXPECT_EQ(values.count("cgroup.cpu_used_pct"), values.count("cgroup.cpu_limit_cores") *
                                                     values.count("cgroup.cpu_used_cores"));
  EXPECT_EQ(values.count("cgroup.memory_used_pct"), values.count("cgroup.memory_limit_bytes") *
                                                        values.count("cgroup.memory_used_bytes"));
  EXPECT_FALSE(values.empty()) << "located files, yet no value";
}

}  // namespace
}  // namespace hostpulse
