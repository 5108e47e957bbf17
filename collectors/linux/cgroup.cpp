#include "collectors/linux/cgroup.hpp"

#include <limits>
#include <string>
#include <utility>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::describe;
using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

// memory.stat, the largest file read per tick, is about 1.5 KiB on 6.x
// kernels (v1 prints it twice over with total_*); 64 KiB is far above any
// real one and keeps a hostile file from growing a buffer much.
constexpr std::size_t kCgroupFileMaxBytes = 64u << 10;
// /proc/self/cgroup has a line per hierarchy (about a dozen on v1), each
// with a path the kernel caps at PATH_MAX: the same cap fits it.
constexpr std::size_t kSelfCgroupMaxBytes = kCgroupFileMaxBytes;

constexpr std::uint64_t kNanosecondsPerMicrosecond = 1000;
constexpr double kNanosecondsPerSecond = 1e9;

Status line_error(std::string_view file, std::size_t line_number, const std::string& message) {
  return Status::failure(std::string(file) + " line " + std::to_string(line_number) + ": " + message);
}

// Whether comma-separated `list` ("rw,cpu,cpuacct") holds `item` exactly.
bool list_contains(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The text of a one-line, one-value file (after its truncation check).
Status single_token(std::string_view text, std::string_view file, std::string_view& token) {
  if (Status complete = procfs_text::check_complete(text, file); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  lines.next(line);
  if (std::string_view more; lines.next(more)) {
    return Status::failure(std::string(file) + ": expected one line, found more after line 1");
  }
  token = next_field(line);
  if (token.empty()) return Status::failure(std::string(file) + ": expected a value, got nothing");
  if (const std::string_view extra = next_field(line); !extra.empty()) {
    return Status::failure(std::string(file) + ": unexpected " + quote(extra) + " after the value");
  }
  return Status::success();
}

Status parse_number_token(std::string_view token, std::string_view file, std::uint64_t& value) {
  if (const NumberError error = procfs_text::parse_unsigned(token, value); error != NumberError::none) {
    return Status::failure(std::string(file) + ": " + describe(error, token));
  }
  return Status::success();
}

// mountinfo escapes space, tab, newline and backslash as three octal digits.
std::string unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) && is_octal(field[i + 2]) &&
        is_octal(field[i + 3])) {
      out.push_back(static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

bool mount_has(const CgroupMount& mount, CgroupController controller) {
  switch (controller) {
    case CgroupController::unified: return mount.unified;
    case CgroupController::cpu: return !mount.unified && mount.cpu;
    case CgroupController::cpuacct: return !mount.unified && mount.cpuacct;
    case CgroupController::memory: return !mount.unified && mount.memory;
  }
  return false;
}

// "/a" is under "/" and "/a", not under "/ab".
bool path_is_under(std::string_view root, std::string_view path) {
  if (root == "/" || root.empty()) return true;
  if (path.substr(0, root.size()) != root) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

bool climbs_out(std::string_view path) {
  while (!path.empty()) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    const std::size_t slash = path.find('/');
    if (path.substr(0, slash) == "..") return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return false;
}

}  // namespace

Status parse_cgroup_membership(std::string_view text, CgroupMembership& out) {
  out = CgroupMembership{};
  constexpr std::string_view kFile = "cgroup";
  if (Status complete = procfs_text::check_complete(text, kFile); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      return line_error(kFile, lines.line_number(), "expected id:controllers:path, got " + quote(line));
    }
    const std::string_view id_token = line.substr(0, first);
    std::uint32_t id = 0;
    if (const NumberError error = procfs_text::parse_unsigned(id_token, id); error != NumberError::none) {
      return line_error(kFile, lines.line_number(), "hierarchy id: " + describe(error, id_token, "32 bits"));
    }
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    // The path is the rest: a cgroup name may itself hold a colon.
    const std::string_view path = line.substr(second + 1);
    if (path.empty() || path.front() != '/') {
      return line_error(kFile, lines.line_number(), "expected an absolute cgroup path, got " + quote(path));
    }
    const auto take = [&](std::optional<std::string_view>& slot, std::string_view what) {
      if (slot.has_value()) {
        return line_error(kFile, lines.line_number(), std::string(what) + " hierarchy appears twice");
      }
      slot = path;
      return Status::success();
    };
    if (id == 0 && controllers.empty()) {
      if (Status status = take(out.unified, "the unified"); !status.ok()) return status;
      continue;
    }
    if (list_contains(controllers, "cpu")) {
      if (Status status = take(out.cpu, "the cpu"); !status.ok()) return status;
    }
    if (list_contains(controllers, "cpuacct")) {
      if (Status status = take(out.cpuacct, "the cpuacct"); !status.ok()) return status;
    }
    if (list_contains(controllers, "memory")) {
      if (Status status = take(out.memory, "the memory"); !status.ok()) return status;
    }
  }
  return Status::success();
}

Status parse_cgroup_mountinfo(std::string_view text, CgroupMounts& out) {
  out.mounts.clear();
  out.mounts_skipped = 0;
  constexpr std::string_view kFile = "mountinfo";
  if (Status complete = procfs_text::check_complete(text, kFile); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::string_view fields[6];
    for (std::string_view& field : fields) field = next_field(line);
    if (fields[5].empty()) {
      return line_error(kFile, lines.line_number(), "expected at least 6 fields before the separator");
    }
    std::string_view field = next_field(line);
    while (!field.empty() && field != "-") field = next_field(line);
    if (field.empty()) return line_error(kFile, lines.line_number(), "no \" - \" separator");
    const std::string_view type = next_field(line);
    const std::string_view source = next_field(line);
    const std::string_view super_options = next_field(line);
    if (super_options.empty() || source.empty()) {
      return line_error(kFile, lines.line_number(), "expected type, source and options after \" - \"");
    }
    const bool unified = type == "cgroup2";
    if (!unified && type != "cgroup") continue;
    if (out.mounts.size() >= kMaxCgroupMounts) {
      ++out.mounts_skipped;
      continue;
    }
    out.mounts.push_back(CgroupMount{
        .unified = unified,
        .cpu = !unified && list_contains(super_options, "cpu"),
        .cpuacct = !unified && list_contains(super_options, "cpuacct"),
        .memory = !unified && list_contains(super_options, "memory"),
        .root = unescape_mount_field(fields[3]),
        .mount_point = unescape_mount_field(fields[4]),
    });
  }
  return Status::success();
}

const CgroupMount* find_cgroup_mount(const CgroupMounts& mounts, CgroupController controller,
                                     std::string_view cgroup_path) {
  const CgroupMount* first = nullptr;
  for (const CgroupMount& mount : mounts.mounts) {
    if (!mount_has(mount, controller)) continue;
    if (path_is_under(mount.root, cgroup_path)) return &mount;
    if (first == nullptr) first = &mount;
  }
  return first;
}

std::string resolve_cgroup_directory(const CgroupMount& mount, std::string_view cgroup_path) {
  std::string directory = mount.mount_point;
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  if (!path_is_under(mount.root, cgroup_path)) return directory;
  std::string_view relative = mount.root == "/" ? cgroup_path : cgroup_path.substr(mount.root.size());
  if (climbs_out(relative)) return directory;
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  while (!relative.empty() && relative.back() == '/') relative.remove_suffix(1);
  if (relative.empty()) return directory;
  if (directory != "/") directory += '/';
  directory.append(relative);
  return directory;
}

Status parse_cpu_max(std::string_view text, std::optional<double>& limit_cores) {
  limit_cores.reset();
  constexpr std::string_view kFile = "cpu.max";
  if (Status complete = procfs_text::check_complete(text, kFile); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  lines.next(line);
  if (std::string_view more; lines.next(more)) {
    return Status::failure(std::string(kFile) + ": expected one line, found more after line 1");
  }
  const std::string_view quota_token = next_field(line);
  const std::string_view period_token = next_field(line);
  if (period_token.empty()) return Status::failure(std::string(kFile) + ": expected \"quota period\"");
  if (const std::string_view extra = next_field(line); !extra.empty()) {
    return Status::failure(std::string(kFile) + ": unexpected " + quote(extra) + " after the period");
  }
  std::uint64_t period_us = 0;
  if (Status status = parse_number_token(period_token, "cpu.max period", period_us); !status.ok()) return status;
  if (period_us == 0) return Status::failure(std::string(kFile) + ": period is 0");
  if (quota_token == "max") return Status::success();
  std::uint64_t quota_us = 0;
  if (Status status = parse_number_token(quota_token, "cpu.max quota", quota_us); !status.ok()) return status;
  if (quota_us == 0) return Status::failure(std::string(kFile) + ": quota is 0");
  limit_cores = static_cast<double>(quota_us) / static_cast<double>(period_us);
  return Status::success();
}

Status parse_cfs_quota(std::string_view text, std::optional<std::uint64_t>& quota_us) {
  quota_us.reset();
  constexpr std::string_view kFile = "cpu.cfs_quota_us";
  std::string_view token;
  if (Status status = single_token(text, kFile, token); !status.ok()) return status;
  if (token == "-1") return Status::success();
  std::uint64_t value = 0;
  if (Status status = parse_number_token(token, kFile, value); !status.ok()) return status;
  if (value == 0) return Status::failure(std::string(kFile) + ": quota is 0");
  quota_us = value;
  return Status::success();
}

Status parse_memory_max(std::string_view text, std::optional<std::uint64_t>& limit_bytes) {
  limit_bytes.reset();
  constexpr std::string_view kFile = "memory.max";
  std::string_view token;
  if (Status status = single_token(text, kFile, token); !status.ok()) return status;
  if (token == "max") return Status::success();
  std::uint64_t value = 0;
  if (Status status = parse_number_token(token, kFile, value); !status.ok()) return status;
  limit_bytes = value;
  return Status::success();
}

Status parse_v1_memory_limit(std::string_view text, std::optional<std::uint64_t>& limit_bytes) {
  limit_bytes.reset();
  std::uint64_t value = 0;
  if (Status status = parse_cgroup_number(text, "memory.limit_in_bytes", value); !status.ok()) return status;
  if (value < kV1UnlimitedBytes) limit_bytes = value;
  return Status::success();
}

Status parse_cgroup_number(std::string_view text, std::string_view file, std::uint64_t& value) {
  std::string_view token;
  if (Status status = single_token(text, file, token); !status.ok()) return status;
  return parse_number_token(token, file, value);
}

Status parse_cgroup_keyed(std::string_view text, std::string_view file, std::string_view key,
                          std::uint64_t& value) {
  if (Status complete = procfs_text::check_complete(text, file); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  std::size_t found_on_line = 0;
  while (lines.next(line)) {
    std::string_view rest = line;
    if (next_field(rest) != key) continue;
    if (found_on_line != 0) {
      return line_error(file, lines.line_number(),
                        std::string(key) + " appears twice (first on line " + std::to_string(found_on_line) + ")");
    }
    found_on_line = lines.line_number();
    const std::string_view token = next_field(rest);
    if (const NumberError error = procfs_text::parse_unsigned(token, value); error != NumberError::none) {
      return line_error(file, found_on_line, std::string(key) + ": " + describe(error, token));
    }
    if (const std::string_view extra = next_field(rest); !extra.empty()) {
      return line_error(file, found_on_line, std::string(key) + ": unexpected " + quote(extra) + " after the value");
    }
  }
  if (found_on_line == 0) return Status::failure(std::string(file) + ": " + std::string(key) + " missing");
  return Status::success();
}

// ---- The state: finding the files and reading them ----

namespace {

// A reader for directory/name when the file is there (the v2 root cgroup has
// no cpu.max; a controller not enabled for the cgroup has no files). A file
// that is there but cannot be read (a FIFO planted in its place, no
// permission) is a failure, not "no limit".
Status open_if_present(const std::string& directory, std::string_view name, std::optional<FileReader>& reader) {
  // cgroupfs makes each file whole in one read(), as sysfs does: one
  // read() per file, not two; each is read every tick, so it is kept open.
  reader.emplace(directory + "/" + std::string(name),
                 FileReader::Options{.max_bytes = kCgroupFileMaxBytes, .whole_in_one_read = true,
                                     .hold_descriptor = true});
  Status status = reader->read();
  if (status.ok()) return status;
  const bool missing = reader->missing();
  reader.reset();
  return missing ? Status::success() : status;
}

// Reads the file and parses it with `parse`, naming the path on failure.
template <class Parse>
Status read_and_parse(FileReader& reader, Parse&& parse) {
  Status status = reader.read();
  if (status.ok()) {
    status = parse(reader.contents());
    if (!status.ok()) status.error.insert(0, reader.path() + ": ");
  }
  return status;
}

}  // namespace

CgroupState::CgroupState(const SourceSettings& settings)
    : mounts_root_(settings.cgroup.mounts_root),
      // Read every tick to see the agent moved: kept open.
      self_cgroup_(settings.paths.proc_file("self/cgroup"),
                   FileReader::Options{.max_bytes = kSelfCgroupMaxBytes, .hold_descriptor = true}),
      self_mountinfo_(settings.paths.proc_file("self/mountinfo")) {}

std::string CgroupState::under_mounts_root(const std::string& directory) const {
  if (mounts_root_.empty() || mounts_root_ == "/") return directory;
  std::string path = mounts_root_;
  while (!path.empty() && path.back() == '/') path.pop_back();
  path += directory;
  return path;
}

Status CgroupState::locate() {
  located_ = false;
  ++generation_;
  cpu_version_ = Version::none;
  memory_version_ = Version::none;
  cpu_limit_.reset();
  cpu_period_.reset();
  cpu_usage_.reset();
  memory_limit_.reset();
  memory_usage_.reset();
  memory_stat_.reset();

  // A kernel built without cgroups has no such file.
  if (Status status = self_cgroup_.read(); !status.ok()) {
    return Status::absent("cgroup: " + status.error + " (no cgroups)");
  }
  CgroupMembership membership;
  if (Status status = parse_cgroup_membership(self_cgroup_.contents(), membership); !status.ok()) {
    status.error.insert(0, self_cgroup_.path() + ": ");
    return status;
  }
  if (Status status = self_mountinfo_.read(); !status.ok()) return status;
  if (Status status = parse_cgroup_mountinfo(self_mountinfo_.contents(), mounts_); !status.ok()) {
    status.error.insert(0, self_mountinfo_.path() + ": ");
    return status;
  }

  // The directory of one controller's hierarchy, or "" when the agent is in
  // no such hierarchy or it is not mounted here.
  const auto directory_of = [this](CgroupController controller, const std::optional<std::string_view>& path) {
    if (!path.has_value()) return std::string();
    const CgroupMount* mount = find_cgroup_mount(mounts_, controller, *path);
    return mount == nullptr ? std::string() : under_mounts_root(resolve_cgroup_directory(*mount, *path));
  };
  const std::string unified = directory_of(CgroupController::unified, membership.unified);
  const std::string cpu = directory_of(CgroupController::cpu, membership.cpu);
  const std::string cpuacct = directory_of(CgroupController::cpuacct, membership.cpuacct);
  const std::string memory = directory_of(CgroupController::memory, membership.memory);

  // A v1 controller wins over the unified hierarchy: on a hybrid host the
  // controllers live in v1 and the unified one only tracks processes.
  Status status;
  const auto open = [&status](const std::string& directory, std::string_view name, std::optional<FileReader>& reader) {
    if (status.ok()) status = open_if_present(directory, name, reader);
  };
  cpu_limit_is_v1_ = !cpu.empty();
  if (!cpu.empty()) {
    open(cpu, "cpu.cfs_quota_us", cpu_limit_);
    open(cpu, "cpu.cfs_period_us", cpu_period_);
    if (!cpu_limit_ || !cpu_period_) {
      cpu_limit_.reset();
      cpu_period_.reset();
    }
  } else if (!unified.empty()) {
    open(unified, "cpu.max", cpu_limit_);
  }
  if (!cpuacct.empty()) {
    cpu_version_ = Version::v1;
    open(cpuacct, "cpuacct.usage", cpu_usage_);
  } else if (!unified.empty()) {
    cpu_version_ = Version::v2;
    open(unified, "cpu.stat", cpu_usage_);
  }
  if (!memory.empty()) {
    memory_version_ = Version::v1;
    open(memory, "memory.limit_in_bytes", memory_limit_);
    open(memory, "memory.usage_in_bytes", memory_usage_);
  } else if (!unified.empty()) {
    memory_version_ = Version::v2;
    open(unified, "memory.max", memory_limit_);
    open(unified, "memory.current", memory_usage_);
  }
  if (memory_usage_) {
    open(memory_version_ == Version::v1 ? memory : unified, "memory.stat", memory_stat_);
    if (!memory_stat_) memory_usage_.reset();
  }
  if (!status.ok()) return status;

  if (!cpu_limit_ && !cpu_usage_ && !memory_limit_ && !memory_usage_) {
    std::string looked_in;
    for (const std::string* directory : {&unified, &cpu, &cpuacct, &memory}) {
      if (directory->empty() || looked_in.find(*directory) != std::string::npos) continue;
      looked_in += (looked_in.empty() ? "" : ", ") + *directory;
    }
    return Status::absent("cgroup: no cgroup cpu or memory files readable (" +
                          (looked_in.empty() ? "the hierarchies of " + self_cgroup_.path() + " are not mounted per " +
                                                   self_mountinfo_.path()
                                             : "none in " + looked_in) +
                          ")");
  }
  located_membership_.assign(self_cgroup_.contents());
  located_ = true;
  return Status::success();
}

Status CgroupState::read_located(CgroupRead& out) {
  out.generation = generation_;
  out.cpu_usage_ns.reset();
  out.cpu_limit_cores.reset();
  out.memory_used_bytes.reset();
  out.memory_limit_bytes.reset();

  if (cpu_limit_ && cpu_limit_is_v1_) {
    std::optional<std::uint64_t> quota_us;
    std::uint64_t period_us = 0;
    if (Status status = read_and_parse(*cpu_limit_, [&](std::string_view text) { return parse_cfs_quota(text, quota_us); });
        !status.ok()) {
      return status;
    }
    if (Status status = read_and_parse(*cpu_period_, [&](std::string_view text) {
          return parse_cgroup_number(text, "cpu.cfs_period_us", period_us);
        });
        !status.ok()) {
      return status;
    }
    if (quota_us.has_value()) {
      if (period_us == 0) return Status::failure(cpu_period_->path() + ": period is 0");
      out.cpu_limit_cores = static_cast<double>(*quota_us) / static_cast<double>(period_us);
    }
  } else if (cpu_limit_) {
    if (Status status = read_and_parse(*cpu_limit_, [&](std::string_view text) { return parse_cpu_max(text, out.cpu_limit_cores); });
        !status.ok()) {
      return status;
    }
  }

  if (cpu_usage_) {
    std::uint64_t usage = 0;
    if (cpu_version_ == Version::v1) {
      if (Status status = read_and_parse(*cpu_usage_, [&](std::string_view text) {
            return parse_cgroup_number(text, "cpuacct.usage", usage);
          });
          !status.ok()) {
        return status;
      }
      out.cpu_usage_ns = usage;
    } else {
      if (Status status = read_and_parse(*cpu_usage_, [&](std::string_view text) {
            return parse_cgroup_keyed(text, "cpu.stat", "usage_usec", usage);
          });
          !status.ok()) {
        return status;
      }
      if (usage > std::numeric_limits<std::uint64_t>::max() / kNanosecondsPerMicrosecond) {
        return Status::failure(cpu_usage_->path() + ": usage_usec " + std::to_string(usage) +
                               " does not fit in 64-bit nanoseconds");
      }
      out.cpu_usage_ns = usage * kNanosecondsPerMicrosecond;
    }
  }

  const bool memory_v1 = memory_version_ == Version::v1;
  if (memory_limit_) {
    if (Status status = read_and_parse(*memory_limit_, [&](std::string_view text) {
          return memory_v1 ? parse_v1_memory_limit(text, out.memory_limit_bytes)
                           : parse_memory_max(text, out.memory_limit_bytes);
        });
        !status.ok()) {
      return status;
    }
  }
  if (memory_usage_ && memory_stat_) {
    std::uint64_t usage = 0;
    std::uint64_t inactive_file = 0;
    if (Status status = read_and_parse(*memory_usage_, [&](std::string_view text) {
          return parse_cgroup_number(text, memory_v1 ? "memory.usage_in_bytes" : "memory.current", usage);
        });
        !status.ok()) {
      return status;
    }
    // v1's total_ lines include the child cgroups, as usage_in_bytes does;
    // v2's memory.stat is hierarchical already.
    if (Status status = read_and_parse(*memory_stat_, [&](std::string_view text) {
          return parse_cgroup_keyed(text, "memory.stat", memory_v1 ? "total_inactive_file" : "inactive_file",
                                    inactive_file);
        });
        !status.ok()) {
      return status;
    }
    out.memory_used_bytes = usage > inactive_file ? usage - inactive_file : 0;
  }
  return Status::success();
}

Status CgroupState::read(CgroupRead& out) {
  bool just_located = false;
  if (!located_) {
    if (Status status = locate(); !status.ok()) return status;
    just_located = true;
  } else {
    // The agent may have been moved to another cgroup (systemd restarting a
    // unit's scope, a runtime update): one small read tells, with no
    // allocation when nothing changed.
    Status status = self_cgroup_.read();
    if (!status.ok() || self_cgroup_.contents() != located_membership_) {
      if (status = locate(); !status.ok()) return status;
      just_located = true;
    }
  }
  Status status = read_located(out);
  // A file that vanished (the cgroup was removed, a controller disabled):
  // find the files again once before reporting a failure.
  if (!status.ok() && !just_located) {
    if (Status again = locate(); !again.ok()) return again;
    status = read_located(out);
  }
  return status;
}

Status read_cgroup(CgroupState& state, std::string_view /*primary*/, CgroupRead& out) { return state.read(out); }

namespace {

using derive_math::bytes;
using derive_math::hundredths;

enum Spec : std::size_t { kCpuLimit, kCpuUsed, kCpuUsedPercent, kMemoryLimit, kMemoryUsed, kMemoryUsedPercent };

constexpr SeriesSpec kSeries[] = {
    {"cgroup.cpu_limit_cores", "count", SeriesKind::gauge, "CPU quota of the agent's cgroup, in cores (no value: no quota)", 2},
    {"cgroup.cpu_used_cores", "count", SeriesKind::gauge, "CPU time the cgroup used per second, in cores", 2},
    {"cgroup.cpu_used_pct", "percent", SeriesKind::gauge, "CPU used, share of the cgroup's quota", 2},
    {"cgroup.memory_limit_bytes", "bytes", SeriesKind::gauge, "Memory limit of the agent's cgroup (no value: no limit)", 0},
    {"cgroup.memory_used_bytes", "bytes", SeriesKind::gauge, "Memory the cgroup uses, without inactive file cache (working set)", 0},
    {"cgroup.memory_used_pct", "percent", SeriesKind::gauge, "Memory used, share of the cgroup's limit", 2},
};
static_assert(std::size(kSeries) == kMemoryUsedPercent + 1);

constexpr StatefulFunctions<CgroupRead, CgroupState> kFunctions{.read = &read_cgroup, .derive = &derive_cgroup};

}  // namespace

void derive_cgroup(const CgroupRead* previous, const CgroupRead& current, const DeriveContext& context,
                   SeriesWriter& out) {
  if (current.cpu_limit_cores) out.set(kCpuLimit, hundredths(*current.cpu_limit_cores));
  if (previous != nullptr && previous->generation == current.generation && previous->cpu_usage_ns &&
      current.cpu_usage_ns) {
    // NaN when the counter went back or no time passed: no value, no spike.
    const double nanoseconds_per_second =
        derive_math::rate(*previous->cpu_usage_ns, *current.cpu_usage_ns, context.elapsed_s);
    if (std::isfinite(nanoseconds_per_second)) {
      const double cores = nanoseconds_per_second / kNanosecondsPerSecond;
      out.set(kCpuUsed, hundredths(cores));
      if (current.cpu_limit_cores && *current.cpu_limit_cores > 0) {
        out.set(kCpuUsedPercent, hundredths(100.0 * cores / *current.cpu_limit_cores));
      }
    }
  }
  if (current.memory_limit_bytes) out.set(kMemoryLimit, bytes(*current.memory_limit_bytes));
  if (current.memory_used_bytes) {
    out.set(kMemoryUsed, bytes(*current.memory_used_bytes));
    if (current.memory_limit_bytes && *current.memory_limit_bytes > 0) {
      out.set(kMemoryUsedPercent,
              hundredths(100.0 * bytes(*current.memory_used_bytes) / bytes(*current.memory_limit_bytes)));
    }
  }
}

SourceDefinition cgroup_source() {
  return {.name = "cgroup", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<CgroupRead, CgroupState, kFunctions>};
}

}  // namespace hostpulse
