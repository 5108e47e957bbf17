#include "collectors/linux/proc_stat.hpp"

#include <algorithm>
#include <bitset>
#include <charconv>
#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::describe;
using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::parse_unsigned;
using procfs_text::quote;

// 2.4 kernels printed user, nice, system, idle; fewer cannot be a cpu line.
constexpr std::size_t kMinCpuColumns = 4;

std::string line_prefix(std::size_t line_number) {
  return "stat line " + std::to_string(line_number) + ": ";
}

// Parses the columns after "cpu" / "cpuN". Columns past the ones we know
// (a future kernel's additions) are left unread, which also keeps this cheap.
Status parse_cpu_columns(std::string_view columns_text, std::string_view label,
                         std::size_t line_number, CpuTimes& times) {
  std::size_t column = 0;
  for (; column < kCpuStateCount; ++column) {
    const std::string_view token = next_field(columns_text);
    if (token.empty()) break;
    const NumberError error = parse_unsigned(token, times.jiffies[column]);
    if (error != NumberError::none) {
      return Status::failure(line_prefix(line_number) + std::string(label) + ": column " +
                             std::to_string(column + 1) + " (" + std::string(kCpuStateNames[column]) +
                             "): " + describe(error, token));
    }
  }
  if (column < kMinCpuColumns) {
    return Status::failure(line_prefix(line_number) + std::string(label) + ": expected at least " +
                           std::to_string(kMinCpuColumns) + " columns, got " + std::to_string(column));
  }
  for (std::size_t unreported = column; unreported < kCpuStateCount; ++unreported) {
    times.jiffies[unreported] = 0;
  }
  times.columns = static_cast<std::uint8_t>(column);
  return Status::success();
}

// ctxt, btime, processes, procs_running, procs_blocked: one number each.
template <typename Unsigned>
Status parse_single_value(std::string_view rest, std::string_view key, std::size_t line_number,
                          std::string_view target, Unsigned& value) {
  const std::string_view token = next_field(rest);
  const NumberError error = parse_unsigned(token, value);
  if (error != NumberError::none) {
    return Status::failure(line_prefix(line_number) + std::string(key) + ": " +
                           describe(error, token, target));
  }
  const std::string_view extra = next_field(rest);
  if (!extra.empty()) {
    return Status::failure(line_prefix(line_number) + std::string(key) + ": unexpected " +
                           quote(extra) + " after the value");
  }
  return Status::success();
}

// Single-value lines we read; each may appear at most once.
enum class ScalarLine : std::uint8_t { ctxt, btime, processes, procs_running, procs_blocked };
constexpr std::size_t kScalarLineCount = 5;

}  // namespace

