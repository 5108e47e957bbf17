#include "collectors/linux/filesystems.hpp"

#include <sched.h>  // unshare
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::RecordingSeriesWriter;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string host_fixture(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

std::string read_text(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    ADD_FAILURE() << "cannot open fixture " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

std::vector<std::string> mount_points(const MountTable& table) {
  std::vector<std::string> points;
  for (const MountEntry& entry : table.mounts()) points.push_back(entry.mount_point);
  return points;
}

const MountEntry* find_mount(const MountTable& table, std::string_view point) {
  for (const MountEntry& entry : table.mounts()) {
    if (entry.mount_point == point) return &entry;
  }
  return nullptr;
}

std::span<const SourceDefinition> filesystems_only() {
  static const SourceDefinition table[] = {filesystems_source()};
  return table;
}

// ---- the parser, on fixtures ----

TEST(MountinfoParseTest, ThisVmCapture) {
  MountTable table;
  const Status status = parse_mountinfo(read_text(host_fixture("fs_this_vm") + "/proc/self/mountinfo"), table);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(table.lines, 20u);
  // proc, sysfs, devtmpfs, devpts twice, nine cgroup hierarchies and cgroup2
  // are pseudo; the two tmpfs at /dev/shm and the one at /sys/fs/cgroup are
  // left out by their mount points; the sandbox's tmpfs is a real (if tiny)
  // filesystem, as node_exporter would report it.
  EXPECT_THAT(mount_points(table), ElementsAre("/", "/mnt/sandboxing/model_tools_env/v1/python"));
  EXPECT_EQ(table.excluded_type, 15u);
  EXPECT_EQ(table.excluded_point, 3u);
  const MountEntry& root = table.mounts()[0];
  EXPECT_EQ(root.fs_type, "ext4");
  EXPECT_EQ(root.source, "/dev/vda");
  EXPECT_EQ(root.major, 254u);
  EXPECT_EQ(root.minor, 0u);
  EXPECT_FALSE(root.readonly);
  EXPECT_TRUE(table.mounts()[1].readonly);
}

TEST(MountinfoParseTest, DockerHostLeavesOutLayersPseudoAndBindMounts) {
  MountTable table;
  const Status status = parse_mountinfo(read_text(host_fixture("fs_docker_host") + "/proc/1/mountinfo"), table);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(table.lines, 23u);
  EXPECT_THAT(mount_points(table),
              ElementsAre("/run", "/", "/boot", "/home", "/var/lib/docker", "/run/user/1000", "/data"));
  // sysfs proc devtmpfs devpts securityfs cgroup2 autofs squashfs overlay nsfs overlay
  EXPECT_EQ(table.excluded_type, 11u);
  // /dev/shm, a container's shm under /var/lib/docker/, /run/credentials/...
  EXPECT_EQ(table.excluded_point, 3u);
  // /srv/www (a bind of /home's xfs) and /mnt/logs-ro (of /'s ext4).
  EXPECT_EQ(table.duplicates, 2u);
  EXPECT_TRUE(find_mount(table, "/data")->readonly);
  EXPECT_FALSE(find_mount(table, "/home")->readonly);
  EXPECT_EQ(find_mount(table, "/home")->fs_type, "xfs");
}

TEST(MountinfoParseTest, NetworkFuseAndEscapedPathsAreKept) {
  MountTable table;
  const Status status = parse_mountinfo(read_text(host_fixture("fs_network") + "/proc/self/mountinfo"), table);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_THAT(mount_points(table),
              ElementsAre("/", "/mnt/nfs", "/mnt/share", "/mnt/sshfs", "/media/My Disk", "/mnt/tab\tand\\backslash",
                          "/mnt/new\nline", "/mnt/percent%2Fname", "/mnt/fuse", "/mnt/lxcfs", "/mnt/old-nfs",
                          "/mnt/with two spaces"));
  EXPECT_EQ(table.excluded_type, 1u);  // rpc_pipefs
  EXPECT_EQ(find_mount(table, "/mnt/nfs")->fs_type, "nfs4");
  EXPECT_EQ(find_mount(table, "/mnt/nfs")->source, "fileserver:/export/home");
  EXPECT_EQ(find_mount(table, "/mnt/share")->fs_type, "cifs");
  EXPECT_EQ(find_mount(table, "/mnt/sshfs")->fs_type, "fuse.sshfs");
  // Mounted ro, but the filesystem itself is rw (its super options): a
  // read-only view, as every mount is under ProtectSystem=strict.
  EXPECT_FALSE(find_mount(table, "/mnt/with two spaces")->readonly);
}

TEST(MountinfoParseTest, GarbageFixtureFailsNamingTheLine) {
  MountTable table;
  const Status status = parse_mountinfo(read_text(host_fixture("fs_garbage") + "/proc/self/mountinfo"), table);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("mountinfo: line 3: "));
  EXPECT_THAT(status.error, HasSubstr("\"-\" separator"));
}

struct HostileCase {
  std::string_view name;
  std::string_view text;
  std::string_view error;
};

void PrintTo(const HostileCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class MountinfoHostileTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(MountinfoHostileTest, RejectedWithLineNumber) {
  MountTable table;
  const Status status = parse_mountinfo(GetParam().text, table);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().error));
}

