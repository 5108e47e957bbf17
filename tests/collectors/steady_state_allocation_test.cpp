// The agent collects every second for months; the steady path (read, parse,
// succeed) must not touch the heap. This file replaces the global operator
// new for the whole test binary to count allocations; it forwards to malloc,
// so ASan still checks every block.

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <span>

#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "base/directory_entries.hpp"
#include "base/file_reader.hpp"
#include "collectors/linux/cpufreq.hpp"
#include "collectors/linux/filesystems.hpp"
#include "collectors/linux/disks.hpp"
#include "collectors/linux/net.hpp"
#include "collectors/linux/power_supply.hpp"
#include "collectors/linux/proc_loadavg.hpp"
#include "collectors/linux/proc_meminfo.hpp"
#include "collectors/linux/proc_stat.hpp"
#include "collectors/linux/proc_uptime.hpp"
#include "collectors/linux/pressure.hpp"
#include "collectors/linux/proc_file_nr.hpp"
#include "collectors/linux/proc_net_snmp.hpp"
#include "collectors/linux/proc_net_sockstat.hpp"
#include "collectors/linux/proc_vmstat.hpp"
#include "collectors/linux/sensors.hpp"
#include "collectors/linux/sysfs_attribute.hpp"
#include "tests/collectors/fixture_files.hpp"

namespace {
std::atomic<std::size_t> allocation_count{0};
}  // namespace

// Kept out of line, like the deletes below: inlined, GCC sees malloc() and
// free() meet new and delete and warns (-Wmismatched-new-delete), though the
// pairs are consistent.
[[gnu::noinline]] void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
  throw std::bad_alloc();
}

[[gnu::noinline]] void operator delete(void* block) noexcept { std::free(block); }
[[gnu::noinline]] void operator delete(void* block, std::size_t) noexcept { std::free(block); }

namespace hostpulse {
namespace {

using testing_support::fixture_root;
using testing_support::read_fixture;

// Counts heap allocations made while the scope is alive.
class AllocationCounter {
 public:
  AllocationCounter() : start_(allocation_count.load()) {}
  [[nodiscard]] std::size_t allocations() const { return allocation_count.load() - start_; }

 private:
  std::size_t start_;
};

// Warms both of each source's reads with two ticks, then counts the heap
// allocations of three more; derives into writer when one is given. Every
// tick's reads must succeed.
std::size_t steady_tick_allocations(CollectorSet& collectors, SeriesWriter* writer = nullptr) {
  const auto tick = [&] {
    EXPECT_EQ(collectors.collect_all(), 0u);
    if (writer != nullptr) collectors.derive_all(1.0, [writer](std::size_t) -> SeriesWriter& { return *writer; });
    collectors.advance_all();
  };
  for (int warm = 0; warm < 2; ++warm) tick();
  const AllocationCounter counter;
  for (int i = 0; i < 3; ++i) tick();
  return counter.allocations();
}

TEST(SteadyStateAllocationTest, CounterSeesAllocations) {
  const AllocationCounter counter;
  // Called directly: the compiler may elide a new-expression, not this.
  void* block = ::operator new(16);
  ::operator delete(block);
  EXPECT_EQ(counter.allocations(), 1u);
}

TEST(SteadyStateAllocationTest, ParsersAllocateNothingOnceWarm) {
  for (const std::string_view case_name : {"linux6_2cpu", "linux6_256cpu", "linux2_6_old", "extra_fields"}) {
    SCOPED_TRACE(case_name);
    const std::string stat_text = read_fixture(case_name, "stat");
    const std::string meminfo_text = read_fixture(case_name, "meminfo");
    const std::string loadavg_text = read_fixture(case_name, "loadavg");
    const std::string uptime_text = read_fixture(case_name, "uptime");
    ProcStat stat;
    MemInfo memory;
    LoadAvg load;
    Uptime uptime;
    ASSERT_TRUE(parse_proc_stat(stat_text, stat).ok());  // warms stat.cpus

    const AllocationCounter counter;
    for (int tick = 0; tick < 3; ++tick) {
      ASSERT_TRUE(parse_proc_stat(stat_text, stat).ok());
      ASSERT_TRUE(parse_proc_meminfo(meminfo_text, memory).ok());
      ASSERT_TRUE(parse_proc_loadavg(loadavg_text, load).ok());
      ASSERT_TRUE(parse_proc_uptime(uptime_text, uptime).ok());
    }
    EXPECT_EQ(counter.allocations(), 0u);
  }
}

TEST(SteadyStateAllocationTest, CollectorSetAllocatesNothingOnceWarm) {
  HostPaths paths;
  paths.proc = fixture_root("linux6_256cpu");
  CollectorSet collectors(paths, core_sources());
  // Each source keeps two reads (previous and current): warm both.
  EXPECT_EQ(steady_tick_allocations(collectors), 0u);
}

TEST(SteadyStateAllocationTest, LiveProcAllocatesNothingOnceWarm) {
  CollectorSet collectors{HostPaths{}, platform_sources()};
  // Both reads of every source, and a live file can grow between reads (a
  // longer number), so warm each twice.
  for (int warm = 0; warm < 4; ++warm) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.advance_all();
  }