Status parse_proc_stat(std::string_view text, ProcStat& out) {
  if (Status complete = procfs_text::check_complete(text, "stat"); !complete.ok()) return complete;

  out.cpus.clear();
  out.context_switches = 0;
  out.processes_forked = 0;
  out.procs_running = 0;
  out.procs_blocked = 0;
  out.boot_time_s = 0;

  // On the stack, so duplicate detection allocates nothing (1 KiB).
  std::bitset<kMaxCpuId + 1> cpu_seen;
  std::bitset<kScalarLineCount> scalar_seen;
  bool aggregate_seen = false;

  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_number = lines.line_number();
    std::string_view rest = line;
    const std::string_view key = next_field(rest);

    if (key.starts_with("cpu")) {
      if (key.size() == 3) {
        if (aggregate_seen) {
          return Status::failure(line_prefix(line_number) + "the aggregate cpu line appears twice");
        }
        aggregate_seen = true;
        if (Status status = parse_cpu_columns(rest, key, line_number, out.total); !status.ok()) {
          return status;
        }
        continue;
      }
      std::uint32_t cpu_id = 0;
      const NumberError id_error = parse_unsigned(key.substr(3), cpu_id);
      if (id_error != NumberError::none) {
        return Status::failure(line_prefix(line_number) + "bad CPU id in " + quote(key) + ": " +
                               describe(id_error, key.substr(3), "32 bits"));
      }
      if (cpu_id > kMaxCpuId) {
        return Status::failure(line_prefix(line_number) + std::string(key) + ": CPU id above the maximum " +
                               std::to_string(kMaxCpuId));
      }
      if (cpu_seen.test(cpu_id)) {
        return Status::failure(line_prefix(line_number) + std::string(key) + " appears twice");
      }
      cpu_seen.set(cpu_id);
      CpuLine& cpu = out.cpus.emplace_back();
      cpu.cpu = cpu_id;
      if (Status status = parse_cpu_columns(rest, key, line_number, cpu.times); !status.ok()) {
        return status;
      }
      continue;
    }

    // intr and softirq lines run to thousands of numbers; they fall through
    // here after only their key was looked at.
    Status status;
    ScalarLine scalar{};
    if (key == "ctxt") {
      scalar = ScalarLine::ctxt;
      status = parse_single_value(rest, key, line_number, "64 bits", out.context_switches);
    } else if (key == "btime") {
      scalar = ScalarLine::btime;
      status = parse_single_value(rest, key, line_number, "64 bits", out.boot_time_s);
    } else if (key == "processes") {
      scalar = ScalarLine::processes;
      status = parse_single_value(rest, key, line_number, "64 bits", out.processes_forked);
    } else if (key == "procs_running") {
      scalar = ScalarLine::procs_running;
      status = parse_single_value(rest, key, line_number, "32 bits", out.procs_running);
    } else if (key == "procs_blocked") {
      scalar = ScalarLine::procs_blocked;
      status = parse_single_value(rest, key, line_number, "32 bits", out.procs_blocked);
    } else {
      continue;
    }
    if (!status.ok()) return status;
    const auto scalar_index = static_cast<std::size_t>(scalar);
    if (scalar_seen.test(scalar_index)) {
      return Status::failure(line_prefix(line_number) + std::string(key) + " appears twice");
    }
    scalar_seen.set(scalar_index);
  }

  if (!aggregate_seen) return Status::failure("stat: the aggregate cpu line is missing");

  // The kernel prints the same columns on every cpu line; a mismatch means
  // the text was spliced together from different sources.
  for (const CpuLine& cpu : out.cpus) {
    if (cpu.times.columns != out.total.columns) {
      return Status::failure("stat: cpu" + std::to_string(cpu.cpu) + " has " +
                             std::to_string(cpu.times.columns) + " columns but the aggregate cpu line has " +
                             std::to_string(out.total.columns));
    }
  }
  return Status::success();
}

}  // namespace hostpulse