constexpr std::string_view kGoodLine = "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n";

INSTANTIATE_TEST_SUITE_P(
    Lines, MountinfoHostileTest,
    ::testing::Values(
        HostileCase{"empty", "", "mountinfo: file is empty"},
        HostileCase{"truncated", "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw", "does not end with a newline"},
        HostileCase{"id_not_number", "x 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "line 1: mount id"},
        HostileCase{"negative_parent", "27 -1 8:1 / / rw - ext4 /dev/sda1 rw\n", "line 1: parent id"},
        HostileCase{"no_colon", "27 1 801 / / rw - ext4 /dev/sda1 rw\n", "line 1: expected major:minor"},
        HostileCase{"huge_major", "27 1 99999999999:1 / / rw - ext4 /dev/sda1 rw\n", "line 1: expected major:minor"},
        HostileCase{"relative_mount_point", "27 1 8:1 / home rw - ext4 /dev/sda1 rw\n", "line 1: mount point"},
        HostileCase{"only_three_fields", "27 1 8:1\n", "line 1: root missing"},
        HostileCase{"no_separator_second_line",
                    "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n28 27 8:2 / /boot rw ext4 /dev/sda2 rw\n",
                    "line 2: no \"-\" separator"},
        HostileCase{"nothing_after_separator", "27 1 8:1 / / rw -\n", "line 1: expected filesystem type"},
        HostileCase{"no_super_options", "27 1 8:1 / / rw - ext4 /dev/sda1\n", "line 1: expected filesystem type"},
        HostileCase{"extra_field", "27 1 8:1 / / rw - ext4 /dev/sda1 rw extra\n", "line 1: unexpected 'extra'"},
        HostileCase{"bad_escape", "27 1 8:1 / /mnt/a\\9b rw - ext4 /dev/sda1 rw\n", "line 1: bad escape"},
        HostileCase{"short_escape_at_end", "27 1 8:1 / /mnt/a\\04 rw - ext4 /dev/sda1 rw\n", "line 1: bad escape"},
        HostileCase{"escape_over_a_byte", "27 1 8:1 / /mnt/\\777 rw - ext4 /dev/sda1 rw\n", "line 1: bad escape"},
        HostileCase{"control_bytes", "27 1 8:1 / / rw - ext4 /dev/sda1 rw\n\x01\x02\x7f\n", "line 2: mount id"}),
    [](const ::testing::TestParamInfo<HostileCase>& param_info) { return std::string(param_info.param.name); });

TEST(MountinfoParseTest, ErrorLineNumberCountsFromOne) {
  const std::string text = std::string(kGoodLine) + std::string(kGoodLine) + "bad\n";
  MountTable table;
  const Status status = parse_mountinfo(text, table);
  EXPECT_THAT(status.error, HasSubstr("line 3:"));
}

TEST(MountinfoParseTest, DecodesOctalEscapes) {
  std::string out;
  EXPECT_TRUE(decode_mount_path("/a\\040b\\011c\\012d\\134e", out));
  EXPECT_EQ(out, "/a b\tc\nd\\e");
  EXPECT_TRUE(decode_mount_path("/plain", out));
  EXPECT_EQ(out, "/plain");
  EXPECT_FALSE(decode_mount_path("/a\\", out));
  EXPECT_FALSE(decode_mount_path("/a\\08", out));
  EXPECT_FALSE(decode_mount_path("/a\\x41", out));
}

TEST(MountinfoParseTest, MountPointExclusionMatchesNodeExporter) {
  for (const std::string_view excluded : {"/dev", "/dev/shm", "/proc", "/proc/sys/fs/binfmt_misc", "/sys",
                                          "/sys/fs/cgroup", "/run/credentials/x.service", "/var/lib/docker/overlay2",
                                          "/var/lib/containers/storage/overlay"}) {
    EXPECT_TRUE(is_excluded_mount_point(excluded)) << excluded;
  }
  for (const std::string_view kept : {"/", "/device", "/procedures", "/system", "/run", "/run/credentials",
                                      "/run/credentials/", "/var/lib/docker", "/var/lib/docker/",
                                      "/var/lib/containers/storage", "/home"}) {
    EXPECT_FALSE(is_excluded_mount_point(kept)) << kept;
  }
  for (const std::string_view pseudo : {"proc", "sysfs", "cgroup", "cgroup2", "overlay", "squashfs", "nsfs"}) {
    EXPECT_TRUE(is_pseudo_filesystem(pseudo)) << pseudo;
  }
  for (const std::string_view real : {"ext4", "xfs", "btrfs", "tmpfs", "nfs", "nfs4", "cifs", "fuse", "fuse.sshfs",
                                      "zfs", "vfat"}) {
    EXPECT_FALSE(is_pseudo_filesystem(real)) << real;
  }
}

TEST(MountinfoParseTest, ShorterBindMountNamesTheDevice) {
  MountTable table;
  const std::string text =
      "40 27 8:3 /www /srv/www rw - xfs /dev/sda3 ro\n"
      "41 27 8:3 / /home ro - xfs /dev/sda3 ro\n"
      "42 27 8:3 /x /home/x/y rw - xfs /dev/sda3 ro\n";
  ASSERT_TRUE(parse_mountinfo(text, table).ok());
  EXPECT_THAT(mount_points(table), ElementsAre("/home"));
  EXPECT_TRUE(table.mounts()[0].readonly);
  EXPECT_EQ(table.duplicates, 2u);
}

TEST(MountinfoParseTest, CapsMountsAndSkipsOverlongMountPoints) {
  std::string text;
  for (std::size_t i = 0; i < kMaxMounts + 50; ++i) {
    text += std::to_string(100 + i) + " 1 0:" + std::to_string(100 + i) + " / /mnt/m" + std::to_string(i) +
            " rw - tmpfs tmpfs rw\n";
  }
  text += "9999 1 0:9999 / /" + std::string(kMaxMountPointBytes, 'a') + " rw - ext4 /dev/x rw\n";
  // Escaped, it is four times as long as what the registry would see: the
  // limit applies to the decoded path.
  std::string escaped_spaces;
  for (std::size_t i = 0; i < kMaxMountPointBytes - 1; ++i) escaped_spaces += "\\040";
  text += "9998 1 0:9998 / /" + escaped_spaces + " rw - ext4 /dev/x rw\n";
  MountTable table;
  ASSERT_TRUE(parse_mountinfo(text, table).ok());
  EXPECT_EQ(table.count, kMaxMounts);
  EXPECT_EQ(table.over_cap, 51u);  // the 50 tmpfs and the escaped one
  EXPECT_EQ(table.too_long, 1u);
  EXPECT_EQ(table.mounts().back().mount_point, "/mnt/m" + std::to_string(kMaxMounts - 1));
}

TEST(MountinfoParseTest, ReparseReusesEntries) {
  const std::string text = read_text(host_fixture("fs_docker_host") + "/proc/1/mountinfo");
  MountTable table;
  ASSERT_TRUE(parse_mountinfo(text, table).ok());
  ASSERT_TRUE(parse_mountinfo("27 1 8:1 / / rw - ext4 /dev/sda1 rw\n", table).ok());
  EXPECT_THAT(mount_points(table), ElementsAre("/"));
  EXPECT_EQ(table.duplicates, 0u);
  ASSERT_TRUE(parse_mountinfo(text, table).ok());
  EXPECT_EQ(table.count, 7u);
}

// ---- derive ----

FilesystemReading reading(std::string mount_point, FilesystemUsage usage, bool readonly = false) {
  return {.mount_point = std::move(mount_point), .readonly = readonly, .has_usage = true, .usage = usage};
}

TEST(FilesystemsDeriveTest, ValuesLikeDf) {
  Filesystems current;
  // 1000 blocks of 4 KiB, 400 free of which 350 available (50 reserved for
  // root): df shows used 600 / (600 + 350) = 63.16 %.
  current.mounts.push_back(reading("/", {.fragment_bytes = 4096, .blocks = 1000, .blocks_free = 400,
                                         .blocks_available = 350, .files = 200, .files_free = 150}));
  // No inode count (btrfs, some FUSE): no inode percentage, not 0 %.
  current.mounts.push_back(reading("/mnt/my disk", {.fragment_bytes = 512, .blocks = 10, .blocks_free = 10,
                                                    .blocks_available = 10, .files = 0, .files_free = 0},
                                   true));
  current.count = 2;
  current.stuck = 1;
  RecordingSeriesWriter writer(filesystems_source().series);
  derive_filesystems(nullptr, current, DeriveContext{.elapsed_s = 1, .facts = {}}, writer);
  EXPECT_EQ(writer.values.at("fs./.size_bytes"), 4096000.0);
  EXPECT_EQ(writer.values.at("fs./.used_bytes"), 600.0 * 4096);
  EXPECT_EQ(writer.values.at("fs./.avail_bytes"), 350.0 * 4096);
  EXPECT_DOUBLE_EQ(writer.values.at("fs./.used_pct"), 63.16);
  EXPECT_DOUBLE_EQ(writer.values.at("fs./.inodes_used_pct"), 25.0);
  EXPECT_EQ(writer.values.at("fs./.readonly"), 0.0);
  EXPECT_EQ(writer.values.at("fs./mnt/my disk.size_bytes"), 5120.0);
  EXPECT_EQ(writer.values.at("fs./mnt/my disk.used_pct"), 0.0);
  EXPECT_EQ(writer.values.at("fs./mnt/my disk.readonly"), 1.0);
  EXPECT_EQ(writer.values.count("fs./mnt/my disk.inodes_used_pct"), 0u);
  EXPECT_EQ(writer.values.at("fs.stuck_mounts"), 1.0);
  EXPECT_THAT(writer.entities, ElementsAre(std::pair<std::string, std::string>("mount", "/"),
                                           std::pair<std::string, std::string>("mount", "/mnt/my disk")));
}

TEST(FilesystemsDeriveTest, AbsurdStatvfsGivesNoSizes) {
  Filesystems current;
  current.mounts.push_back(reading("/free-over-size", {.fragment_bytes = 4096, .blocks = 10, .blocks_free = 11,
                                                       .blocks_available = 1}));
  current.mounts.push_back(reading("/overflow", {.fragment_bytes = 1u << 20, .blocks = ~0ull, .blocks_free = 1,
                                                 .blocks_available = 1}));
  current.mounts.push_back(reading("/empty", {.fragment_bytes = 4096}));  // 0 blocks: no percentage
  current.count = 3;
  RecordingSeriesWriter writer(filesystems_source().series);
  derive_filesystems(nullptr, current, DeriveContext{.elapsed_s = 1, .facts = {}}, writer);
  EXPECT_EQ(writer.values.count("fs./free-over-size.size_bytes"), 0u);
  EXPECT_EQ(writer.values.count("fs./overflow.size_bytes"), 0u);
  EXPECT_EQ(writer.values.at("fs./overflow.readonly"), 0.0);
  EXPECT_EQ(writer.values.at("fs./empty.size_bytes"), 0.0);
  EXPECT_TRUE(std::isnan(writer.values.at("fs./empty.used_pct")));
}

// ---- the source over a fixture tree: rootfs mapping ----

// Records the paths asked and answers for each a filesystem of 100 MiB.
struct RecordingStat {
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::set<std::string>> paths = std::make_shared<std::set<std::string>>();

  FilesystemStatFunction function() const {
    return [mutex = mutex, paths = paths](const char* path, FilesystemUsage& out) {
      {
        std::lock_guard lock(*mutex);
        paths->insert(path);
      }
      out = {.fragment_bytes = 1024, .blocks = 102400, .blocks_free = 51200, .blocks_available = 51200,
             .files = 100, .files_free = 50};
      return 0;
    };
  }
};

SourceSettings docker_host_settings() {
  return {.paths = {.proc = host_fixture("fs_docker_host") + "/proc", .sys = host_fixture("fs_docker_host") + "/sys",
                    .rootfs = host_fixture("fs_docker_host") + "/root"}};
}

TEST(FilesystemsSourceTest, ForeignRootReadsInitsMountsAndStatsUnderRootfs) {
  SourceSettings settings = docker_host_settings();
  const RecordingStat recording;
  settings.filesystems.stat = recording.function();
  FilesystemsState state(settings);
  Filesystems out;
  ASSERT_TRUE(state.read(out).ok()) << state.problem();
  ASSERT_EQ(out.count, 7u);
  const std::string root = host_fixture("fs_docker_host") + "/root";
  EXPECT_THAT(*recording.paths,
              ::testing::UnorderedElementsAre(root + "/", root + "/run", root + "/boot", root + "/home",
                                              root + "/var/lib/docker", root + "/run/user/1000", root + "/data"));
  // Series are keyed by the mount point as the host sees it.
  EXPECT_EQ(out.readings()[0].mount_point, "/run");
  EXPECT_EQ(out.readings()[6].mount_point, "/data");
  EXPECT_TRUE(out.readings()[6].readonly);
}

TEST(FilesystemsSourceTest, CollectorSetOverFixtureTreeWithRealStatvfs) {
  CollectorSet collectors(docker_host_settings(), filesystems_only());
  ASSERT_TRUE(collectors.collect_one(0).ok());
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  EXPECT_EQ(entities.size(), 7u);
  // The directories under root/ all live on the filesystem holding the
  // checkout; dedup went by mountinfo's numbers, so all seven are measured.
  for (const std::string_view mount : {"/", "/run", "/boot", "/home", "/var/lib/docker", "/run/user/1000", "/data"}) {
    const std::string name = "fs." + std::string(mount) + ".size_bytes";
    ASSERT_EQ(values.count(name), 1u) << name;
    EXPECT_GT(values.at(name), 0.0) << name;
  }
  EXPECT_EQ(values.at("fs./data.readonly"), 1.0);
  EXPECT_EQ(values.at("fs.stuck_mounts"), 0.0);
}

TEST(FilesystemsSourceTest, MissingMountinfoIsAbsentNamingTheFile) {
  SourceSettings settings;
  settings.paths.proc = host_fixture("fs_docker_host") + "/no-such-proc";
  FilesystemsState state(settings);
  Filesystems out;
  const Status status = state.read(out);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("no-such-proc/self/mountinfo not present"));
}

