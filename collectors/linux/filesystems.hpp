#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// Filesystems kept per read. A host with more real filesystems than this is
// a container host whose extra ones are per-pod binds and secrets (tmpfs);
// 128 mounts are 768 series, under a tenth of the registry's series cap.
inline constexpr std::size_t kMaxMounts = 128;
// Mount points longer than this are skipped (and counted): the series
// registry refuses entity keys longer than 256 bytes.
inline constexpr std::size_t kMaxMountPointBytes = 256;
// Reads between two statvfs rounds (10 s at the default 1 s interval). Usage
// moves slowly next to a tick: a disk filling at 100 MB/s moves a 1 TB
// filesystem's used_pct by 0.1 per 10 s, and alert rules on it hold for
// minutes. In between every read reports the last answers, and costs no
// statvfs and no hand-over to the worker. A changed mount table, or a stuck
// mount that came back, starts a round at once.
inline constexpr std::size_t kStatvfsEveryReads = 10;

// One mountinfo line the source measures, its paths decoded (\040 -> ' ').
struct MountEntry {
  std::string mount_point;  // as the mount namespace that was read sees it
  std::string fs_type;
  std::string source;
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  bool readonly = false;  // "ro" in the super options: the filesystem, not this mount of it
};

// What parse_mountinfo kept, and what it left out (for tests and status).
struct MountTable {
  std::vector<MountEntry> entries;  // only the first count are this read's; capacity is reused
  std::size_t count = 0;
  std::size_t lines = 0;
  std::size_t excluded_type = 0;    // pseudo filesystems (proc, cgroup, overlay, ...)
  std::size_t excluded_point = 0;   // under /dev, /proc, /sys, docker's and podman's storage
  std::size_t duplicates = 0;       // a device seen again: a bind mount
  std::size_t too_long = 0;         // mount point over kMaxMountPointBytes
  std::size_t over_cap = 0;         // beyond kMaxMounts
  std::string scratch;              // the line's decoded mount point; kept to reuse its capacity

  [[nodiscard]] std::span<const MountEntry> mounts() const { return {entries.data(), count}; }
};

// Filesystem types that hold no user data, as node_exporter's default
// --collector.filesystem.fs-types-exclude. tmpfs, NFS, CIFS and FUSE are kept.
bool is_pseudo_filesystem(std::string_view fs_type);
// node_exporter's default mount-point exclusion:
// ^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)
bool is_excluded_mount_point(std::string_view mount_point);
// Decodes the kernel's octal escapes (\040 space, \011 tab, \012 newline,
// \134 backslash) into out; false on a backslash not followed by three
// octal digits of a byte value.
bool decode_mount_path(std::string_view escaped, std::string& out);

// /proc/<pid>/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
// Every line must be well formed (a damaged line fails the read, naming its
// line number); out keeps the mounts worth measuring: not pseudo, not an
// excluded mount point, the first mount of each major:minor (a later bind
// mount of the same device with a shorter mount point takes its place).
Status parse_mountinfo(std::string_view text, MountTable& out);

// One measured filesystem in a read.
struct FilesystemReading {
  std::string mount_point;
  bool readonly = false;   // the filesystem is read-only (MountEntry::readonly)
  bool has_usage = false;  // statvfs answered this round
  FilesystemUsage usage;
  // For the Prometheus labels: the mount's source ("/dev/vda") and type.
  std::string device{};
  std::string fs_type{};
};

struct Filesystems {
  std::vector<FilesystemReading> mounts;  // first count are this read's; capacity is reused
  std::size_t count = 0;
  std::size_t stuck = 0;   // mounts whose statvfs has not returned in time
  std::size_t failed = 0;  // mounts whose statvfs failed (EACCES under a sandbox, ENOENT)
  // Those mounts and the ones stuck in statvfs (first failed_count), without
  // usage, for node_exporter's node_filesystem_device_error; capacity is reused.
  std::vector<FilesystemReading> failed_mounts;
  std::size_t failed_count = 0;

  [[nodiscard]] std::span<const FilesystemReading> readings() const { return {mounts.data(), count}; }
  [[nodiscard]] std::span<const FilesystemReading> failures() const { return {failed_mounts.data(), failed_count}; }
};

class StatWorker;

// What the source keeps between ticks: the mountinfo reader, the worker
// thread that runs statvfs (so a hung NFS server never blocks the sampler),
// and the workers abandoned inside a stuck call.
class FilesystemsState {
 public:
  explicit FilesystemsState(const SourceSettings& settings);
  ~FilesystemsState();
  FilesystemsState(const FilesystemsState&) = delete;
  FilesystemsState& operator=(const FilesystemsState&) = delete;

  Status read(Filesystems& out);

  // Workers left inside a stuck statvfs whose call has not returned yet.
  [[nodiscard]] std::size_t abandoned_workers();
  // Mount points not asked while a stuck call on them is outstanding; and
  // the reason, for status ("statvfs stuck on '/mnt/nfs' ...", empty when none).
  [[nodiscard]] std::vector<std::string> stuck_mount_points();
  [[nodiscard]] const std::string& problem() const { return problem_; }
  [[nodiscard]] const MountTable& table() const { return table_; }
  // How often mountinfo was read and parsed (tests: a steady tick does neither).
  [[nodiscard]] std::size_t mount_table_reads() const { return mount_table_reads_; }
  [[nodiscard]] std::size_t mount_table_parses() const { return mount_table_parses_; }

 private:
  struct Abandoned {
    std::shared_ptr<StatWorker> worker;
    std::string mount_point;
  };
  Status start_worker();
  Status refresh_table(bool round_due);
  [[nodiscard]] bool table_may_have_changed() const;
  void hand_over();
  void forget_returned();
  [[nodiscard]] bool is_stuck(std::string_view mount_point) const;

  HostPaths paths_;
  FilesystemOptions options_;
  FileReader mountinfo_;
  // mountinfo held open to poll(): procfs flags it POLLPRI when the mount
  // table changed since the last poll, so it is read and parsed only then
  // (and at each statvfs round: a filesystem the kernel remounts read-only
  // after errors raises no such event). -1 when it is not procfs (a fake
  // --procfs tree), which is read every tick.
  int mountinfo_watch_ = -1;
  bool table_parsed_ = false;
  std::string parsed_text_;  // the mountinfo text table_ was parsed from
  bool round_due_ = true;    // hand the worker a round once it is idle
  std::size_t reads_until_round_ = 0;
  std::size_t mount_table_reads_ = 0;
  std::size_t mount_table_parses_ = 0;
  MountTable table_;
  std::shared_ptr<StatWorker> worker_;
  std::vector<Abandoned> abandoned_;
  std::string problem_;
};

// Gauges per mount from the latest statvfs; fs.stuck_mounts host-wide.
void derive_filesystems(const Filesystems* previous, const Filesystems& current, const DeriveContext& context,
                        SeriesWriter& out);
// node_exporter's node_filesystem_{size,free,avail}_bytes, _files,
// _files_free, _readonly and _device_error{device,fstype,mountpoint}, the
// mount point as the host sees it (no rootfs prefix). A mount whose statvfs
// failed or is stuck has device_error 1 and readonly only, as in node_exporter.
void expose_filesystems(const Filesystems& current, MetricWriter& out);
SourceDefinition filesystems_source();

}  // namespace hostpulse