  const AllocationCounter counter;
  ASSERT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  EXPECT_EQ(counter.allocations(), 0u);
}

// What each source's expose writes goes to the metrics store, whose steady
// ticks reuse every slot; the expose functions themselves must not allocate
// either (label values are views and stack buffers).
class CountingMetricWriter final : public MetricWriter {
 public:
  void sample(std::size_t /*spec*/, std::span<const std::string_view> /*label_values*/, double /*value*/) override {
    ++samples;
  }
  using MetricWriter::sample;
  std::size_t samples = 0;
};

void expect_expose_allocates_nothing(CollectorSet& collectors) {
  CountingMetricWriter writer;
  for (int warm = 0; warm < 4; ++warm) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.expose_all([&writer](std::size_t) -> MetricWriter& { return writer; });
    collectors.advance_all();
  }
  ASSERT_EQ(collectors.collect_all(), 0u);
  writer.samples = 0;
  const AllocationCounter counter;
  collectors.expose_all([&writer](std::size_t) -> MetricWriter& { return writer; });
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_GT(writer.samples, 0u);
}

TEST(SteadyStateAllocationTest, ExposeOfEverySourceOnLiveProcAllocatesNothing) {
  CollectorSet collectors{HostPaths{}, platform_sources()};
  expect_expose_allocates_nothing(collectors);
}

TEST(SteadyStateAllocationTest, ExposeOfSensorsCpufreqAndPowerSupplyAllocatesNothing) {
  const std::string root = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/sensors_laptop";
  const SourceDefinition sensors[] = {sensors_source(), cpufreq_source()};
  CollectorSet sensor_collectors(SourceSettings{.paths = HostPaths{.proc = root + "/proc", .sys = root + "/sys"}},
                                 sensors);
  expect_expose_allocates_nothing(sensor_collectors);
  const std::string power = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/power_laptop";
  const SourceDefinition supplies[] = {power_supply_source()};
  CollectorSet power_collectors(SourceSettings{.paths = HostPaths{.proc = power + "/proc", .sys = power + "/sys"}},
                                supplies);
  expect_expose_allocates_nothing(power_collectors);
}

// The net source over fixture trees (/proc/net/dev and a sysfs tree with
// attribute files and virtual/hardware links): after the first reads have
// made each interface's readers, a tick reads, parses and derives without the
// heap, including the interfaces whose speed cannot be read.
class DiscardingSeriesWriter final : public SeriesWriter {
 public:
  void set(std::size_t /*spec*/, double /*value*/) override {}
  EntityHandle entity(std::string_view /*label*/, std::string_view /*key*/) override { return EntityHandle{0}; }
  void set(EntityHandle /*entity*/, std::size_t /*spec*/, double /*value*/) override {}
};