TEST(FilesystemsSourceTest, GarbageMountinfoFailsWithPathAndLine) {
  SourceSettings settings;
  settings.paths.proc = host_fixture("fs_garbage") + "/proc";
  FilesystemsState state(settings);
  Filesystems out;
  const Status status = state.read(out);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("fs_garbage/proc/self/mountinfo: mountinfo: line 3"));
}

TEST(FilesystemsSourceTest, FailedStatLeavesTheMountOutAndCountsIt) {
  SourceSettings settings = docker_host_settings();
  settings.filesystems.stat = [](const char* path, FilesystemUsage& out) {
    if (std::string_view(path).ends_with("/home")) return EACCES;
    out = {.fragment_bytes = 4096, .blocks = 10, .blocks_free = 5, .blocks_available = 5};
    return 0;
  };
  FilesystemsState state(settings);
  Filesystems out;
  ASSERT_TRUE(state.read(out).ok());
  EXPECT_EQ(out.count, 6u);
  EXPECT_EQ(out.failed, 1u);
}

// ---- a statvfs that hangs (a hard NFS mount whose server is gone) ----

// A stat that blocks on the mount named `hang` until released. Shared by
// pointer so a worker abandoned inside it can outlive the test's locals.
struct HangingStat {
  struct Gate {
    std::mutex mutex;
    std::condition_variable released_cv;
    bool released = false;
    bool armed = true;  // false: calls pass until armed
    int inside = 0;     // calls blocked now
    int returned = 0;   // blocked calls that came back
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  FilesystemStatFunction function(std::string hang) const {
    return [gate = gate, hang = std::move(hang)](const char* path, FilesystemUsage& out) {
      if (std::string_view(path).ends_with(hang)) {
        std::unique_lock lock(gate->mutex);
        if (gate->armed) {
          ++gate->inside;
          gate->released_cv.wait(lock, [&gate] { return gate->released; });
          --gate->inside;
          ++gate->returned;
        }
      }
      out = {.fragment_bytes = 4096, .blocks = 1000, .blocks_free = 500, .blocks_available = 500,
             .files = 10, .files_free = 5};
      return 0;
    };
  }
  void release() const {
    {
      std::lock_guard lock(gate->mutex);
      gate->released = true;
    }
    gate->released_cv.notify_all();
  }
  [[nodiscard]] int returned() const {
    std::lock_guard lock(gate->mutex);
    return gate->returned;
  }
};

std::set<std::string> measured(const Filesystems& out) {
  std::set<std::string> points;
  for (const FilesystemReading& reading : out.readings()) {
    if (reading.has_usage) points.insert(reading.mount_point);
  }
  return points;
}

constexpr auto kStatTimeout = 200ms;
constexpr auto kResultWait = 20ms;
// What one read may take at most: the wait, plus scheduling slack on a
// loaded 2-core machine (under sanitizers). Far below the hang.
constexpr auto kReadBudget = 500ms;

SourceSettings hanging_settings(const HangingStat& hanging, std::string hang) {
  SourceSettings settings = docker_host_settings();
  settings.filesystems.stat_timeout = kStatTimeout;
  settings.filesystems.result_wait = kResultWait;
  settings.filesystems.stat = hanging.function(std::move(hang));
  return settings;
}

TEST(FilesystemsHangTest, HungMountNeverBlocksTheTickAndOthersStillReport) {
  const HangingStat hanging;
  // /boot is third in the table: /run and / are asked before it, /home
  // and the rest only after a worker that is not stuck on it.
  FilesystemsState state(hanging_settings(hanging, "/root/boot"));
  const std::set<std::string> others = {"/", "/run", "/home", "/var/lib/docker", "/run/user/1000", "/data"};
  Filesystems out;
  const auto deadline = SteadyClock::now() + 10s;
  bool replaced = false;
  while (SteadyClock::now() < deadline) {
    const auto started = SteadyClock::now();
    ASSERT_TRUE(state.read(out).ok());
    EXPECT_LT(SteadyClock::now() - started, kReadBudget);
    if (measured(out) == others) {
      replaced = true;
      break;
    }
    std::this_thread::sleep_for(10ms);  // a tick's interval, not a wait for a result
  }
  ASSERT_TRUE(replaced) << "the other mounts never reported; problem: " << state.problem();
  EXPECT_EQ(out.stuck, 1u);
  EXPECT_EQ(state.abandoned_workers(), 1u);
  EXPECT_THAT(state.stuck_mount_points(), ElementsAre("/boot"));
  EXPECT_THAT(state.problem(), HasSubstr("'/boot'"));

  // While stuck, /boot is not asked again (one call blocked, not one per tick).
  for (int tick = 0; tick < 5; ++tick) {
    ASSERT_TRUE(state.read(out).ok());
    EXPECT_EQ(measured(out), others);
  }
  {
    std::lock_guard lock(hanging.gate->mutex);
    EXPECT_EQ(hanging.gate->inside, 1);
  }

  // The server comes back: the abandoned call returns, /boot is asked again.
  hanging.release();
  std::set<std::string> all = others;
  all.insert("/boot");
  const auto back_deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < back_deadline && measured(out) != all) {
    ASSERT_TRUE(state.read(out).ok());
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(measured(out), all);
  EXPECT_EQ(out.stuck, 0u);
  EXPECT_EQ(state.abandoned_workers(), 0u);
  EXPECT_EQ(state.problem(), "");
}

TEST(FilesystemsHangTest, StuckMountIsADeviceErrorInTheFamiliesUntilItReturns) {
  const HangingStat hanging;
  FilesystemsState state(hanging_settings(hanging, "/root/boot"));
  Filesystems out;
  const auto stuck = [&out] {
    for (const FilesystemReading& reading : out.failures()) {
      if (reading.mount_point == "/boot") return true;
    }
    return false;
  };
  const auto deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < deadline && !stuck()) {
    ASSERT_TRUE(state.read(out).ok());
    std::this_thread::sleep_for(10ms);  // a tick's interval, not a wait for a result
  }
  ASSERT_TRUE(stuck()) << "problem: " << state.problem();
  testing_support::RecordingMetricWriter writer(filesystems_source().metrics);
  expose_filesystems(out, writer);
  EXPECT_EQ(writer.value("node_filesystem_device_error", {"/dev/sda2", "ext4", "/boot"}), 1.0);
  EXPECT_EQ(writer.value("node_filesystem_readonly", {"/dev/sda2", "ext4", "/boot"}), 0.0);
  EXPECT_EQ(writer.value("node_filesystem_size_bytes", {"/dev/sda2", "ext4", "/boot"}), std::nullopt);

