#include "collectors/linux/filesystems.hpp"

#include <fcntl.h>
#include <linux/magic.h>  // PROC_SUPER_MAGIC
#include <poll.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>  // fstatfs
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>

#include "base/log.hpp"
#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::quote;
using SteadyClock = std::chrono::steady_clock;

// Workers left blocked inside statvfs at once. Each is a thread with its
// stack; more than a few dead NFS servers at once is a host to look at, not
// a reason to grow without bound. At the cap a stuck worker is not replaced.
constexpr std::size_t kMaxAbandonedWorkers = 4;
// Enough for any path the kernel accepts (PATH_MAX), so the worker's copy of
// a path never allocates.
constexpr std::size_t kPathBufferBytes = 4096;

constexpr std::array<std::string_view, 24> kPseudoTypes = {
    "autofs",  "binfmt_misc", "bpf",     "cgroup",     "cgroup2",    "configfs", "debugfs",   "devpts",
    "devtmpfs", "fusectl",    "hugetlbfs", "iso9660",  "mqueue",     "nsfs",     "overlay",   "proc",
    "procfs",  "pstore",      "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",    "tracefs",
};

Status line_error(std::size_t line, std::string_view message) {
  return Status::failure("mountinfo: line " + std::to_string(line) + ": " + std::string(message));
}

bool parse_u32(std::string_view token, std::uint32_t& value) {
  return procfs_text::parse_unsigned(token, value) == procfs_text::NumberError::none;
}