TEST(SteadyStateAllocationTest, NetSourceAllocatesNothingOnceWarm) {
  const SourceDefinition net_only[] = {net_source()};
  for (const std::string_view case_name : {"net_large_host", "net_docker", "net_this_vm"}) {
    SCOPED_TRACE(case_name);
    const std::string root = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
    CollectorSet collectors(SourceSettings{.paths = HostPaths{.proc = root + "/proc", .sys = root + "/sys"}}, net_only);
    DiscardingSeriesWriter writer;
    EXPECT_EQ(steady_tick_allocations(collectors, &writer), 0u);
  }
}

// The cgroup source over each layout it reads (v1, v2, hybrid): a steady
// tick re-reads /proc/self/cgroup and the value files, derives, and
// allocates nothing.
TEST(SteadyStateAllocationTest, CgroupSourceAllocatesNothingOnceWarm) {
  const SourceDefinition* cgroup = nullptr;
  for (const SourceDefinition& definition : platform_sources()) {
    if (definition.name == "cgroup") cgroup = &definition;
  }
  ASSERT_NE(cgroup, nullptr);
  for (const std::string_view case_name : {"cgroup_this_vm", "cgroup_docker_v2", "cgroup_v1_docker",
                                           "cgroup_systemd_unlimited", "cgroup_v2_root"}) {
    SCOPED_TRACE(case_name);
    const std::string root = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
    SourceSettings settings;
    settings.paths.proc = root + "/proc";
    settings.cgroup.mounts_root = root;
    CollectorSet collectors(settings, std::span(cgroup, 1));
    DiscardingSeriesWriter writer;
    EXPECT_EQ(steady_tick_allocations(collectors, &writer), 0u);
  }
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

// The whole-host /proc sources (pressure, vmstat, snmp, sockstat, file-nr)
// on their captured and hand-made fixture trees: a warm tick, derive
// included, allocates nothing. The recorder allocates, so derives write to a
// writer that only counts.
class ProcSourceCountingWriter final : public SeriesWriter {
 public:
  void set(std::size_t /*spec*/, double /*value*/) override { ++values; }
  EntityHandle entity(std::string_view /*label*/, std::string_view /*key*/) override { return EntityHandle{0}; }
  void set(EntityHandle /*entity*/, std::size_t /*spec*/, double /*value*/) override { ++values; }
  std::size_t values = 0;
};

void expect_proc_source_warm_ticks_allocate_nothing(std::string_view case_name, const SourceDefinition& definition) {
  SCOPED_TRACE(case_name);
  SourceSettings settings;
  settings.paths.proc = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name) + "/proc";
  const SourceDefinition definitions[] = {definition};
  CollectorSet collectors(settings, definitions);
  ProcSourceCountingWriter writer;
  for (int warm = 0; warm < 2; ++warm) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.derive_all(1.0, [&writer](std::size_t) -> SeriesWriter& { return writer; });
    collectors.advance_all();
  }
  const std::size_t warm_values = writer.values;

  const AllocationCounter counter;
  for (int tick = 0; tick < 3; ++tick) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.derive_all(1.0, [&writer](std::size_t) -> SeriesWriter& { return writer; });
    collectors.advance_all();
  }
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_GT(writer.values, warm_values);  // the ticks did write values
}

TEST(SteadyStateAllocationTest, PressureAllocatesNothingOnceWarm) {
  expect_proc_source_warm_ticks_allocate_nothing("psi_this_vm", pressure_source());  // irq missing: skipped every tick
  expect_proc_source_warm_ticks_allocate_nothing("psi_with_irq", pressure_source());
  expect_proc_source_warm_ticks_allocate_nothing("psi_old_kernel", pressure_source());
}

TEST(SteadyStateAllocationTest, VmstatAllocatesNothingOnceWarm) {
  expect_proc_source_warm_ticks_allocate_nothing("vmstat_this_vm", proc_vmstat_source());
  expect_proc_source_warm_ticks_allocate_nothing("vmstat_old_kernel", proc_vmstat_source());
}

TEST(SteadyStateAllocationTest, NetSnmpAllocatesNothingOnceWarm) {
  expect_proc_source_warm_ticks_allocate_nothing("snmp_this_vm", proc_net_snmp_source());
  expect_proc_source_warm_ticks_allocate_nothing("snmp_old_kernel", proc_net_snmp_source());
}