namespace hostpulse {
namespace {

using derive_math::hundredths;
using derive_math::kNoValue;
using derive_math::rate;

constexpr int kPercent = 2;

// The CPU series in their fixed order: busy first, then the kernel's states
// in /proc/stat column order. Declared twice below: once for the whole host,
// once per CPU.
constexpr std::size_t kCpuSeriesPerCpu = 11;
#define HOSTPULSE_CPU_SERIES(prefix)                                                                             \
  {prefix "busy_pct", "percent", SeriesKind::gauge, "CPU time not idle and not waiting for I/O (100 - idle - iowait)", kPercent}, \
  {prefix "user_pct", "percent", SeriesKind::gauge, "CPU time in user mode (includes guest)", kPercent},                         \
  {prefix "nice_pct", "percent", SeriesKind::gauge, "CPU time in user mode at low priority (includes guest_nice)", kPercent},    \
  {prefix "system_pct", "percent", SeriesKind::gauge, "CPU time in the kernel", kPercent},                                       \
  {prefix "idle_pct", "percent", SeriesKind::gauge, "CPU time idle", kPercent},                                                  \
  {prefix "iowait_pct", "percent", SeriesKind::gauge, "CPU time idle while I/O was outstanding", kPercent},                      \
  {prefix "irq_pct", "percent", SeriesKind::gauge, "CPU time servicing hardware interrupts", kPercent},                          \
  {prefix "softirq_pct", "percent", SeriesKind::gauge, "CPU time servicing software interrupts", kPercent},                      \
  {prefix "steal_pct", "percent", SeriesKind::gauge, "CPU time stolen by the hypervisor", kPercent},                             \
  {prefix "guest_pct", "percent", SeriesKind::gauge, "CPU time running guests", kPercent},                                       \
  {prefix "guest_nice_pct", "percent", SeriesKind::gauge, "CPU time running low-priority guests", kPercent}

enum Spec : std::size_t {
  kTotalFirst = 0,
  kProcsRunning = kCpuSeriesPerCpu,
  kProcsBlocked,
  kContextSwitches,
  kForks,
  kPerCpuFirst,
};

constexpr SeriesSpec kSeries[] = {
    HOSTPULSE_CPU_SERIES("cpu."),
    {"procs.running", "count", SeriesKind::gauge, "Runnable tasks", 0},
    {"procs.blocked", "count", SeriesKind::gauge, "Tasks blocked on I/O", 0},
    {"system.context_switches_per_s", "per_second", SeriesKind::rate, "Context switches per second", kPercent},
    {"system.forks_per_s", "per_second", SeriesKind::rate, "Processes created per second", kPercent},
    HOSTPULSE_CPU_SERIES("cpu.{cpu}."),
};
#undef HOSTPULSE_CPU_SERIES
static_assert(std::size(kSeries) == kPerCpuFirst + kCpuSeriesPerCpu);

// Columns user..steal partition the CPU's time; guest columns are subsets.
constexpr std::size_t kPartitionColumns = 8;

std::uint64_t partition_sum(const CpuTimes& times) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kPartitionColumns; ++i) sum += times.jiffies[i];
  return sum;
}

using CpuValues = std::array<double, kCpuSeriesPerCpu>;

CpuValues derive_cpu(const CpuTimes& previous, const CpuTimes& current) {
  CpuValues out;
  out.fill(kNoValue);
  if (partition_sum(current) < partition_sum(previous)) return out;  // counters reset (e.g. CPU replaced)
  std::array<double, kCpuStateCount> delta{};
  double total = 0;
  for (std::size_t i = 0; i < kCpuStateCount; ++i) {
    const std::uint64_t before = previous.jiffies[i];
    const std::uint64_t after = current.jiffies[i];
    delta[i] = after > before ? static_cast<double>(after - before) : 0.0;
    if (i < kPartitionColumns) total += delta[i];
  }
  if (total <= 0) return out;
  for (std::size_t i = 0; i < kCpuStateCount; ++i) {
    out[1 + i] = hundredths(std::min(100.0, 100.0 * delta[i] / total));
  }
  const double idle = 100.0 * delta[static_cast<std::size_t>(CpuState::idle)] / total;
  const double iowait = 100.0 * delta[static_cast<std::size_t>(CpuState::iowait)] / total;
  out[0] = hundredths(std::clamp(100.0 - idle - iowait, 0.0, 100.0));
  return out;
}

const CpuLine* find_cpu(const std::vector<CpuLine>& cpus, std::uint32_t id, std::size_t hint) {
  // The kernel lists CPUs in ascending order, so the hint almost always hits.
  if (hint < cpus.size() && cpus[hint].cpu == id) return &cpus[hint];
  for (const CpuLine& line : cpus) {
    if (line.cpu == id) return &line;
  }
  return nullptr;
}

void contribute_proc_stat(const ProcStat& current, HostFacts& facts) { facts.cpus_online = current.cpus.size(); }

// node_exporter's cpu and stat collectors.
namespace metric {
enum : std::size_t { kCpuSeconds, kCpuGuestSeconds, kBootTime, kContextSwitches, kForks, kProcsRunning, kProcsBlocked };
}
constexpr MetricSpec kMetrics[] = {
    {"node_cpu_seconds_total", MetricType::counter, "Seconds the CPUs spent in each mode.", {"cpu", "mode"}},
    {"node_cpu_guest_seconds_total", MetricType::counter, "Seconds the CPUs spent in guests (VMs) for each mode.",
     {"cpu", "mode"}},
    {"node_boot_time_seconds", MetricType::gauge, "Node boot time, in unixtime.", {}},
    {"node_context_switches_total", MetricType::counter, "Total number of context switches.", {}},
    {"node_forks_total", MetricType::counter, "Total number of forks.", {}},
    {"node_procs_running", MetricType::gauge, "Number of processes in runnable state.", {}},
    {"node_procs_blocked", MetricType::gauge, "Number of processes blocked waiting for I/O to complete.", {}},
};

