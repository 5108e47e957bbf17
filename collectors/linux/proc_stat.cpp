#include "collectors/linux/proc_stat.hpp"

#include <bitset>
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