TEST(SteadyStateAllocationTest, NetSockstatAllocatesNothingOnceWarm) {
  expect_proc_source_warm_ticks_allocate_nothing("sockstat_this_vm", proc_net_sockstat_source());
  expect_proc_source_warm_ticks_allocate_nothing("sockstat_missing_keys", proc_net_sockstat_source());
}

TEST(SteadyStateAllocationTest, FileNrAllocatesNothingOnceWarm) {
  expect_proc_source_warm_ticks_allocate_nothing("filenr_this_vm", proc_file_nr_source());
  expect_proc_source_warm_ticks_allocate_nothing("filenr_zero_max", proc_file_nr_source());
}

TEST(SteadyStateAllocationTest, ProcSourcesOnTheLargeHostTreeAllocateNothingOnceWarm) {
  for (const SourceDefinition& definition : {pressure_source(), proc_vmstat_source(), proc_net_snmp_source(),
                                             proc_net_sockstat_source(), proc_file_nr_source()}) {
    SCOPED_TRACE(definition.name);
    expect_proc_source_warm_ticks_allocate_nothing("procs_large_host", definition);
  }
}

TEST(SteadyStateAllocationTest, DirectoryListingAllocatesNothing) {
  DirectoryEntries lister;
  const std::string directory = fixture_root("linux6_2cpu");
  const std::string absent = directory + "/absent";
  const AllocationCounter counter;
  for (int tick = 0; tick < 3; ++tick) {
    ASSERT_EQ(lister.list(directory), 0);
    ASSERT_FALSE(lister.entries().empty());
    ASSERT_NE(lister.list(absent), 0);
  }
  EXPECT_EQ(counter.allocations(), 0u);
}

// A sysfs tree under tests/fixtures/hosts/<case>, as a CollectorSet sees it.
SourceSettings host_fixture(std::string_view case_name) {
  const std::string root = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
  return SourceSettings{.paths = HostPaths{.proc = root + "/proc", .sys = root + "/sys", .rootfs = "/"}};
}

// Every tick rescans /sys/class/hwmon and /sys/class/thermal; only a chip
// seen for the first time may allocate.
TEST(SteadyStateAllocationTest, SensorsAllocateNothingOnceWarm) {
  static const SourceDefinition definitions[] = {sensors_source()};
  for (const std::string_view case_name : {"sensors_laptop", "sensors_server", "sensors_hostile", "sensors_none"}) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(host_fixture(case_name), definitions);
    EXPECT_EQ(steady_tick_allocations(collectors), 0u);
  }
}

TEST(SteadyStateAllocationTest, CpufreqAllocatesNothingOnceWarm) {
  static const SourceDefinition definitions[] = {cpufreq_source()};
  for (const std::string_view case_name : {"sensors_laptop", "sensors_server", "sensors_none"}) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(host_fixture(case_name), definitions);
    EXPECT_EQ(steady_tick_allocations(collectors), 0u);
  }
}