  hanging.release();
  const auto back_deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < back_deadline && (stuck() || measured(out).count("/boot") == 0)) {
    ASSERT_TRUE(state.read(out).ok());
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(stuck());
  EXPECT_EQ(measured(out).count("/boot"), 1u);
}

TEST(FilesystemsHangTest, SlowMountShowsItsLastAnswerUntilTheNextArrives) {
  const HangingStat hanging;
  {
    std::lock_guard lock(hanging.gate->mutex);
    hanging.gate->armed = false;
  }
  SourceSettings settings = hanging_settings(hanging, "/root/home");
  settings.filesystems.stat_timeout = 60s;  // slow, not stuck
  FilesystemsState state(settings);
  Filesystems out;
  const auto deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < deadline && measured(out).size() != 7u) ASSERT_TRUE(state.read(out).ok());
  ASSERT_EQ(measured(out).size(), 7u);
  {
    std::lock_guard lock(hanging.gate->mutex);
    hanging.gate->armed = true;
  }
  // /home's next answer is late: ticks go on, /home keeps its last value.
  for (int tick = 0; tick < 5; ++tick) {
    const auto started = SteadyClock::now();
    ASSERT_TRUE(state.read(out).ok());
    EXPECT_LT(SteadyClock::now() - started, kReadBudget);
    EXPECT_EQ(measured(out).size(), 7u);
    EXPECT_EQ(out.stuck, 0u);
  }
  hanging.release();
}