constexpr SourceFunctions<ProcStat> kFunctions{&parse_proc_stat, &derive_proc_stat, &contribute_proc_stat,
                                               &expose_proc_stat};

}  // namespace

void derive_proc_stat(const ProcStat* previous, const ProcStat& current, const DeriveContext& context,
                      SeriesWriter& out) {
  if (previous != nullptr) {
    const CpuValues total = derive_cpu(previous->total, current.total);
    out.set_all(kTotalFirst, total);
    out.set(kContextSwitches, rate(previous->context_switches, current.context_switches, context.elapsed_s));
    out.set(kForks, rate(previous->processes_forked, current.processes_forked, context.elapsed_s));
  }
  out.set(kProcsRunning, current.procs_running);
  out.set(kProcsBlocked, current.procs_blocked);
  // Every CPU listed is online now; one that was not in the previous read
  // has its series but no values until the next tick.
  for (std::size_t index = 0; index < current.cpus.size(); ++index) {
    const CpuLine& line = current.cpus[index];
    char key[16];
    const auto written = std::to_chars(key, key + sizeof key, line.cpu);
    const EntityHandle cpu = out.entity("cpu", std::string_view(key, static_cast<std::size_t>(written.ptr - key)));
    if (!cpu.valid() || previous == nullptr) continue;
    const CpuLine* before = find_cpu(previous->cpus, line.cpu, index);
    if (before == nullptr) continue;
    out.set_all(cpu, kPerCpuFirst, derive_cpu(before->times, line.times));
  }
}

SourceDefinition proc_stat_source() {
  return {.name = "proc_stat", .procfs_path = "stat", .series = kSeries,
          .create = &create_source<ProcStat, kFunctions>, .required = true, .metrics = kMetrics};
}

void expose_proc_stat(const ProcStat& current, MetricWriter& out) {
  // USER_HZ is 100 on every Linux (the kernel fixes it for user space).
  constexpr double kUserHz = 100.0;
  // node_exporter's modes: the eight states that sum to the CPU's time.
  constexpr CpuState kModes[] = {CpuState::idle,    CpuState::iowait, CpuState::irq,    CpuState::nice,
                                 CpuState::softirq, CpuState::steal,  CpuState::system, CpuState::user};
  for (const CpuLine& line : current.cpus) {
    const NumberLabel cpu(line.cpu);
    for (const CpuState mode : kModes) {
      if (static_cast<std::size_t>(mode) >= line.times.columns) continue;
      out.sample(metric::kCpuSeconds, {cpu.view(), kCpuStateNames[static_cast<std::size_t>(mode)]},
                 static_cast<double>(line.times[mode]) / kUserHz);
    }
    if (line.times.columns > static_cast<std::size_t>(CpuState::guest)) {
      out.sample(metric::kCpuGuestSeconds, {cpu.view(), "user"}, static_cast<double>(line.times[CpuState::guest]) / kUserHz);
    }
    if (line.times.columns > static_cast<std::size_t>(CpuState::guest_nice)) {
      out.sample(metric::kCpuGuestSeconds, {cpu.view(), "nice"},
                 static_cast<double>(line.times[CpuState::guest_nice]) / kUserHz);
    }
  }
  out.sample(metric::kBootTime, static_cast<double>(current.boot_time_s));
  out.sample(metric::kContextSwitches, static_cast<double>(current.context_switches));
  out.sample(metric::kForks, static_cast<double>(current.processes_forked));
  out.sample(metric::kProcsRunning, current.procs_running);
  out.sample(metric::kProcsBlocked, current.procs_blocked);
}

}  // namespace hostpulse