bool has_option(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    if (options.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

// The fields of one line, still escaped.
struct MountLine {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string_view mount_point;
  std::string_view options;
  std::string_view fs_type;
  std::string_view source;
  std::string_view super_options;
};

Status split_line(std::string_view line, std::size_t number, MountLine& out) {
  std::uint32_t id = 0;
  std::uint32_t parent = 0;
  const std::string_view id_token = next_field(line);
  if (!parse_u32(id_token, id)) return line_error(number, "mount id: expected a number, got " + quote(id_token));
  const std::string_view parent_token = next_field(line);
  if (!parse_u32(parent_token, parent)) {
    return line_error(number, "parent id: expected a number, got " + quote(parent_token));
  }
  const std::string_view device = next_field(line);
  const std::size_t colon = device.find(':');
  if (colon == std::string_view::npos || !parse_u32(device.substr(0, colon), out.major) ||
      !parse_u32(device.substr(colon + 1), out.minor)) {
    return line_error(number, "expected major:minor, got " + quote(device));
  }
  if (next_field(line).empty()) return line_error(number, "root missing");
  out.mount_point = next_field(line);
  if (out.mount_point.empty() || out.mount_point.front() != '/') {
    return line_error(number, "mount point must be an absolute path, got " + quote(out.mount_point));
  }
  out.options = next_field(line);
  if (out.options.empty()) return line_error(number, "mount options missing");
  // Optional fields ("shared:1 master:2") up to the lone "-".
  for (;;) {
    const std::string_view field = next_field(line);
    if (field.empty()) return line_error(number, "no \"-\" separator before the filesystem type");
    if (field == "-") break;
  }
  out.fs_type = next_field(line);
  out.source = next_field(line);
  out.super_options = next_field(line);
  if (out.fs_type.empty() || out.source.empty() || out.super_options.empty()) {
    return line_error(number, "expected filesystem type, source and super options after \"-\"");
  }
  if (const std::string_view extra = next_field(line); !extra.empty()) {
    return line_error(number, "unexpected " + quote(extra) + " after the super options");
  }
  return Status::success();
}

bool starts_with_component(std::string_view path, std::string_view prefix) {
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace

bool is_pseudo_filesystem(std::string_view fs_type) {
  return std::find(kPseudoTypes.begin(), kPseudoTypes.end(), fs_type) != kPseudoTypes.end();
}

bool is_excluded_mount_point(std::string_view mount_point) {
  for (const std::string_view whole : {"/dev", "/proc", "/sys"}) {
    if (starts_with_component(mount_point, whole)) return true;
  }
  // "prefix/.+": the storage directories themselves stay, what is mounted
  // below them (container layers and volumes) goes.
  for (const std::string_view below : {"/run/credentials/", "/var/lib/docker/", "/var/lib/containers/storage/"}) {
    if (mount_point.starts_with(below) && mount_point.size() > below.size()) return true;
  }
  return false;
}

bool decode_mount_path(std::string_view escaped, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      out += escaped[i];
      continue;
    }
    if (escaped.size() - i < 4) return false;
    unsigned value = 0;
    for (std::size_t digit = 1; digit <= 3; ++digit) {
      const char c = escaped[i + digit];
      if (c < '0' || c > '7') return false;
      value = value * 8 + static_cast<unsigned>(c - '0');
    }
    if (value > 0xff) return false;
    out += static_cast<char>(value);
    i += 3;
  }
  return true;
}

Status parse_mountinfo(std::string_view text, MountTable& out) {
  out.count = 0;
  out.lines = 0;
  out.excluded_type = out.excluded_point = out.duplicates = out.too_long = out.over_cap = 0;
  if (Status complete = procfs_text::check_complete(text, "mountinfo"); !complete.ok()) return complete;

  procfs_text::LineCursor lines(text);
  std::string_view line;
  MountLine fields;
  std::string& decoded = out.scratch;
  while (lines.next(line)) {
    const std::size_t number = lines.line_number();
    ++out.lines;
    if (Status status = split_line(line, number, fields); !status.ok()) return status;
    if (!decode_mount_path(fields.mount_point, decoded)) {
      return line_error(number, "bad escape in mount point " + quote(fields.mount_point));
    }
    if (is_pseudo_filesystem(fields.fs_type)) {
      ++out.excluded_type;
      continue;
    }
    if (decoded.size() > kMaxMountPointBytes) {
      ++out.too_long;
      continue;
    }
    if (is_excluded_mount_point(decoded)) {
      ++out.excluded_point;
      continue;
    }
    const auto kept_end = out.entries.begin() + static_cast<std::ptrdiff_t>(out.count);
    const auto same_device = std::find_if(out.entries.begin(), kept_end, [&fields](const MountEntry& kept) {
      return kept.major == fields.major && kept.minor == fields.minor;
    });
    if (same_device != kept_end) {
      ++out.duplicates;
      // The same filesystem again (a bind mount): the shorter mount point
      // names it ("/home" rather than its bind mount "/srv/www/home").
      if (decoded.size() < same_device->mount_point.size()) same_device->mount_point.assign(decoded);
      continue;
    }
    if (out.count == kMaxMounts) {
      ++out.over_cap;
      continue;
    }
    if (out.count == out.entries.size()) out.entries.emplace_back();
    MountEntry& entry = out.entries[out.count];
    if (!decode_mount_path(fields.source, entry.source)) {
      return line_error(number, "bad escape in source " + quote(fields.source));
    }
    entry.mount_point.assign(decoded);
    entry.fs_type.assign(fields.fs_type);
    entry.major = fields.major;
    entry.minor = fields.minor;
    // The filesystem's own flag (the super options), not this mount's: the
    // packaged unit's ProtectSystem=strict, and a container's ":ro" bind of
    // the host's root, make every mount the agent sees read-only, while
    // the super options still say whether the filesystem itself is (mounted
    // ro, or remounted ro after errors).
    entry.readonly = has_option(fields.super_options, "ro");
    ++out.count;
  }
  return Status::success();
}

// The thread that runs the stat calls, and what it shares with the sampler.
// Held by shared_ptr from both sides: a worker abandoned inside a stuck call
// keeps it alive until the call returns, long after the source may be gone.
class StatWorker {
 public:
  struct Job {
    std::string mount_point;
    std::string host_path;
    std::string source{};   // for the Prometheus labels; capacity reused
    std::string fs_type{};
    bool readonly_option = false;
    // Answered for this mount point, in this round or an earlier one: a
    // slow but live server whose answer is not in yet shows the last one
    // rather than a gap.
    bool has_result = false;
    int error = 0;
    FilesystemUsage usage;
  };

  explicit StatWorker(FilesystemStatFunction stat) : stat_(std::move(stat)) {}

  // Runs on the worker thread until stop() (and any call in progress) ends.
  static void run(const std::shared_ptr<StatWorker>& self) {
    std::string path;
    path.reserve(kPathBufferBytes);
    std::unique_lock lock(self->mutex);
    while (!self->stopping) {
      if (self->next >= self->job_count) {
        self->wake.wait(lock);
        continue;
      }
      const std::size_t index = self->next++;
      path.assign(self->jobs[index].host_path);
      self->in_call = true;
      self->call_index = index;
      self->call_started = SteadyClock::now();
      lock.unlock();
      FilesystemUsage usage;
      int error = 0;
      try {
        error = self->stat_(path.c_str(), usage);
      } catch (...) {
        error = EIO;  // an exception must not end the thread (or the process)
      }
      lock.lock();
      self->in_call = false;
      Job& job = self->jobs[index];
      job.usage = usage;
      job.error = error;
      job.has_result = true;
      ++self->finished_count;
      self->finished.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
  }

  std::mutex mutex;
  std::condition_variable wake;      // a round was handed over, or stop
  std::condition_variable finished;  // a job finished
  std::vector<Job> jobs;             // the round's jobs; capacity and strings reused
  std::size_t job_count = 0;
  std::size_t next = 0;
  std::size_t finished_count = 0;
  bool in_call = false;
  std::size_t call_index = 0;
  SteadyClock::time_point call_started{};
  bool stopping = false;
  std::thread thread;

  [[nodiscard]] bool idle() const { return finished_count == job_count; }

 private:
  FilesystemStatFunction stat_;
};

namespace {

int statvfs_usage(const char* path, FilesystemUsage& out) {
  struct statvfs result {};
  if (::statvfs(path, &result) != 0) return errno;
  out = FilesystemUsage{.fragment_bytes = result.f_frsize,
                        .blocks = result.f_blocks,
                        .blocks_free = result.f_bfree,
                        .blocks_available = result.f_bavail,
                        .files = result.f_files,
                        .files_free = result.f_ffree};
  return 0;
}

std::string mountinfo_path(const HostPaths& paths) {
  // Watching a host from a container: the agent's own mount table is the
  // container's, the host's is its init's.
  return paths.proc_file(paths.foreign_root() ? "1/mountinfo" : "self/mountinfo");
}

// A descriptor on the mount table to poll() for changes, or -1 when the
// file is not procfs's (a fake tree's regular file never signals one).
int open_mount_table_watch(const std::string& path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (descriptor < 0) return -1;
  struct statfs info {};
  if (::fstatfs(descriptor, &info) != 0 || info.f_type != PROC_SUPER_MAGIC) {
    ::close(descriptor);
    return -1;
  }
  return descriptor;
}

}  // namespace

FilesystemsState::FilesystemsState(const SourceSettings& settings)
    : paths_(settings.paths),
      options_(settings.filesystems),
      mountinfo_(mountinfo_path(settings.paths)),
      mountinfo_watch_(open_mount_table_watch(mountinfo_.path())) {
  if (!options_.stat) options_.stat = &statvfs_usage;
  abandoned_.reserve(kMaxAbandonedWorkers);
}

FilesystemsState::~FilesystemsState() {
  if (mountinfo_watch_ >= 0) ::close(mountinfo_watch_);
  if (worker_ == nullptr) return;
  worker_->stop();
  bool in_call = false;
  {
    std::lock_guard lock(worker_->mutex);
    in_call = worker_->in_call;
  }
  // A worker inside a call may never come back: it owns what it touches
  // (through its shared_ptr), so it is left to finish on its own.
  if (in_call) {
    worker_->thread.detach();
  } else {
    worker_->thread.join();
  }
  for (Abandoned& abandoned : abandoned_) abandoned.worker->stop();
}

Status FilesystemsState::start_worker() {
  auto worker = std::make_shared<StatWorker>(options_.stat);
  try {
    worker->thread = std::thread([worker] { StatWorker::run(worker); });
  } catch (const std::system_error& error) {
    return Status::failure(std::string("filesystems: cannot start the statvfs worker: ") + error.what());
  }
  worker_ = std::move(worker);
  return Status::success();
}

bool FilesystemsState::is_stuck(std::string_view mount_point) const {
  return std::any_of(abandoned_.begin(), abandoned_.end(),
                     [mount_point](const Abandoned& abandoned) { return abandoned.mount_point == mount_point; });
}

void FilesystemsState::forget_returned() {
  const std::size_t erased = std::erase_if(abandoned_, [](const Abandoned& abandoned) {
    std::lock_guard lock(abandoned.worker->mutex);
    if (abandoned.worker->in_call) return false;
    spdlog::info("filesystems: statvfs on {} returned; measuring it again", quote(abandoned.mount_point));
    return true;
  });
  // Measured at the next hand-over, not up to a whole period later.
  if (erased > 0) round_due_ = true;
}

bool FilesystemsState::table_may_have_changed() const {
  if (!table_parsed_ || mountinfo_watch_ < 0) return true;
  pollfd watch{.fd = mountinfo_watch_, .events = POLLPRI, .revents = 0};
  if (::poll(&watch, 1, 0) < 0) return true;
  return (watch.revents & (POLLPRI | POLLERR | POLLNVAL)) != 0;
}

// Reads mountinfo when it may have changed (or a round is due) and parses it
// when its text did: a steady tick neither reads nor parses it.
Status FilesystemsState::refresh_table(bool round_due) {
  if (!round_due && !table_may_have_changed()) return Status::success();
  ++mount_table_reads_;
  if (Status status = mountinfo_.read(); !status.ok()) {
    table_parsed_ = false;
    // Every Linux since 2.6.26 has it; a procfs without it is a test's or a
    // container's partial copy: nothing to measure, not a fault.
    if (mountinfo_.missing()) {
      return Status::absent(mountinfo_.path() + " not present (no mount table to read)");
    }
    return status;
  }
  if (table_parsed_ && mountinfo_.contents() == parsed_text_) return Status::success();
  ++mount_table_parses_;
  if (Status status = parse_mountinfo(mountinfo_.contents(), table_); !status.ok()) {
    table_parsed_ = false;
    status.error.insert(0, mountinfo_.path() + ": ");
    return status;
  }
  parsed_text_.assign(mountinfo_.contents());
  table_parsed_ = true;
  // New mounts are measured at once, gone ones dropped.
  round_due_ = true;
  return Status::success();
}

namespace {

// A mount whose statvfs failed or is stuck, for node_filesystem_device_error.
void keep_failed(std::string_view mount_point, std::string_view source, std::string_view fs_type, bool readonly,
                 Filesystems& out) {
  if (out.failed_count == out.failed_mounts.size()) out.failed_mounts.emplace_back();
  FilesystemReading& reading = out.failed_mounts[out.failed_count++];
  reading.mount_point.assign(mount_point);
  reading.device.assign(source);
  reading.fs_type.assign(fs_type);
  reading.readonly = readonly;
  reading.has_usage = false;
}

}  // namespace

// The worker is idle (or new): gives it this read's mounts.
void FilesystemsState::hand_over() {
  StatWorker& worker = *worker_;
  std::lock_guard lock(worker.mutex);
  std::size_t count = 0;
  for (const MountEntry& entry : table_.mounts()) {
    if (is_stuck(entry.mount_point)) continue;
    if (count == worker.jobs.size()) worker.jobs.emplace_back();
    StatWorker::Job& job = worker.jobs[count++];
    if (job.mount_point != entry.mount_point) {
      job.mount_point.assign(entry.mount_point);
      job.host_path = paths_.root_file(entry.mount_point);  // only when the mount changes
      job.has_result = false;
    }
    job.readonly_option = entry.readonly;
    job.source.assign(entry.source);
    job.fs_type.assign(entry.fs_type);
  }
  worker.job_count = count;
  worker.next = 0;
  worker.finished_count = 0;
  worker.wake.notify_one();
  round_due_ = false;
  reads_until_round_ = kStatvfsEveryReads - 1;
}

Status FilesystemsState::read(Filesystems& out) {
  out.count = 0;
  out.stuck = 0;
  out.failed = 0;
  out.failed_count = 0;
  if (reads_until_round_ == 0) {
    round_due_ = true;
  } else {
    --reads_until_round_;
  }
  if (Status status = refresh_table(round_due_); !status.ok()) return status;
  forget_returned();
  if (worker_ == nullptr) {
    if (Status status = start_worker(); !status.ok()) return status;
  }

  const auto now = SteadyClock::now();
  bool replace = false;
  bool idle = false;
  {
    std::lock_guard lock(worker_->mutex);
    idle = worker_->idle();
    if (!idle && worker_->in_call && now - worker_->call_started >= options_.stat_timeout) {
      if (abandoned_.size() < kMaxAbandonedWorkers) {
        replace = true;
        abandoned_.push_back({.worker = worker_, .mount_point = worker_->jobs[worker_->call_index].mount_point});
      } else {
        std::string problem = "statvfs stuck on " + std::to_string(abandoned_.size() + 1) +
                              " mounts; not replacing the worker (at most " +
                              std::to_string(kMaxAbandonedWorkers) + " abandoned)";
        // Said once per change, not every tick.
        if (problem != problem_) spdlog::warn("filesystems: {}", problem);
        problem_ = std::move(problem);
      }
    }
  }
  if (replace) {
    StatWorker& stuck = *abandoned_.back().worker;
    stuck.stop();
    stuck.thread.detach();
    problem_ = "statvfs stuck on " + quote(abandoned_.back().mount_point) + " (no answer in " +
               std::to_string(options_.stat_timeout.count()) + " ms); not asked until it returns";
    spdlog::warn("filesystems: {}", problem_);
    worker_.reset();
    if (Status status = start_worker(); !status.ok()) return status;
    idle = true;
    // The new worker takes over the rest of the round at once.
    round_due_ = true;
  }
  if (idle && round_due_) hand_over();

  std::unique_lock lock(worker_->mutex);
  worker_->finished.wait_until(lock, now + options_.result_wait, [this] { return worker_->idle(); });
  const bool hung = !worker_->idle() && worker_->in_call &&
                    SteadyClock::now() - worker_->call_started >= options_.stat_timeout;
  // A stuck worker that cannot be replaced holds answers of a round that may
  // be minutes old: none is better than a stale value. One that will be
  // replaced next tick still holds this round's.
  if (!hung || abandoned_.size() < kMaxAbandonedWorkers) {
    for (std::size_t i = 0; i < worker_->job_count; ++i) {
      const StatWorker::Job& job = worker_->jobs[i];
      if (!job.has_result) continue;
      if (job.error != 0) {
        ++out.failed;
        keep_failed(job.mount_point, job.source, job.fs_type, job.readonly_option, out);
        continue;
      }
      if (out.count == out.mounts.size()) out.mounts.emplace_back();
      FilesystemReading& reading = out.mounts[out.count++];
      reading.mount_point.assign(job.mount_point);
      reading.usage = job.usage;
      reading.has_usage = true;
      reading.readonly = job.readonly_option;
      reading.device.assign(job.source);
      reading.fs_type.assign(job.fs_type);
    }
  }
  lock.unlock();
  // node_exporter reports a mount stuck in statvfs as a device error too.
  if (!abandoned_.empty()) {
    for (const MountEntry& entry : table_.mounts()) {
      if (is_stuck(entry.mount_point)) keep_failed(entry.mount_point, entry.source, entry.fs_type, entry.readonly, out);
    }
  }
  out.stuck = abandoned_.size() + (hung ? 1 : 0);
  if (out.stuck == 0) problem_.clear();
  return Status::success();
}

std::size_t FilesystemsState::abandoned_workers() {
  forget_returned();
  return abandoned_.size();
}

std::vector<std::string> FilesystemsState::stuck_mount_points() {
  forget_returned();
  std::vector<std::string> points;
  for (const Abandoned& abandoned : abandoned_) points.push_back(abandoned.mount_point);
  return points;
}

namespace {

using derive_math::hundredths;
using derive_math::kNoValue;

enum Spec : std::size_t { kSize, kUsed, kAvail, kUsedPct, kInodesUsedPct, kReadonly, kStuck };

constexpr SeriesSpec kSeries[] = {
    {"fs.{mount}.size_bytes", "bytes", SeriesKind::gauge, "Size of the filesystem (statvfs f_blocks)", 0},
    {"fs.{mount}.used_bytes", "bytes", SeriesKind::gauge, "Used: size minus free (f_bfree)", 0},
    {"fs.{mount}.avail_bytes", "bytes", SeriesKind::gauge,
     "Available to unprivileged users (f_bavail: without the root reserve)", 0},
    {"fs.{mount}.used_pct", "percent", SeriesKind::gauge, "Used of used + available, as df shows it", 2},
    {"fs.{mount}.inodes_used_pct", "percent", SeriesKind::gauge, "Inodes in use (none when it has no inode count)",
     2},
    {"fs.{mount}.readonly", "bool", SeriesKind::gauge, "1 when the filesystem is read-only (ro in its super options)", 0},
    {"fs.stuck_mounts", "count", SeriesKind::gauge,
     "Mounts whose statvfs did not return in time (a dead NFS server): not measured until it does", 0},
};
static_assert(std::size(kSeries) == kStuck + 1);

// node_exporter's filesystem collector.
namespace metric {
enum : std::size_t { kSize, kFree, kAvail, kFiles, kFilesFree, kReadonly, kDeviceError };
}
constexpr MetricSpec kMetrics[] = {
    {"node_filesystem_size_bytes", MetricType::gauge, "Filesystem size in bytes.", {"device", "fstype", "mountpoint"}},
    {"node_filesystem_free_bytes", MetricType::gauge, "Filesystem free space in bytes.",
     {"device", "fstype", "mountpoint"}},
    {"node_filesystem_avail_bytes", MetricType::gauge, "Filesystem space available to non-root users in bytes.",
     {"device", "fstype", "mountpoint"}},
    {"node_filesystem_files", MetricType::gauge, "Filesystem total file nodes.", {"device", "fstype", "mountpoint"}},
    {"node_filesystem_files_free", MetricType::gauge, "Filesystem total free file nodes.",
     {"device", "fstype", "mountpoint"}},
    {"node_filesystem_readonly", MetricType::gauge, "Filesystem read-only status.",
     {"device", "fstype", "mountpoint"}},
    {"node_filesystem_device_error", MetricType::gauge,
     "Whether an error occurred while getting statistics for the given device.", {"device", "fstype", "mountpoint"}},
};
static_assert(std::size(kMetrics) == metric::kDeviceError + 1);

constexpr StatefulFunctions<Filesystems, FilesystemsState> kFunctions{
    .read = [](FilesystemsState& state, std::string_view /*primary*/, Filesystems& out) { return state.read(out); },
    .derive = &derive_filesystems,
    .contribute = nullptr,
    .expose = &expose_filesystems,
};

// value * unit, or nothing when a hostile or broken statvfs makes it overflow.
bool scaled(std::uint64_t value, std::uint64_t unit, double& out) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(value, unit, &product)) return false;
  out = static_cast<double>(product);
  return true;
}

}  // namespace