TEST(FilesystemsHangTest, CollectorSetTickStaysShortWhileAMountHangs) {
  const HangingStat hanging;
  CollectorSet collectors(hanging_settings(hanging, "/root/home"), filesystems_only());
  const auto deadline = SteadyClock::now() + 10s;
  double stuck = 0;
  while (SteadyClock::now() < deadline && stuck != 1.0) {
    const auto started = SteadyClock::now();
    ASSERT_TRUE(collectors.collect_one(0).ok());
    EXPECT_LT(SteadyClock::now() - started, kReadBudget);
    const auto values = testing_support::derive_to_map(collectors, 1.0);
    stuck = values.at("fs.stuck_mounts");
    collectors.advance_all();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(stuck, 1.0);
  hanging.release();
  // Destroyed while the abandoned worker may still be inside the stat: it
  // holds what it uses, so this must be clean under ASan.
}

TEST(FilesystemsHangTest, DestroyedWhileTheWorkerIsInsideAStuckCall) {
  const HangingStat hanging;
  {
    FilesystemsState state(hanging_settings(hanging, "/root/run"));
    Filesystems out;
    ASSERT_TRUE(state.read(out).ok());
    // The worker gets blocked on /run (the first mount): destroying the
    // state then must not wait for it.
    const auto deadline = SteadyClock::now() + 10s;
    for (;;) {
      {
        std::lock_guard lock(hanging.gate->mutex);
        if (hanging.gate->inside == 1) break;
      }
      ASSERT_LT(SteadyClock::now(), deadline) << "the worker never reached the hanging stat";
      std::this_thread::sleep_for(5ms);
    }
  }
  hanging.release();
  const auto deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < deadline && hanging.returned() != 1) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(hanging.returned(), 1);
}

