#include "collectors/linux/disks.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"

namespace hostpulse {
namespace {

using testing_support::RecordingSeriesWriter;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// tests/fixtures/hosts/<case>/{proc,sys}: whole trees, one per host shape.
std::string host_fixture(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

HostPaths host_paths(std::string_view case_name) {
  HostPaths paths;
  paths.proc = host_fixture(case_name) + "/proc";
  paths.sys = host_fixture(case_name) + "/sys";
  return paths;
}

std::string read_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  EXPECT_TRUE(stream) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

std::string diskstats_of(std::string_view case_name) { return read_file(host_fixture(case_name) + "/proc/diskstats"); }

std::vector<DiskStatsLine> parse_all(std::string_view text, Status& status) {
  std::vector<DiskStatsLine> lines;
  status = parse_proc_diskstats(text, [&lines](const DiskStatsLine& line) { lines.push_back(line); });
  return lines;
}

// ---- one line ----

struct LineCase {
  std::string_view label{};
  std::string_view line{};
  std::string_view error{};  // empty: parses
  std::uint8_t fields = 0;
  std::string_view name{};
  DiskCounters counters{};
};

void PrintTo(const LineCase& test_case, std::ostream* stream) { *stream << test_case.label; }

class DiskstatsLineTest : public ::testing::TestWithParam<LineCase> {};

TEST_P(DiskstatsLineTest, ParsesOrNamesTheProblem) {
  const LineCase& c = GetParam();
  DiskStatsLine line;
  const Status status = parse_diskstats_line(c.line, line);
  if (!c.error.empty()) {
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(status.error, HasSubstr(c.error));
    return;
  }
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(line.fields, c.fields);
  EXPECT_EQ(line.name, c.name);
  const DiskCounters& got = line.counters;
  const DiskCounters& want = c.counters;
  EXPECT_EQ(got.reads_completed, want.reads_completed);
  EXPECT_EQ(got.sectors_read, want.sectors_read);
  EXPECT_EQ(got.read_ms, want.read_ms);
  EXPECT_EQ(got.writes_completed, want.writes_completed);
  EXPECT_EQ(got.sectors_written, want.sectors_written);
  EXPECT_EQ(got.write_ms, want.write_ms);
  EXPECT_EQ(got.in_flight, want.in_flight);
  EXPECT_EQ(got.io_ms, want.io_ms);
  EXPECT_EQ(got.weighted_io_ms, want.weighted_io_ms);
  EXPECT_EQ(got.discards_completed, want.discards_completed);
  EXPECT_EQ(got.discard_ms, want.discard_ms);
  EXPECT_EQ(got.flushes_completed, want.flushes_completed);
  EXPECT_EQ(got.flush_ms, want.flush_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, DiskstatsLineTest,
    ::testing::Values(
        // This VM's vda line, 6.18 (20 fields).
        LineCase{.label = "twenty_fields",
                 .line = " 254       0 vda 1503611 50325 30013402 2622488 498506 430899 278823392 1303339 0 299332 4025716 "
                         "453318 105 254107792 95220 27926 4668",
                 .fields = 20,
                 .name = "vda",
                 .counters = {.reads_completed = 1503611, .reads_merged = 50325, .sectors_read = 30013402,
                              .read_ms = 2622488, .writes_completed = 498506, .writes_merged = 430899,
                              .sectors_written = 278823392, .write_ms = 1303339, .in_flight = 0, .io_ms = 299332,
                              .weighted_io_ms = 4025716, .discards_completed = 453318, .discards_merged = 105,
                              .sectors_discarded = 254107792, .discard_ms = 95220, .flushes_completed = 27926,
                              .flush_ms = 4668}},
        LineCase{.label = "eighteen_fields",
                 .line = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
                 .fields = 18,
                 .name = "sda",
                 .counters = {.reads_completed = 1, .reads_merged = 2, .sectors_read = 3, .read_ms = 4,
                              .writes_completed = 5, .writes_merged = 6, .sectors_written = 7, .write_ms = 8,
                              .in_flight = 9, .io_ms = 10, .weighted_io_ms = 11, .discards_completed = 12,
                              .discards_merged = 13, .sectors_discarded = 14, .discard_ms = 15}},
        LineCase{.label = "fourteen_fields_tabs",
                 .line = "3\t0\thda\t1 2 3 4 5 6 7 8 9 10 11",
                 .fields = 14,
                 .name = "hda",
                 .counters = {.reads_completed = 1, .reads_merged = 2, .sectors_read = 3, .read_ms = 4,
                              .writes_completed = 5, .writes_merged = 6, .sectors_written = 7, .write_ms = 8,
                              .in_flight = 9, .io_ms = 10, .weighted_io_ms = 11}},
        LineCase{.label = "future_kernel_extra_fields",
                 .line = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
                 .fields = 22,
                 .name = "sda",
                 .counters = {.reads_completed = 1, .reads_merged = 2, .sectors_read = 3, .read_ms = 4,
                              .writes_completed = 5, .writes_merged = 6, .sectors_written = 7, .write_ms = 8,
                              .in_flight = 9, .io_ms = 10, .weighted_io_ms = 11, .discards_completed = 12,
                              .discards_merged = 13, .sectors_discarded = 14, .discard_ms = 15,
                              .flushes_completed = 16, .flush_ms = 17}},
        LineCase{.label = "max_uint64",
                 .line = "8 0 sda 18446744073709551615 0 0 0 0 0 0 0 0 0 0",
                 .fields = 14,
                 .name = "sda",
                 .counters = {.reads_completed = 18446744073709551615u}},
        // 2.6.0-2.6.24 printed 7 fields for partitions: too old, and too few to derive from.
        LineCase{.label = "old_partition_line", .line = "8 1 sda1 100 200 300 400",
                 .error = "'sda1': expected 14, 18 or 20 fields, got 7"},
        LineCase{.label = "thirteen_fields", .line = "8 0 sda 1 2 3 4 5 6 7 8 9 10",
                 .error = "expected 14, 18 or 20 fields, got 13"},
        LineCase{.label = "fifteen_fields", .line = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12",
                 .error = "expected 14, 18 or 20 fields, got 15"},
        LineCase{.label = "nineteen_fields", .line = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                 .error = "expected 14, 18 or 20 fields, got 19"},
        LineCase{.label = "number_too_big", .line = "8 0 sda 18446744073709551616 0 0 0 0 0 0 0 0 0 0",
                 .error = "field 4 of 'sda': value '18446744073709551616' does not fit in 64 bits"},
        LineCase{.label = "negative", .line = "8 0 sda 1 -2 0 0 0 0 0 0 0 0 0",
                 .error = "field 5 of 'sda': expected a non-negative number, got '-2'"},
        LineCase{.label = "trailing_junk", .line = "8 0 sda 1 2x 0 0 0 0 0 0 0 0 0",
                 .error = "expected a number, got '2x'"},
        LineCase{.label = "major_not_a_number", .line = "x 0 sda 1 2 3 4 5 6 7 8 9 10 11", .error = "major: "},
        LineCase{.label = "minor_too_big", .line = "8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11",
                 .error = "minor: value '4294967296' does not fit in 32 bits"},
        LineCase{.label = "no_name", .line = "8 0", .error = "device name missing"},
        LineCase{.label = "blank_line", .line = "", .error = "major: expected a number, got nothing"}),
    [](const ::testing::TestParamInfo<LineCase>& param_info) { return std::string(param_info.param.label); });

// ---- whole files ----

struct FileCase {
  std::string_view case_name;
  std::size_t lines;
  std::uint8_t fields;
};

void PrintTo(const FileCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class DiskstatsFileTest : public ::testing::TestWithParam<FileCase> {};

TEST_P(DiskstatsFileTest, EveryLineParses) {
  const FileCase& c = GetParam();
  Status status;
  const std::vector<DiskStatsLine> lines = parse_all(diskstats_of(c.case_name), status);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(lines.size(), c.lines);
  for (const DiskStatsLine& line : lines) EXPECT_EQ(line.fields, c.fields) << line.name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DiskstatsFileTest,
                         ::testing::Values(FileCase{"disk_this_vm", 10, 20}, FileCase{"disk_this_vm_t1", 10, 20},
                                           FileCase{"disk_lvm", 9, 20}, FileCase{"disk_md", 6, 18},
                                           FileCase{"disk_nvme", 14, 20}, FileCase{"disk_linux2_6", 9, 14}),
                         [](const ::testing::TestParamInfo<FileCase>& param_info) { return std::string(param_info.param.case_name); });

TEST(DiskstatsFileTest, BadFilesFailNamingTheLine) {
  Status status;
  parse_all(diskstats_of("disk_garbage"), status);
  EXPECT_THAT(status.error, HasSubstr("diskstats line 1: "));

  parse_all("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2\n", status);
  EXPECT_EQ(status.error, "diskstats line 2: 'sda1': expected 14, 18 or 20 fields, got 5");

  parse_all("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3 4 5 6 7 8 9 10 1", status);
  EXPECT_THAT(status.error, HasSubstr("truncated"));

  // A host without block devices (some containers) has an empty file.
  EXPECT_TRUE(parse_all("", status).empty());
  EXPECT_TRUE(status.ok());
}

TEST(DiskstatsFileTest, EveryCutOffPrefixFailsUnlessItEndsALine) {
  const std::string text = diskstats_of("disk_lvm");
  for (std::size_t size = 1; size < text.size(); ++size) {
    // An exact heap block: a read past the end hits ASan's redzone.
    const std::vector<char> bytes(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(size));
    Status status;
    parse_all(std::string_view(bytes.data(), bytes.size()), status);
    // A prefix ending in '\n' is whole lines, so it parses.
    EXPECT_EQ(status.ok(), bytes.back() == '\n') << size << ": " << status.error;
  }
}

TEST(DiskstatsFileTest, MutatedFixturesNeverCrash) {
  std::mt19937 random(20261201);
  for (const std::string_view case_name : {"disk_lvm", "disk_nvme", "disk_linux2_6"}) {
    const std::string original = diskstats_of(case_name);
    DiskState state(SourceSettings{.paths = host_paths(case_name)});
    DiskStats stats;
    for (int round = 0; round < 300; ++round) {
      std::string text = original;
      for (int change = 0; change < 4; ++change) {
        text[random() % text.size()] = static_cast<char>(random() % 256);
      }
      const Status status = read_disks(state, text, stats);
      if (status.ok()) {
        EXPECT_LE(stats.disks.size(), kMaxReportedDisks);
      }
    }
  }
}

// ---- which devices ----

struct KindCase {
  std::string_view name;
  DiskKind kind;
};

TEST(DiskKindTest, MatchesNodeExportersDefaultExclusion) {
  const KindCase cases[] = {
      {"sda", DiskKind::disk},          {"sda1", DiskKind::partition},      {"sdaa12", DiskKind::partition},
      {"hda1", DiskKind::partition},    {"vda", DiskKind::disk},            {"vdb2", DiskKind::partition},
      {"xvda", DiskKind::disk},         {"xvda1", DiskKind::partition},     {"sd1", DiskKind::disk},
      {"Sda1", DiskKind::disk},         {"nvme0n1", DiskKind::disk},        {"nvme0n1p1", DiskKind::partition},
      {"nvme10n12p3", DiskKind::partition}, {"nvme0n1p", DiskKind::disk},   {"nvme0c0n1", DiskKind::disk},
      {"mmcblk0", DiskKind::disk},      {"mmcblk0p1", DiskKind::partition}, {"mmcblk0boot0", DiskKind::disk},
      {"loop0", DiskKind::loop},        {"loop", DiskKind::disk},           {"loop0p1", DiskKind::disk},
      {"ram0", DiskKind::ram},          {"zram0", DiskKind::ram},           {"zzram0", DiskKind::disk},
      {"fd0", DiskKind::floppy},        {"dm-0", DiskKind::disk},           {"md127", DiskKind::disk},
      {"sr0", DiskKind::disk},          {"", DiskKind::disk},
  };
  for (const KindCase& c : cases) EXPECT_EQ(classify_disk_name(c.name), c.kind) << c.name;

  const DiskOptions defaults;
  EXPECT_TRUE(disk_kind_wanted(DiskKind::disk, defaults));
  EXPECT_FALSE(disk_kind_wanted(DiskKind::partition, defaults));
  EXPECT_FALSE(disk_kind_wanted(DiskKind::loop, defaults));
  EXPECT_FALSE(disk_kind_wanted(DiskKind::ram, defaults));
  const DiskOptions all{.partitions = true, .loop = true, .ram = true};
  EXPECT_TRUE(disk_kind_wanted(DiskKind::partition, all));
  EXPECT_TRUE(disk_kind_wanted(DiskKind::loop, all));
  EXPECT_TRUE(disk_kind_wanted(DiskKind::ram, all));
  EXPECT_FALSE(disk_kind_wanted(DiskKind::floppy, all));
}

std::vector<std::string> reported_names(std::string_view case_name, DiskOptions options, DiskState* state_out = nullptr) {
  SourceSettings settings{.paths = host_paths(case_name), .disks = options};
  DiskState state(settings);
  DiskStats stats;
  const Status status = read_disks(state, diskstats_of(case_name), stats);
  EXPECT_TRUE(status.ok()) << status.error;
  std::vector<std::string> names;
  for (const DiskSample& disk : stats.disks) names.push_back(disk.name);
  if (state_out != nullptr) state_out->skipped = state.skipped;
  return names;
}

TEST(DiskReadTest, ReportsWholeDisksByDefaultWithDeviceMapperNames) {
  EXPECT_THAT(reported_names("disk_this_vm", {}), ElementsAre("vda"));
  EXPECT_THAT(reported_names("disk_md", {}), ElementsAre("sda", "sdb", "md0", "md127"));
  EXPECT_THAT(reported_names("disk_nvme", {}), ElementsAre("nvme0n1", "nvme1n1", "mmcblk0", "xvda", "sr0"));
  EXPECT_THAT(reported_names("disk_linux2_6", {}), ElementsAre("hda", "hdc", "sda"));
  // dm-2 has no dm/name; dm-4's is 300 bytes: both keep their kernel names.
  DiskState counts{SourceSettings{}};
  EXPECT_THAT(reported_names("disk_lvm", {}, &counts),
              ElementsAre("sda", "vg0-root", "vg0-swap", "dm-2", "crypt root%1", "dm-4", "ubuntu--vg-ubuntu--lv"));
  EXPECT_EQ(counts.skipped.dm_names_too_long, 1u);
}

TEST(DiskReadTest, OptionsAddPartitionsLoopAndRamButNeverFloppies) {
  EXPECT_THAT(reported_names("disk_nvme", {.partitions = true}),
              ElementsAre("nvme0n1", "nvme0n1p1", "nvme0n1p2", "nvme1n1", "mmcblk0", "mmcblk0p1", "xvda", "xvda1", "sr0"));
  EXPECT_THAT(reported_names("disk_nvme", {.loop = true}),
              ElementsAre("nvme0n1", "nvme1n1", "mmcblk0", "xvda", "sr0", "loop0", "loop1"));
  EXPECT_THAT(reported_names("disk_nvme", {.ram = true}),
              ElementsAre("nvme0n1", "nvme1n1", "mmcblk0", "xvda", "sr0", "zram0", "ram0"));
  EXPECT_THAT(reported_names("disk_this_vm", {.partitions = true, .loop = true, .ram = true}),
              ElementsAre("loop0", "loop1", "loop2", "loop3", "loop4", "loop5", "loop6", "loop7", "vda", "zram0"));
}

TEST(DiskReadTest, NoSysfsMeansKernelNames) {
  SourceSettings settings{.paths = host_paths("disk_lvm")};
  settings.paths.sys = "/nonexistent-sysfs";
  DiskState state(settings);
  DiskStats stats;
  ASSERT_TRUE(read_disks(state, diskstats_of("disk_lvm"), stats).ok());
  ASSERT_EQ(stats.disks.size(), 7u);
  EXPECT_EQ(stats.disks[1].name, "dm-0");
}

TEST(DiskReadTest, DevicesThatGoAwayAreForgottenAndDecidedAgainWhenBack) {
  DiskState state(SourceSettings{.paths = host_paths("disk_lvm")});
  DiskStats stats;
  ASSERT_TRUE(read_disks(state, diskstats_of("disk_lvm"), stats).ok());
  EXPECT_EQ(state.known_devices(), 9u);
  ASSERT_TRUE(read_disks(state, "8 0 sda 1 0 0 0 0 0 0 0 0 0 0\n", stats).ok());
  EXPECT_EQ(state.known_devices(), 1u);
  ASSERT_EQ(stats.disks.size(), 1u);
  ASSERT_TRUE(read_disks(state, "253 0 dm-0 1 0 0 0 0 0 0 0 0 0 0\n8 0 sda 1 0 0 0 0 0 0 0 0 0 0\n", stats).ok());
  ASSERT_EQ(stats.disks.size(), 2u);
  EXPECT_EQ(stats.disks[0].name, "vg0-root");
  EXPECT_EQ(stats.disks[1].name, "sda");
}

TEST(DiskReadTest, HostileInputIsCappedCountedOrRefused) {
  DiskState state(SourceSettings{.paths = host_paths("disk_lvm")});
  DiskStats stats;
  // A name over 256 bytes is skipped and counted; odd bytes are kept (the
  // registry escapes them in series names).
  const std::string long_name(300, 'q');
  const std::string text = "8 0 " + long_name + " 1 0 0 0 0 0 0 0 0 0 0\n8 16 s\x01%d 1 0 0 0 0 0 0 0 0 0 0\n";
  ASSERT_TRUE(read_disks(state, text, stats).ok());
  EXPECT_EQ(state.skipped.names_too_long, 1u);
  ASSERT_EQ(stats.disks.size(), 1u);
  EXPECT_EQ(stats.disks[0].name, "s\x01%d");

  // The same device twice: which line holds its counters is unknowable.
  const Status twice = read_disks(state, "8 0 sda 1 0 0 0 0 0 0 0 0 0 0\n8 0 sda 2 0 0 0 0 0 0 0 0 0 0\n", stats);
  EXPECT_THAT(twice.error, HasSubstr("'sda' appears twice"));

  // Ten thousand disks: kMaxKnownDevices remembered, kMaxReportedDisks reported.
  std::string many;
  constexpr std::size_t kDevices = 10'000;
  for (std::size_t i = 0; i < kDevices; ++i) {
    many += "8 " + std::to_string(i) + " disk" + std::to_string(i) + " 1 0 0 0 0 0 0 0 0 0 18446744073709551615\n";
  }
  DiskState big(SourceSettings{});
  for (std::size_t read = 1; read <= 2; ++read) {
    ASSERT_TRUE(read_disks(big, many, stats).ok());
    EXPECT_EQ(stats.disks.size(), kMaxReportedDisks);
    EXPECT_EQ(big.known_devices(), kMaxKnownDevices);
    EXPECT_EQ(big.skipped.over_known_cap, read * (kDevices - kMaxKnownDevices));
    EXPECT_EQ(big.skipped.over_reported_cap, read * (kMaxKnownDevices - kMaxReportedDisks));
  }
}

// ---- derive ----

constexpr double kElapsed = 2.0;

struct DerivedPair {
  std::map<std::string, double> values;
  std::vector<std::pair<std::string, std::string>> entities;
};

// Reads before then after through one state and derives the pair.
DerivedPair derive_pair(std::string_view before, std::string_view after, double elapsed_s = kElapsed) {
  DiskState state(SourceSettings{.paths = host_paths("disk_lvm")});
  DiskStats previous;
  DiskStats current;
  EXPECT_TRUE(read_disks(state, before, previous).ok());
  EXPECT_TRUE(read_disks(state, after, current).ok());
  RecordingSeriesWriter writer(disks_source().series);
  derive_disks(&previous, current, DeriveContext{.elapsed_s = elapsed_s, .facts = {}}, writer);
  return {.values = writer.values, .entities = writer.entities};
}

TEST(DiskDeriveTest, RatesAwaitUtilisationAndQueueDepth) {
  // Over 2 s: 100 reads of 2048 sectors in 250 ms, no writes; 500 ms busy;
  // 3000 ms weighted. dm-0 (vg0-root) only writes.
  const DerivedPair pair = derive_pair(
      "8 0 sda 1000 10 80000 500 2000 20 160000 1500 0 1800 2000 0 0 0 0 100 50\n"
      "253 0 dm-0 10 0 80 5 40 0 320 8 0 5 5 0 0 0 0 0 0\n",
      "8 0 sda 1100 10 82048 750 2000 20 160000 1500 0 2300 5000 0 0 0 0 100 50\n"
      "253 0 dm-0 10 0 80 5 50 0 400 38 0 5 5 0 0 0 0 0 0\n");
  const auto& v = pair.values;
  EXPECT_EQ(v.at("disk.sda.reads_per_s"), 50.0);
  EXPECT_EQ(v.at("disk.sda.writes_per_s"), 0.0);
  EXPECT_EQ(v.at("disk.sda.read_bytes_per_s"), 2048.0 * 512 / 2);
  EXPECT_EQ(v.at("disk.sda.write_bytes_per_s"), 0.0);
  EXPECT_EQ(v.at("disk.sda.read_await_ms"), 2.5);
  EXPECT_EQ(v.at("disk.sda.write_await_ms"), 0.0);  // no writes completed
  EXPECT_EQ(v.at("disk.sda.util_pct"), 25.0);
  EXPECT_EQ(v.at("disk.sda.queue_depth"), 1.5);
  EXPECT_EQ(v.at("disk.vg0-root.writes_per_s"), 5.0);
  EXPECT_EQ(v.at("disk.vg0-root.write_bytes_per_s"), 80.0 * 512 / 2);
  EXPECT_EQ(v.at("disk.vg0-root.write_await_ms"), 3.0);
  EXPECT_EQ(v.at("disk.read_bytes_per_s"), 2048.0 * 512 / 2);
  EXPECT_EQ(v.at("disk.write_bytes_per_s"), 80.0 * 512 / 2);
  EXPECT_THAT(pair.entities, ElementsAre(std::pair<std::string, std::string>{"disk", "sda"},
                                         std::pair<std::string, std::string>{"disk", "vg0-root"}));
}

TEST(DiskDeriveTest, UtilisationIsCappedAt100) {
  const DerivedPair pair = derive_pair("8 0 sda 0 0 0 0 0 0 0 0 0 1000 0\n", "8 0 sda 0 0 0 0 0 0 0 0 0 4000 0\n");
  EXPECT_EQ(pair.values.at("disk.sda.util_pct"), 100.0);
}

TEST(DiskDeriveTest, CountersGoingBackGiveNoValueNotASpike) {
  // The 2.6 fixture's sda is a 32-bit kernel near the wrap: reads, read ms,
  // io ms and weighted ms wrap; sectors and writes keep counting.
  const DerivedPair pair = derive_pair(diskstats_of("disk_linux2_6"),
                                       "3 0 hda 2000 40 16000 900 500 60 4000 700 0 1200 1600\n"
                                       "8 0 sda 6 0 8100 296 30 0 240 50 0 96 46\n");
  const auto& v = pair.values;
  EXPECT_TRUE(std::isnan(v.at("disk.sda.reads_per_s")));
  EXPECT_TRUE(std::isnan(v.at("disk.sda.read_await_ms")));
  EXPECT_TRUE(std::isnan(v.at("disk.sda.util_pct")));
  EXPECT_TRUE(std::isnan(v.at("disk.sda.queue_depth")));
  EXPECT_EQ(v.at("disk.sda.read_bytes_per_s"), 100.0 * 512 / 2);
  EXPECT_EQ(v.at("disk.sda.writes_per_s"), 5.0);
  EXPECT_EQ(v.at("disk.sda.write_await_ms"), 2.0);
  EXPECT_EQ(v.at("disk.hda.reads_per_s"), 0.0);
  EXPECT_EQ(v.at("disk.read_bytes_per_s"), 100.0 * 512 / 2);
}

TEST(DiskDeriveTest, OneDiskResetLeavesTheHostWideTotalWithoutAValue) {
  // sdb was reset (its sectors read went back); sda read 8 sectors.
  const DerivedPair pair = derive_pair("8 0 sda 1 0 8 1 1 0 8 1 0 1 1\n8 16 sdb 9 0 900 9 1 0 8 1 0 9 9\n",
                                       "8 0 sda 2 0 16 2 2 0 16 2 0 2 2\n8 16 sdb 1 0 8 1 2 0 16 2 0 1 1\n");
  const auto& v = pair.values;
  EXPECT_TRUE(std::isnan(v.at("disk.sdb.read_bytes_per_s")));
  EXPECT_EQ(v.at("disk.sda.read_bytes_per_s"), 8.0 * 512 / 2);
  EXPECT_TRUE(std::isnan(v.at("disk.read_bytes_per_s")));  // unknown, not a dip to sda's share
  EXPECT_EQ(v.at("disk.write_bytes_per_s"), 2 * 8.0 * 512 / 2);
}

TEST(DiskDeriveTest, NoPreviousOrNoTimeGivesNoRates) {
  DiskState state(SourceSettings{});
  DiskStats current;
  ASSERT_TRUE(read_disks(state, "8 0 sda 1 0 8 1 0 0 0 0 0 1 1\n", current).ok());
  RecordingSeriesWriter first(disks_source().series);
  derive_disks(nullptr, current, DeriveContext{.elapsed_s = 1.0, .facts = {}}, first);
  EXPECT_EQ(first.entities.size(), 1u);  // the disk has its series from the first read
  EXPECT_TRUE(first.values.empty());

  const DerivedPair still = derive_pair("8 0 sda 1 0 8 1 0 0 0 0 0 1 1\n", "8 0 sda 2 0 16 2 0 0 0 0 0 2 2\n", 0.0);
  EXPECT_TRUE(std::isnan(still.values.at("disk.sda.reads_per_s")));
  EXPECT_TRUE(std::isnan(still.values.at("disk.sda.util_pct")));
  EXPECT_EQ(still.values.at("disk.sda.read_await_ms"), 1.0);  // per op, not per second
  EXPECT_EQ(still.values.count("disk.read_bytes_per_s"), 0u);
}

TEST(DiskDeriveTest, ADiskNewThisTickHasSeriesButNoValuesYet) {
  const DerivedPair pair =
      derive_pair("8 0 sda 1 0 8 1 0 0 0 0 0 1 1\n", "8 0 sda 1 0 8 1 0 0 0 0 0 1 1\n8 16 sdb 5 0 40 5 0 0 0 0 0 5 5\n");
  EXPECT_EQ(pair.entities.size(), 2u);
  EXPECT_EQ(pair.values.count("disk.sdb.reads_per_s"), 0u);
  EXPECT_EQ(pair.values.at("disk.sda.reads_per_s"), 0.0);
}

// ---- the collector set over fixture trees ----

const SourceDefinition kDiskSources[] = {disks_source()};

TEST(DiskCollectorSetTest, ThisVmsCapturedPair) {
  // The fixture tree copied, so the second tick can replace diskstats.
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) / ("disks_this_vm_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::copy(host_fixture("disk_this_vm"), root, std::filesystem::copy_options::recursive);
  HostPaths paths;
  paths.proc = (root / "proc").string();
  paths.sys = (root / "sys").string();
  CollectorSet collectors(SourceSettings{.paths = paths}, kDiskSources);
  ASSERT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  std::filesystem::copy_file(host_fixture("disk_this_vm_t1") + "/proc/diskstats", root / "proc" / "diskstats",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(collectors.collect_all(), 0u);
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  std::filesystem::remove_all(root);

  // By hand from the two captures' vda lines.
  EXPECT_THAT(entities, ElementsAre(std::pair<std::string, std::string>{"disk", "vda"}));
  EXPECT_EQ(values.at("disk.vda.reads_per_s"), 8.0);
  EXPECT_EQ(values.at("disk.vda.writes_per_s"), 19.0);
  EXPECT_EQ(values.at("disk.vda.read_bytes_per_s"), 240.0 * 512);
  EXPECT_EQ(values.at("disk.vda.write_bytes_per_s"), 33120.0 * 512);
  EXPECT_EQ(values.at("disk.vda.read_await_ms"), 0.13);   // 1 ms / 8
  EXPECT_EQ(values.at("disk.vda.write_await_ms"), 3.42);  // 65 ms / 19
  EXPECT_EQ(values.at("disk.vda.util_pct"), 1.6);         // 16 ms of 1000
  EXPECT_EQ(values.at("disk.vda.queue_depth"), 0.07);     // 67 ms / 1000
  EXPECT_EQ(values.at("disk.write_bytes_per_s"), 33120.0 * 512);
}

TEST(DiskCollectorSetTest, FixtureTreesReadAndGarbageFails) {
  for (const std::string_view case_name : {"disk_lvm", "disk_md", "disk_nvme", "disk_linux2_6", "disk_this_vm"}) {
    CollectorSet collectors(SourceSettings{.paths = host_paths(case_name)}, kDiskSources);
    const Status status = collectors.collect_one(0);
    EXPECT_TRUE(status.ok()) << case_name << ": " << status.error;
  }
  CollectorSet lvm(SourceSettings{.paths = host_paths("disk_lvm")}, kDiskSources);
  ASSERT_TRUE(lvm.collect_one(0).ok());
  std::vector<std::pair<std::string, std::string>> entities;
  testing_support::derive_to_map(lvm, 1.0, &entities);
  ASSERT_EQ(entities.size(), 7u);
  EXPECT_EQ(entities[1].second, "vg0-root");

  CollectorSet garbage(SourceSettings{.paths = host_paths("disk_garbage")}, kDiskSources);
  const Status status = garbage.collect_one(0);
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/disk_garbage/proc/diskstats: diskstats line 1: "));
}

TEST(DiskCollectorSetTest, NoDiskstatsMeansUnavailableNotFailing) {
  // A procfs tree with only the classic files (a fake --procfs, a kernel without a block layer).
  HostPaths paths;
  paths.proc = std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu";
  CollectorSet collectors(SourceSettings{.paths = paths}, kDiskSources);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable) << status.error;
  EXPECT_THAT(status.error, HasSubstr("linux6_2cpu/diskstats: not present"));
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(DiskCollectorSetTest, LargeHostGeneratorGivesThirtyDisks) {
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) / ("disks_large_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  const std::string command = "python3 " + std::string(HOSTPULSE_FIXTURES_DIR) + "/make_large_host_disks.py " + root.string();
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "python3 not available to run " << command;
  HostPaths paths;
  paths.proc = (root / "proc").string();
  paths.sys = (root / "sys").string();
  DiskState state(SourceSettings{.paths = paths});
  DiskStats stats;
  ASSERT_TRUE(read_disks(state, read_file((root / "proc" / "diskstats").string()), stats).ok());
  std::filesystem::remove_all(root);
  ASSERT_EQ(stats.disks.size(), 30u);
  EXPECT_EQ(stats.disks[24].name, "vg0-root");
  EXPECT_EQ(stats.disks[29].name, "md1");
}

// The real kernel of whatever machine runs the tests.
TEST(DiskLiveTest, ReadsThisMachinesDiskstats) {
  if (!std::filesystem::exists("/proc/diskstats")) GTEST_SKIP() << "no /proc/diskstats (kernel without a block layer)";
  CollectorSet collectors(SourceSettings{}, kDiskSources);
  ASSERT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  ASSERT_EQ(collectors.collect_all(), 0u);
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  for (const auto& [label, key] : entities) {
    EXPECT_EQ(label, "disk");
    EXPECT_FALSE(key.empty());
    EXPECT_LE(key.size(), kMaxDiskNameBytes);
    EXPECT_NE(classify_disk_name(key), DiskKind::loop) << key;
    EXPECT_NE(classify_disk_name(key), DiskKind::partition) << key;
    EXPECT_NE(classify_disk_name(key), DiskKind::ram) << key;
    const double util = values.at("disk." + key + ".util_pct");
    if (!std::isnan(util)) {
      EXPECT_GE(util, 0.0);
      EXPECT_LE(util, 100.0);
    }
  }
  EXPECT_GE(values.at("disk.read_bytes_per_s"), 0.0);
  EXPECT_GE(values.at("disk.write_bytes_per_s"), 0.0);
}

DiskStats read_disks_of(std::string_view case_name) {
  DiskState state(SourceSettings{.paths = host_paths(case_name)});
  DiskStats stats;
  const Status status = read_disks(state, diskstats_of(case_name), stats);
  EXPECT_TRUE(status.ok()) << status.error;
  return stats;
}

TEST(DiskExposeTest, NodeExporterFamiliesOfThisVmsDisk) {
  // vda: 254 0 vda 1503611 50325 30013402 2622488 498506 430899 278823392
  // 1303339 0 299332 4025716 453318 105 254107792 95220 27926 4668
  testing_support::RecordingMetricWriter writer(disks_source().metrics);
  expose_disks(read_disks_of("disk_this_vm"), writer);
  using testing_support::metric_sample;
  const std::vector<std::pair<std::string, std::string>> vda = {{"device", "vda"}};
  EXPECT_THAT(writer.samples,
              ElementsAre(metric_sample("node_disk_reads_completed_total", vda, 1503611),
                          metric_sample("node_disk_reads_merged_total", vda, 50325),
                          metric_sample("node_disk_read_bytes_total", vda, 30013402.0 * 512),
                          metric_sample("node_disk_read_time_seconds_total", vda, 2622.488),
                          metric_sample("node_disk_writes_completed_total", vda, 498506),
                          metric_sample("node_disk_writes_merged_total", vda, 430899),
                          metric_sample("node_disk_written_bytes_total", vda, 278823392.0 * 512),
                          metric_sample("node_disk_write_time_seconds_total", vda, 1303.339),
                          metric_sample("node_disk_io_now", vda, 0),
                          metric_sample("node_disk_io_time_seconds_total", vda, 299.332),
                          metric_sample("node_disk_io_time_weighted_seconds_total", vda, 4025.716),
                          metric_sample("node_disk_discards_completed_total", vda, 453318),
                          metric_sample("node_disk_discards_merged_total", vda, 105),
                          metric_sample("node_disk_discarded_sectors_total", vda, 254107792),
                          metric_sample("node_disk_discard_time_seconds_total", vda, 95.22),
                          metric_sample("node_disk_flush_requests_total", vda, 27926),
                          metric_sample("node_disk_flush_requests_time_seconds_total", vda, 4.668),
                          metric_sample("node_disk_info", {{"device", "vda"}, {"major", "254"}, {"minor", "0"}}, 1)));
  EXPECT_EQ(writer.refused, 0u);
}

TEST(DiskExposeTest, DeviceMapperDisksUnderTheirKernelNamesWithTheirNameInInfo) {
  testing_support::RecordingMetricWriter writer(disks_source().metrics);
  expose_disks(read_disks_of("disk_lvm"), writer);
  EXPECT_EQ(writer.value("node_disk_reads_completed_total", {"dm-0"}), 800.0);
  EXPECT_EQ(writer.value("node_disk_io_now", {"dm-0"}), 1.0);
  EXPECT_EQ(writer.value("node_disk_reads_completed_total", {"vg0-root"}), std::nullopt);
  using testing_support::metric_sample;
  // dm-2 has no dm/name and dm-4's is too long: no mapper info for them.
  EXPECT_THAT(writer.named("node_disk_device_mapper_info"),
              ElementsAre(metric_sample("node_disk_device_mapper_info", {{"device", "dm-0"}, {"name", "vg0-root"}}, 1),
                          metric_sample("node_disk_device_mapper_info", {{"device", "dm-1"}, {"name", "vg0-swap"}}, 1),
                          metric_sample("node_disk_device_mapper_info", {{"device", "dm-3"}, {"name", "crypt root%1"}}, 1),
                          metric_sample("node_disk_device_mapper_info",
                                        {{"device", "dm-5"}, {"name", "ubuntu--vg-ubuntu--lv"}}, 1)));
}

TEST(DiskExposeTest, OldKernelsWithoutDiscardOrFlushFieldsHaveNoSuchSamples) {
  // 14 fields (Linux before 4.18): no discards; 18 fields (4.18 to 5.4): no flushes.
  DiskState state(SourceSettings{});
  DiskStats stats;
  ASSERT_TRUE(read_disks(state,
                         "   8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
                         "   8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
                         stats)
                  .ok());
  testing_support::RecordingMetricWriter writer(disks_source().metrics);
  expose_disks(stats, writer);
  EXPECT_EQ(writer.count("node_disk_reads_completed_total"), 2u);
  EXPECT_EQ(writer.value("node_disk_discards_completed_total", {"sda"}), std::nullopt);
  EXPECT_EQ(writer.value("node_disk_discards_completed_total", {"sdb"}), 12.0);
  EXPECT_EQ(writer.value("node_disk_discard_time_seconds_total", {"sdb"}), 0.015);
  EXPECT_EQ(writer.count("node_disk_flush_requests_total"), 0u);
}

}  // namespace
}  // namespace hostpulse