void derive_filesystems(const Filesystems* /*previous*/, const Filesystems& current, const DeriveContext& /*context*/,
                        SeriesWriter& out) {
  out.set(kStuck, static_cast<double>(current.stuck));
  for (const FilesystemReading& reading : current.readings()) {
    const EntityHandle mount = out.entity("mount", reading.mount_point);
    if (!mount.valid()) continue;
    out.set(mount, kReadonly, reading.readonly ? 1.0 : 0.0);
    if (!reading.has_usage) continue;
    const FilesystemUsage& usage = reading.usage;
    double size = 0;
    double free = 0;
    double avail = 0;
    // Free beyond size, or available beyond free, is no filesystem's state.
    if (usage.blocks_free > usage.blocks || usage.blocks_available > usage.blocks_free ||
        !scaled(usage.blocks, usage.fragment_bytes, size) || !scaled(usage.blocks_free, usage.fragment_bytes, free) ||
        !scaled(usage.blocks_available, usage.fragment_bytes, avail)) {
      continue;
    }
    const double used = size - free;
    out.set(mount, kSize, size);
    out.set(mount, kUsed, used);
    out.set(mount, kAvail, avail);
    out.set(mount, kUsedPct, used + avail > 0 ? hundredths(used / (used + avail) * 100.0) : kNoValue);
    if (usage.files > 0 && usage.files_free <= usage.files) {
      out.set(mount, kInodesUsedPct,
              hundredths(static_cast<double>(usage.files - usage.files_free) / static_cast<double>(usage.files) *
                         100.0));
    }
  }
}