TEST(FilesystemsHangTest, AbandonedWorkersAreCapped) {
  // Every mount hangs: each replacement worker gets stuck on the next one.
  const HangingStat hanging;
  FilesystemsState state(hanging_settings(hanging, ""));
  Filesystems out;
  const auto deadline = SteadyClock::now() + 20s;
  while (SteadyClock::now() < deadline && state.problem().find("not replacing") == std::string::npos) {
    const auto started = SteadyClock::now();
    ASSERT_TRUE(state.read(out).ok());
    EXPECT_LT(SteadyClock::now() - started, kReadBudget);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_THAT(state.problem(), HasSubstr("not replacing"));
  EXPECT_EQ(state.abandoned_workers(), 4u);
  EXPECT_EQ(out.count, 0u);  // no stale answers from a round stuck for good
  EXPECT_EQ(out.stuck, 5u);
  {
    std::lock_guard lock(hanging.gate->mutex);
    EXPECT_EQ(hanging.gate->inside, 5);  // four abandoned and the current one
  }
  hanging.release();
  const auto back = SteadyClock::now() + 10s;
  while (SteadyClock::now() < back && measured(out).size() != 7u) {
    ASSERT_TRUE(state.read(out).ok());
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(measured(out).size(), 7u);
}

// ---- statvfs every kStatvfsEveryReads reads, mountinfo only when it changed ----

// Answers every mount with `blocks` blocks, and counts the calls.
struct CountingStat {
  std::shared_ptr<std::atomic<std::uint64_t>> blocks = std::make_shared<std::atomic<std::uint64_t>>(1000);
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  FilesystemStatFunction function() const {
    return [blocks = blocks, calls = calls](const char* /*path*/, FilesystemUsage& out) {
      calls->fetch_add(1);
      out = {.fragment_bytes = 4096, .blocks = blocks->load(), .blocks_free = 10, .blocks_available = 10};
      return 0;
    };
  }
};

// A wait long enough that every round finishes inside the read that hands
// it over (it returns as soon as the round is done), so the test counts
// reads, not time.
constexpr auto kWholeRoundWait = 10s;

TEST(FilesystemsPeriodTest, StatvfsEveryPeriodAndTheLastAnswerEveryReadBetween) {
  SourceSettings settings = docker_host_settings();
  const CountingStat counting;
  settings.filesystems.stat = counting.function();
  settings.filesystems.result_wait = kWholeRoundWait;
  FilesystemsState state(settings);
  Filesystems out;
  ASSERT_TRUE(state.read(out).ok());
  ASSERT_EQ(out.count, 7u);
  const int round = counting.calls->load();
  EXPECT_EQ(round, 7);
  EXPECT_EQ(out.readings()[0].usage.blocks, 1000u);

  counting.blocks->store(2000);
  for (std::size_t read = 2; read <= kStatvfsEveryReads; ++read) {
    ASSERT_TRUE(state.read(out).ok());
    // Every mount still reported, with the last answer.
    ASSERT_EQ(out.count, 7u) << "read " << read;
    for (const FilesystemReading& reading : out.readings()) {
      ASSERT_TRUE(reading.has_usage);
      ASSERT_EQ(reading.usage.blocks, 1000u) << "read " << read << " " << reading.mount_point;
    }
  }
  EXPECT_EQ(counting.calls->load(), round);  // no statvfs in between

  ASSERT_TRUE(state.read(out).ok());
  EXPECT_EQ(counting.calls->load(), 2 * round);
  ASSERT_EQ(out.count, 7u);
  for (const FilesystemReading& reading : out.readings()) EXPECT_EQ(reading.usage.blocks, 2000u);
}

TEST(FilesystemsPeriodTest, AChangedMountTableIsParsedAndMeasuredAtOnce) {
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("proc/self"));
  const std::string line1 = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
  const std::string line2 = "30 22 8:2 / /home rw,relatime shared:2 - ext4 /dev/sda2 rw\n";
  root.write("proc/self/mountinfo", line1);
  SourceSettings settings{.paths = HostPaths{.proc = root.file("proc"), .sys = root.file("sys")}};
  const CountingStat counting;
  settings.filesystems.stat = counting.function();
  settings.filesystems.result_wait = kWholeRoundWait;
  FilesystemsState state(settings);
  Filesystems out;
  for (int read = 0; read < 3; ++read) ASSERT_TRUE(state.read(out).ok());
  ASSERT_EQ(out.count, 1u);
  // Not procfs: read every tick, parsed only when its text changed.
  EXPECT_EQ(state.mount_table_reads(), 3u);
  EXPECT_EQ(state.mount_table_parses(), 1u);

  root.write("proc/self/mountinfo", line1 + line2);
  ASSERT_TRUE(state.read(out).ok());
  EXPECT_EQ(state.mount_table_parses(), 2u);
  ASSERT_EQ(out.count, 2u);
  EXPECT_EQ(out.readings()[1].mount_point, "/home");
  EXPECT_TRUE(out.readings()[1].has_usage);  // measured on the read that found it
}

// A mount in a namespace of the test's own: procfs signals the change by
// poll(), so a steady tick reads no mountinfo and the read after a mount
// sees it. Forked: a multithreaded process cannot unshare its mount
// namespace, and the child's mounts die with it. Exit codes name the step
// that failed.
int mount_watch_child() {
  if (::unshare(CLONE_NEWNS) != 0) return 77;
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
  char pattern[] = "/tmp/hostpulse-mountwatch-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return 10;
  const std::string point = pattern;
  SourceSettings settings;
  settings.filesystems.result_wait = kWholeRoundWait;
  int code = 0;
  {
    FilesystemsState state(settings);
    Filesystems out;
    const auto has_point = [&out, &point] {
      for (const FilesystemReading& reading : out.readings()) {
        if (reading.mount_point == point && reading.has_usage) return true;
      }
      return false;
    };
    for (int read = 0; read < 3 && code == 0; ++read) {
      if (!state.read(out).ok()) code = 11;
    }
    if (code == 0 && state.mount_table_reads() != 1) code = 12;  // polled, not read
    if (code == 0 && has_point()) code = 13;
    if (code == 0 && ::mount("tmpfs", point.c_str(), "tmpfs", 0, "size=1m") != 0) code = 77;
    if (code == 0 && !state.read(out).ok()) code = 14;
    if (code == 0 && state.mount_table_reads() != 2) code = 15;
    if (code == 0 && !has_point()) code = 16;
    ::umount2(point.c_str(), MNT_DETACH);
  }
  ::rmdir(point.c_str());
  return code;
}

TEST(FilesystemsMountWatchTest, AMountIsSeenOnTheNextReadWithoutReadingMountinfoEveryTick) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a mount namespace";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(mount_watch_child());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no mount namespace or tmpfs mount allowed here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "step that failed: see mount_watch_child()";
}