TEST(SteadyStateAllocationTest, PowerSupplyAllocatesNothingOnceWarm) {
  static const SourceDefinition definitions[] = {power_supply_source()};
  for (const std::string_view case_name : {"power_laptop", "power_hostile", "power_none"}) {
    SCOPED_TRACE(case_name);
    CollectorSet collectors(host_fixture(case_name), definitions);
    EXPECT_EQ(steady_tick_allocations(collectors), 0u);
  }
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

// The filesystems source: mountinfo parsed, mounts handed to its statvfs
// worker and the answers taken back, on a fixture tree (real statvfs of the
// directories under root/) and live. The worker thread's allocations count
// too: the counter is global.
TEST(SteadyStateAllocationTest, FilesystemsAllocateNothingOnceWarm) {
  static const SourceDefinition filesystems[] = {filesystems_source()};
  const std::string host = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/fs_docker_host";
  const SourceSettings fixture{.paths = {.proc = host + "/proc", .sys = host + "/sys", .rootfs = host + "/root"}};
  for (const SourceSettings& settings : {fixture, SourceSettings{}}) {
    SCOPED_TRACE(settings.paths.rootfs);
    CollectorSet collectors(settings, filesystems);
    for (int warm = 0; warm < 4; ++warm) {
      ASSERT_EQ(collectors.collect_all(), 0u);
      collectors.advance_all();
    }
    const AllocationCounter counter;
    for (int tick = 0; tick < 3; ++tick) {
      ASSERT_EQ(collectors.collect_all(), 0u);
      collectors.advance_all();
    }
    EXPECT_EQ(counter.allocations(), 0u);
  }
}

TEST(SteadyStateAllocationTest, DisksSourceAllocatesNothingOnceWarm) {
  // The LVM host: device-mapper names resolved from sysfs (one over the
  // small-string buffer, one too long and replaced), partitions reported.
  SourceSettings settings;
  settings.paths.proc = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/disk_lvm/proc";
  settings.paths.sys = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/disk_lvm/sys";
  settings.disks.partitions = true;
  const SourceDefinition definitions[] = {disks_source()};
  CollectorSet collectors(settings, definitions);
  DiscardingSeriesWriter writer;
  const auto writer_for = [&writer](std::size_t) -> SeriesWriter& { return writer; };
  for (int warm = 0; warm < 2; ++warm) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.derive_all(1.0, writer_for);
    collectors.advance_all();
  }

  const AllocationCounter counter;
  for (int tick = 0; tick < 3; ++tick) {
    ASSERT_EQ(collectors.collect_all(), 0u);
    collectors.derive_all(1.0, writer_for);
    collectors.advance_all();
  }
  EXPECT_EQ(counter.allocations(), 0u);
}

}  // namespace
}  // namespace hostpulse

namespace hostpulse {
namespace {

// Across the re-read periods: the ticks that read speed, MTU, sensor limits
// again, and the statvfs rounds, allocate nothing either.
TEST(SteadyStateAllocationTest, RereadsAndStatvfsRoundsAllocateNothing) {
  const std::string hosts = std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/";
  const auto paths_of = [&hosts](std::string_view case_name) {
    const std::string root = hosts + std::string(case_name);
    return HostPaths{.proc = root + "/proc", .sys = root + "/sys", .rootfs = root + "/root"};
  };
  static const SourceDefinition net_only[] = {net_source()};
  static const SourceDefinition sensors_only[] = {sensors_source()};
  static const SourceDefinition filesystems_only[] = {filesystems_source()};
  struct Case {
    std::string_view name;
    std::span<const SourceDefinition> sources;
    std::size_t period;
  };
  for (const Case& run : {Case{"net_docker", net_only, sysfs_attribute::kRarelyChangingRereadReads},
                          Case{"sensors_laptop", sensors_only, sysfs_attribute::kRarelyChangingRereadReads},
                          Case{"fs_docker_host", filesystems_only, kStatvfsEveryReads}}) {
    SCOPED_TRACE(run.name);
    CollectorSet collectors(SourceSettings{.paths = paths_of(run.name)}, run.sources);
    for (int warm = 0; warm < 2; ++warm) {
      ASSERT_EQ(collectors.collect_all(), 0u);
      collectors.advance_all();
    }
    const AllocationCounter counter;
    for (std::size_t tick = 0; tick < 2 * run.period + 1; ++tick) {
      ASSERT_EQ(collectors.collect_all(), 0u);
      collectors.advance_all();
    }
    EXPECT_EQ(counter.allocations(), 0u);
  }
}

// A read that fails (a CPU without cpufreq, an attribute of a drive asleep)
// builds no message when the caller only counts it.
TEST(SteadyStateAllocationTest, FailedTryReadAllocatesNothing) {
  FileReader reader(std::string(HOSTPULSE_FIXTURES_DIR) + "/no-such-attribute",
                    FileReader::Options{.max_bytes = 4096, .initial_bytes = 32, .whole_in_one_read = true});
  ASSERT_FALSE(reader.try_read());
  const AllocationCounter counter;
  for (int tick = 0; tick < 10; ++tick) ASSERT_FALSE(reader.try_read());
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_FALSE(reader.failure().ok());  // the message, when it is wanted
}

}  // namespace
}  // namespace hostpulse
