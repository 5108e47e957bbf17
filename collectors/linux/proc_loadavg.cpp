#include "collectors/linux/proc_loadavg.hpp"

#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::describe;
using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

Status parse_load(std::string_view& rest, std::string_view what, double& load) {
  const std::string_view token = next_field(rest);
  if (const NumberError error = procfs_text::parse_non_negative_double(token, load);
      error != NumberError::none) {
    return Status::failure("loadavg: " + std::string(what) + ": " + describe(error, token, "a double"));
  }
  return Status::success();
}

Status parse_count(std::string_view token, std::string_view what, std::uint32_t& count) {
  if (const NumberError error = procfs_text::parse_unsigned(token, count); error != NumberError::none) {
    return Status::failure("loadavg: " + std::string(what) + ": " + describe(error, token, "32 bits"));
  }
  return Status::success();
}

}  // namespace

Status parse_proc_loadavg(std::string_view text, LoadAvg& out) {
  if (Status complete = procfs_text::check_complete(text, "loadavg"); !complete.ok()) return complete;

  procfs_text::LineCursor lines(text);
  std::string_view rest;
  lines.next(rest);
  std::string_view after_first_line;
  if (lines.next(after_first_line)) {
    return Status::failure("loadavg: expected one line, found more after line 1");
  }

  if (Status status = parse_load(rest, "1-minute load", out.load_1m); !status.ok()) return status;
  if (Status status = parse_load(rest, "5-minute load", out.load_5m); !status.ok()) return status;
  if (Status status = parse_load(rest, "15-minute load", out.load_15m); !status.ok()) return status;

  // "1/80": tasks runnable now / tasks that exist.
  const std::string_view tasks = next_field(rest);
  const std::size_t slash = tasks.find('/');
  if (slash == std::string_view::npos) {
    return Status::failure("loadavg: expected runnable/total tasks, got " +
                           (tasks.empty() ? std::string("nothing") : quote(tasks)));
  }
  if (Status status = parse_count(tasks.substr(0, slash), "runnable tasks", out.tasks_runnable); !status.ok()) {
    return status;
  }
  if (Status status = parse_count(tasks.substr(slash + 1), "total tasks", out.tasks_total); !status.ok()) {
    return status;
  }

  // Every kernel since 2.6 prints it, so its absence means a damaged file.
  const std::string_view last_pid = next_field(rest);
  if (last_pid.empty()) return Status::failure("loadavg: last pid missing");
  if (Status status = parse_count(last_pid, "last pid", out.last_pid); !status.ok()) return status;

  if (const std::string_view extra = next_field(rest); !extra.empty()) {
    return Status::failure("loadavg: unexpected " + quote(extra) + " after the last pid");
  }
  return Status::success();
}

}  // namespace hostpulse

namespace hostpulse {
namespace {

using derive_math::hundredths;

enum Spec : std::size_t { kLoad1, kLoad5, kLoad15, kLoad1PerCpu, kLoad5PerCpu, kLoad15PerCpu, kTasks };

// The kernel prints load averages to two decimals.
constexpr SeriesSpec kSeries[] = {
    {"load.1m", "load", SeriesKind::gauge, "Load average over 1 minute", 2},
    {"load.5m", "load", SeriesKind::gauge, "Load average over 5 minutes", 2},
    {"load.15m", "load", SeriesKind::gauge, "Load average over 15 minutes", 2},
    {"load.1m_per_cpu", "load", SeriesKind::gauge, "1-minute load divided by the CPUs online", 2},
    {"load.5m_per_cpu", "load", SeriesKind::gauge, "5-minute load divided by the CPUs online", 2},
    {"load.15m_per_cpu", "load", SeriesKind::gauge, "15-minute load divided by the CPUs online", 2},
    {"procs.total", "count", SeriesKind::gauge, "Tasks in existence", 0},
};
static_assert(std::size(kSeries) == kTasks + 1);

// node_exporter's loadavg collector.
constexpr MetricSpec kMetrics[] = {
    {"node_load1", MetricType::gauge, "1m load average.", {}},
    {"node_load5", MetricType::gauge, "5m load average.", {}},
    {"node_load15", MetricType::gauge, "15m load average.", {}},
};

constexpr SourceFunctions<LoadAvg> kFunctions{&parse_proc_loadavg, &derive_proc_loadavg, nullptr, &expose_proc_loadavg};

}  // namespace

void derive_proc_loadavg(const LoadAvg* /*previous*/, const LoadAvg& current, const DeriveContext& context,
                         SeriesWriter& out) {
  out.set(kLoad1, current.load_1m);
  out.set(kLoad5, current.load_5m);
  out.set(kLoad15, current.load_15m);
  out.set(kTasks, current.tasks_total);
  // Per CPU online now (from this tick's /proc/stat).
  if (context.facts.cpus_online > 0) {
    const double cpus = static_cast<double>(context.facts.cpus_online);
    out.set(kLoad1PerCpu, hundredths(current.load_1m / cpus));
    out.set(kLoad5PerCpu, hundredths(current.load_5m / cpus));
    out.set(kLoad15PerCpu, hundredths(current.load_15m / cpus));
  }
}

SourceDefinition proc_loadavg_source() {
  return {.name = "proc_loadavg", .procfs_path = "loadavg", .series = kSeries,
          .create = &create_source<LoadAvg, kFunctions>, .required = true, .metrics = kMetrics};
}

void expose_proc_loadavg(const LoadAvg& current, MetricWriter& out) {
  out.sample(0, current.load_1m);
  out.sample(1, current.load_5m);
  out.sample(2, current.load_15m);
}

}  // namespace hostpulse