// ---- live, this machine ----

TEST(FilesystemsLiveTest, RootIsReportedWithASize) {
  CollectorSet collectors(HostPaths{}, filesystems_only());
  const Status status = collectors.collect_one(0);
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  ASSERT_EQ(values.count("fs./.size_bytes"), 1u);
  EXPECT_GT(values.at("fs./.size_bytes"), 0.0);
  struct statvfs root {};
  ASSERT_EQ(::statvfs("/", &root), 0);
  EXPECT_EQ(values.at("fs./.size_bytes"), static_cast<double>(root.f_blocks) * static_cast<double>(root.f_frsize));
  EXPECT_GE(values.at("fs./.used_pct"), 0.0);
  EXPECT_LE(values.at("fs./.used_pct"), 100.0);
}

// ---- node_exporter's families ----

TEST(FilesystemsExposeTest, NodeExporterFamiliesLabelledWithDeviceTypeAndHostMountPoint) {
  SourceSettings settings = docker_host_settings();
  const RecordingStat recording;  // 100 MiB in 1 KiB fragments, half free; 100 inodes, 50 free
  settings.filesystems.stat = recording.function();
  FilesystemsState state(settings);
  Filesystems out;
  ASSERT_TRUE(state.read(out).ok()) << state.problem();
  testing_support::RecordingMetricWriter writer(filesystems_source().metrics);
  expose_filesystems(out, writer);
  EXPECT_EQ(writer.refused, 0u);

  using testing_support::metric_sample;
  std::vector<testing_support::RecordedSample> data;
  for (const testing_support::RecordedSample& sample : writer.samples) {
    if (sample.labels[2].second == "/data") data.push_back(sample);
  }
  // /data: "/dev/mapper/vg0-data" ext4, read-only in its super options; the
  // mount point without the rootfs prefix the agent read it under.
  const std::vector<std::pair<std::string, std::string>> labels = {
      {"device", "/dev/mapper/vg0-data"}, {"fstype", "ext4"}, {"mountpoint", "/data"}};
  EXPECT_THAT(data, ElementsAre(metric_sample("node_filesystem_device_error", labels, 0),
                                metric_sample("node_filesystem_readonly", labels, 1),
                                metric_sample("node_filesystem_size_bytes", labels, 104857600),
                                metric_sample("node_filesystem_free_bytes", labels, 52428800),
                                metric_sample("node_filesystem_avail_bytes", labels, 52428800),
                                metric_sample("node_filesystem_files", labels, 100),
                                metric_sample("node_filesystem_files_free", labels, 50)));
  EXPECT_EQ(writer.count("node_filesystem_size_bytes"), 7u);
  EXPECT_EQ(writer.value("node_filesystem_readonly", {"/dev/sda1", "ext4", "/"}), 0.0);
  EXPECT_EQ(writer.value("node_filesystem_size_bytes", {"tmpfs", "tmpfs", "/run/user/1000"}), 104857600.0);
}

