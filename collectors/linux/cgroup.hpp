#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The cgroup the agent runs in: inside a container, the container's CPU
// quota and memory limit, and its use relative to them (the host-wide cpu.*
// and mem.* series keep describing the whole machine). Read the way runc and
// cAdvisor do: <proc>/self/cgroup names the agent's cgroup per hierarchy,
// <proc>/self/mountinfo says where each hierarchy is mounted (never assumed
// to be /sys/fs/cgroup), and the directory is the mount point joined with the
// cgroup path taken relative to the mount's root.

// <proc>/self/cgroup, one line per hierarchy: "0::/path" for the unified
// (v2) one, "N:cpu,cpuacct:/path" for a v1 one; a hybrid host has both. The
// paths are views into the parsed text.
struct CgroupMembership {
  std::optional<std::string_view> unified;  // v2
  std::optional<std::string_view> cpu;      // v1 hierarchy holding the "cpu" controller
  std::optional<std::string_view> cpuacct;  // v1 hierarchy holding "cpuacct"
  std::optional<std::string_view> memory;   // v1 hierarchy holding "memory"
};
// Truncated text, a line without two colons or a hierarchy id that is not a
// number fail, naming the line. Named hierarchies (name=systemd) and
// controllers we do not read are skipped.
Status parse_cgroup_membership(std::string_view text, CgroupMembership& out);

// One cgroup mount from mountinfo, its fields unescaped ("\040" is a space).
struct CgroupMount {
  bool unified = false;  // cgroup2; else v1 with the controllers below
  bool cpu = false;
  bool cpuacct = false;
  bool memory = false;
  std::string root;         // field 4: the cgroup the mount shows at its top
  std::string mount_point;  // field 5, in the agent's mount namespace
};
// Nested containers and bind mounts give a few mounts per hierarchy; a
// v1 host has about a dozen hierarchies. More than this many cgroup mounts
// is not a real host, and keeping them all would let a hostile table grow
// the agent without bound.
inline constexpr std::size_t kMaxCgroupMounts = 256;
// Every cgroup and cgroup2 mount of <proc>/self/mountinfo, in its order (the
// first kMaxCgroupMounts; mounts_skipped counts the rest). A line without
// the " - " separator, or with fewer fields than the format has, fails.
struct CgroupMounts {
  std::vector<CgroupMount> mounts;
  std::size_t mounts_skipped = 0;
};
Status parse_cgroup_mountinfo(std::string_view text, CgroupMounts& out);

enum class CgroupController : std::uint8_t { unified, cpu, cpuacct, memory };
// The mount that shows `cgroup_path` of that controller's hierarchy: the
// first whose root is the path or a parent of it, else the first mount of
// the hierarchy at all (a container whose mount root hides where it is).
// nullptr when the hierarchy is not mounted.
const CgroupMount* find_cgroup_mount(const CgroupMounts& mounts, CgroupController controller,
                                     std::string_view cgroup_path);
// The directory of cgroup_path under that mount, as runc resolves it: the
// mount point joined with the path relative to the mount's root. A path not
// under the root, or climbing out with "..", (a process outside its cgroup
// namespace's root shows "/../x") resolves to the mount point itself: the
// cgroup the mount shows is the nearest one the agent can read.
std::string resolve_cgroup_directory(const CgroupMount& mount, std::string_view cgroup_path);

// What one read of the cgroup files gives; every part is optional, as a host
// may have only some of them (the v2 root cgroup has no cpu.max,
// memory.max or memory.current).
struct CgroupRead {
  // Bumped whenever the files were located again (the agent moved to another
  // cgroup): usage counters of two different cgroups are not one counter.
  std::uint64_t generation = 0;
  std::optional<std::uint64_t> cpu_usage_ns = {};        // cumulative CPU time of the cgroup
  std::optional<double> cpu_limit_cores = {};            // quota / period; empty: no quota
  std::optional<std::uint64_t> memory_used_bytes = {};   // usage minus inactive file cache
  std::optional<std::uint64_t> memory_limit_bytes = {};  // empty: no limit
};

// v2 cpu.max: "max 100000" (no quota) or "50000 100000" (quota and period
// in microseconds). One line; the period must be positive.
Status parse_cpu_max(std::string_view text, std::optional<double>& limit_cores);
// v1 cpu.cfs_quota_us: "-1" (no quota) or a positive number of microseconds.
Status parse_cfs_quota(std::string_view text, std::optional<std::uint64_t>& quota_us);
// v2 memory.max: "max" or bytes.
Status parse_memory_max(std::string_view text, std::optional<std::uint64_t>& limit_bytes);
// v1 reports "no limit" as LONG_MAX rounded down to the page size
// (9223372036854771712 with 4 KiB pages, less with 64 KiB ones): anything at
// or above 2^62 bytes (4 EiB, far beyond any machine) means no limit.
inline constexpr std::uint64_t kV1UnlimitedBytes = std::uint64_t{1} << 62;
// v1 memory.limit_in_bytes: bytes; kV1UnlimitedBytes or more is no limit.
Status parse_v1_memory_limit(std::string_view text, std::optional<std::uint64_t>& limit_bytes);
// A file holding one unsigned number and a newline (memory.current,
// cpuacct.usage, cpu.cfs_period_us, memory.usage_in_bytes). file names it
// in errors.
Status parse_cgroup_number(std::string_view text, std::string_view file, std::uint64_t& value);
// The value of `key` in a "key value" per line file (cpu.stat usage_usec,
// memory.stat inactive_file); missing or twice is an error.
Status parse_cgroup_keyed(std::string_view text, std::string_view file, std::string_view key,
                          std::uint64_t& value);

// Where the cgroup files are and a reader for each, found once and again when
// the agent's cgroup changes or a file vanishes (a read fails).
class CgroupState {
 public:
  explicit CgroupState(const SourceSettings& settings);
  Status read(CgroupRead& out);

  // For tests: how many times the files were located.
  [[nodiscard]] std::uint64_t generation() const { return generation_; }

 private:
  // Which format a resource's files are in.
  enum class Version : std::uint8_t { none, v1, v2 };
  Status locate();
  Status read_located(CgroupRead& out);
  [[nodiscard]] std::string under_mounts_root(const std::string& directory) const;

  std::string mounts_root_;
  FileReader self_cgroup_;
  FileReader self_mountinfo_;
  std::string located_membership_;  // the self/cgroup text the files were found for
  bool located_ = false;
  std::uint64_t generation_ = 0;
  CgroupMounts mounts_;

  Version cpu_version_ = Version::none;
  Version memory_version_ = Version::none;
  // cpu.cfs_quota_us and cpu.cfs_period_us rather than cpu.max.
  bool cpu_limit_is_v1_ = false;
  // Each present only when the file was there when located.
  std::optional<FileReader> cpu_limit_;    // cpu.max or cpu.cfs_quota_us
  std::optional<FileReader> cpu_period_;   // v1 cpu.cfs_period_us
  std::optional<FileReader> cpu_usage_;    // cpu.stat or cpuacct.usage
  std::optional<FileReader> memory_limit_;  // memory.max or memory.limit_in_bytes
  std::optional<FileReader> memory_usage_;  // memory.current or memory.usage_in_bytes
  std::optional<FileReader> memory_stat_;   // memory.stat
};

Status read_cgroup(CgroupState& state, std::string_view primary, CgroupRead& out);
void derive_cgroup(const CgroupRead* previous, const CgroupRead& current, const DeriveContext& context,
                   SeriesWriter& out);
SourceDefinition cgroup_source();

}  // namespace hostpulse