SourceDefinition filesystems_source() {
  return {.name = "filesystems", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<Filesystems, FilesystemsState, kFunctions>, .metrics = kMetrics};
}

void expose_filesystems(const Filesystems& current, MetricWriter& out) {
  for (const FilesystemReading& reading : current.readings()) {
    const std::initializer_list<std::string_view> labels = {reading.device, reading.fs_type, reading.mount_point};
    const FilesystemUsage& usage = reading.usage;
    double size = 0;
    double free = 0;
    double avail = 0;
    // node_exporter multiplies by f_bsize; statvfs's unit for the block
    // counts is f_frsize, which Linux sets to the same value.
    const bool sizes = scaled(usage.blocks, usage.fragment_bytes, size) &&
                       scaled(usage.blocks_free, usage.fragment_bytes, free) &&
                       scaled(usage.blocks_available, usage.fragment_bytes, avail);
    out.sample(metric::kDeviceError, labels, sizes ? 0.0 : 1.0);
    out.sample(metric::kReadonly, labels, reading.readonly ? 1.0 : 0.0);
    if (!sizes) continue;
    out.sample(metric::kSize, labels, size);
    out.sample(metric::kFree, labels, free);
    out.sample(metric::kAvail, labels, avail);
    out.sample(metric::kFiles, labels, static_cast<double>(usage.files));
    out.sample(metric::kFilesFree, labels, static_cast<double>(usage.files_free));
  }
  // statvfs failed (EACCES under a sandbox, a mount gone since mountinfo) or
  // is stuck: node_exporter says device_error 1 and gives the read-only flag only.
  for (const FilesystemReading& reading : current.failures()) {
    const std::initializer_list<std::string_view> labels = {reading.device, reading.fs_type, reading.mount_point};
    out.sample(metric::kDeviceError, labels, 1.0);
    out.sample(metric::kReadonly, labels, reading.readonly ? 1.0 : 0.0);
  }
}

}  // namespace hostpulse