TEST(FilesystemsExposeTest, FailedStatIsADeviceErrorWithoutSizes) {
  SourceSettings settings = docker_host_settings();
  settings.filesystems.stat = [](const char* path, FilesystemUsage& out) {
    if (std::string_view(path).ends_with("/home")) return EACCES;
    out = {.fragment_bytes = 4096, .blocks = 10, .blocks_free = 5, .blocks_available = 5};
    return 0;
  };
  FilesystemsState state(settings);
  Filesystems out;
  ASSERT_TRUE(state.read(out).ok());
  testing_support::RecordingMetricWriter writer(filesystems_source().metrics);
  expose_filesystems(out, writer);
  EXPECT_EQ(writer.value("node_filesystem_device_error", {"/dev/sda3", "xfs", "/home"}), 1.0);
  EXPECT_EQ(writer.value("node_filesystem_readonly", {"/dev/sda3", "xfs", "/home"}), 0.0);
  EXPECT_EQ(writer.value("node_filesystem_size_bytes", {"/dev/sda3", "xfs", "/home"}), std::nullopt);
  EXPECT_EQ(writer.count("node_filesystem_device_error"), 7u);
  EXPECT_EQ(writer.value("node_filesystem_size_bytes", {"/dev/sda2", "ext4", "/boot"}), 40960.0);
}

}  // namespace
}  // namespace hostpulse
