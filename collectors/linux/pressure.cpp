#include "collectors/linux/pressure.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::describe;
using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

// Averages are shares of wall time: anything above 100 is a damaged file.
constexpr double kMaxAveragePercent = 100.0;

std::string line_prefix(std::string_view file_name, std::size_t line_number) {
  return "pressure/" + std::string(file_name) + " line " + std::to_string(line_number) + ": ";
}

enum Key : std::size_t { kAvg10, kAvg60, kAvg300, kTotal, kKeyCount };
constexpr std::string_view kKeys[kKeyCount] = {"avg10", "avg60", "avg300", "total"};

Status parse_line(std::string_view rest, std::string_view file_name, std::size_t line_number,
                  PressureLine& out) {
  std::array<bool, kKeyCount> seen{};
  double* const averages[] = {&out.avg10_pct, &out.avg60_pct, &out.avg300_pct};
  for (std::string_view pair = next_field(rest); !pair.empty(); pair = next_field(rest)) {
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return Status::failure(line_prefix(file_name, line_number) + "expected key=value, got " + quote(pair));
    }
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value = pair.substr(equals + 1);
    std::size_t index = 0;
    while (index < kKeyCount && kKeys[index] != key) ++index;
    if (index == kKeyCount) continue;  // a key a later kernel may add
    if (seen[index]) {
      return Status::failure(line_prefix(file_name, line_number) + std::string(key) + " appears twice");
    }
    seen[index] = true;
    if (index == kTotal) {
      if (const NumberError error = procfs_text::parse_unsigned(value, out.total_us); error != NumberError::none) {
        return Status::failure(line_prefix(file_name, line_number) + "total: " + describe(error, value));
      }
      continue;
    }
    double& average = *averages[index];
    if (const NumberError error = procfs_text::parse_non_negative_double(value, average);
        error != NumberError::none) {
      return Status::failure(line_prefix(file_name, line_number) + std::string(key) + ": " +
                             describe(error, value, "a double"));
    }
    if (average > kMaxAveragePercent) {
      return Status::failure(line_prefix(file_name, line_number) + std::string(key) + ": " + quote(value) +
                             " is above 100 percent");
    }
  }
  for (std::size_t index = 0; index < kKeyCount; ++index) {
    if (!seen[index]) {
      return Status::failure(line_prefix(file_name, line_number) + std::string(kKeys[index]) + " missing");
    }
  }
  out.present = true;
  return Status::success();
}

}  // namespace

std::string_view pressure_resource_name(PressureResource resource) {
  switch (resource) {
    case PressureResource::cpu: return "cpu";
    case PressureResource::memory: return "memory";
    case PressureResource::io: return "io";
    case PressureResource::irq: return "irq";
  }
  return "cpu";
}

Status parse_pressure_file(std::string_view text, std::string_view file_name, PressureFile& out) {
  out = PressureFile{};
  // check_complete's rule, without building the file's name every tick.
  if (text.empty()) return Status::failure("pressure/" + std::string(file_name) + ": file is empty");
  if (text.back() != '\n') {
    return Status::failure("pressure/" + std::string(file_name) +
                           ": text does not end with a newline (truncated read?)");
  }
  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_number = lines.line_number();
    std::string_view rest = line;
    const std::string_view kind = next_field(rest);
    PressureLine* target = kind == "some" ? &out.some : kind == "full" ? &out.full : nullptr;
    if (target == nullptr) {
      return Status::failure(line_prefix(file_name, line_number) + "expected 'some' or 'full', got " +
                             (kind.empty() ? std::string("an empty line") : quote(kind)));
    }
    if (target->present) {
      return Status::failure(line_prefix(file_name, line_number) + "'" + std::string(kind) + "' appears twice");
    }
    if (Status status = parse_line(rest, file_name, line_number, *target); !status.ok()) return status;
  }
  return Status::success();
}

PressureState::PressureState(const SourceSettings& settings)
    : directory(settings.paths.proc_file("pressure")),
      not_supported_message(std::generic_category().message(EOPNOTSUPP)) {
  readers.reserve(kPressureResourceCount);
  for (std::size_t index = 0; index < kPressureResourceCount; ++index) {
    // Read every tick: kept open.
    readers.emplace_back(directory + "/" + std::string(pressure_resource_name(static_cast<PressureResource>(index))),
                         FileReader::Options{.hold_descriptor = true});
  }
}

namespace {

// Whether nothing is at path (as opposed to something unreadable there),
// without allocating: a missing resource file is the steady case on most
// kernels (irq).
bool path_missing(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Status read_pressure(PressureState& state, std::string_view /*primary*/, Pressure& out) {
  if (path_missing(state.directory)) {
    return Status::absent("pressure stall information not present (no " + state.directory +
                          ": kernel before 4.20 or without CONFIG_PSI, or booted with psi=0)");
  }
  std::size_t present = 0;
  for (std::size_t index = 0; index < kPressureResourceCount; ++index) {
    out.present[index] = false;
    FileReader& reader = state.readers[index];
    // irq appeared in 6.1, and needs CONFIG_IRQ_TIME_ACCOUNTING: a kernel
    // without it simply has no such file. Checked before reading, because a
    // failed read builds an error message, and this happens every tick.
    if (path_missing(reader.path())) continue;
    if (Status status = reader.read(); !status.ok()) {
      if (reader.missing()) continue;  // removed since the check
      if (ends_with(status.error, state.not_supported_message)) {
        return Status::absent("pressure stall information disabled (" + reader.path() +
                              ": reads refused with EOPNOTSUPP, booted with psi=0?)");
      }
      return status;
    }
    const std::string_view name = pressure_resource_name(static_cast<PressureResource>(index));
    if (Status status = parse_pressure_file(reader.contents(), name, out.files[index]); !status.ok()) {
      status.error.insert(0, reader.path() + ": ");
      return status;
    }
    out.present[index] = true;
    ++present;
  }
  if (present == 0) {
    return Status::absent("pressure stall information not present (" + state.directory +
                          " holds none of cpu, memory, io, irq)");
  }
  return Status::success();
}

namespace {

using derive_math::hundredths;
using derive_math::kNoValue;

enum Spec : std::size_t {
  kSomeAvg10, kSomeAvg60, kSomeAvg300, kFullAvg10, kFullAvg60, kFullAvg300, kSomeStall, kFullStall,
};

// The kernel prints the averages to two decimals.
constexpr SeriesSpec kSeries[] = {
    {"pressure.{resource}.some_avg10_pct", "percent", SeriesKind::gauge,
     "Share of time at least one task stalled on the resource, 10 s average", 2},
    {"pressure.{resource}.some_avg60_pct", "percent", SeriesKind::gauge,
     "Share of time at least one task stalled on the resource, 60 s average", 2},
    {"pressure.{resource}.some_avg300_pct", "percent", SeriesKind::gauge,
     "Share of time at least one task stalled on the resource, 300 s average", 2},
    {"pressure.{resource}.full_avg10_pct", "percent", SeriesKind::gauge,
     "Share of time all non-idle tasks stalled on the resource, 10 s average", 2},
    {"pressure.{resource}.full_avg60_pct", "percent", SeriesKind::gauge,
     "Share of time all non-idle tasks stalled on the resource, 60 s average", 2},
    {"pressure.{resource}.full_avg300_pct", "percent", SeriesKind::gauge,
     "Share of time all non-idle tasks stalled on the resource, 300 s average", 2},
    {"pressure.{resource}.some_stall_pct", "percent", SeriesKind::rate,
     "Share of this tick at least one task stalled on the resource (from total=)", 2},
    {"pressure.{resource}.full_stall_pct", "percent", SeriesKind::rate,
     "Share of this tick all non-idle tasks stalled on the resource (from total=)", 2},
};
static_assert(std::size(kSeries) == kFullStall + 1);

// node_exporter's pressure collector: the kernel's total= stall times in
// seconds. cpu "full" is left out as node_exporter leaves it out (the kernel
// documents it as undefined system-wide and prints 0), and irq has no "some".
namespace metric {
enum : std::size_t { kCpuWaiting, kIoWaiting, kIoStalled, kMemoryWaiting, kMemoryStalled, kIrqStalled };
}
constexpr MetricSpec kMetrics[] = {
    {"node_pressure_cpu_waiting_seconds_total", MetricType::counter,
     "Total time in seconds that processes have waited for CPU time", {}},
    {"node_pressure_io_waiting_seconds_total", MetricType::counter,
     "Total time in seconds that processes have waited due to IO congestion", {}},
    {"node_pressure_io_stalled_seconds_total", MetricType::counter,
     "Total time in seconds no process could make progress due to IO congestion", {}},
    {"node_pressure_memory_waiting_seconds_total", MetricType::counter,
     "Total time in seconds that processes have waited for memory", {}},
    {"node_pressure_memory_stalled_seconds_total", MetricType::counter,
     "Total time in seconds no process could make progress due to memory congestion", {}},
    {"node_pressure_irq_stalled_seconds_total", MetricType::counter,
     "Total time in seconds no process could make progress due to IRQ congestion", {}},
};

constexpr StatefulFunctions<Pressure, PressureState> kFunctions{&read_pressure, &derive_pressure, nullptr,
                                                                &expose_pressure};

// Microseconds of stall per second of wall time, as a percentage: 1e6 us
// per second is 100 percent.
constexpr double kMicrosecondsPerPercentSecond = 1e4;

double stall_pct(const PressureLine* before, const PressureLine& after, double elapsed_s) {
  if (before == nullptr || !before->present || after.total_us < before->total_us || !(elapsed_s > 0)) {
    return kNoValue;
  }
  // A share of wall time cannot pass 100 %; it reads above when the file was
  // read later in this tick than in the last (elapsed is the sampler's, not
  // the kernel's): at 100 ms, 10 ms of jitter shows as 110 %.
  return hundredths(std::min(100.0, static_cast<double>(after.total_us - before->total_us) / elapsed_s /
                                        kMicrosecondsPerPercentSecond));
}

}  // namespace

void derive_pressure(const Pressure* previous, const Pressure& current, const DeriveContext& context,
                     SeriesWriter& out) {
  for (std::size_t index = 0; index < kPressureResourceCount; ++index) {
    if (!current.present[index]) continue;
    const PressureFile& file = current.files[index];
    const PressureFile* before =
        previous != nullptr && previous->present[index] ? &previous->files[index] : nullptr;
    const EntityHandle entity = out.entity("resource", pressure_resource_name(static_cast<PressureResource>(index)));
    if (file.some.present) {
      out.set(entity, kSomeAvg10, file.some.avg10_pct);
      out.set(entity, kSomeAvg60, file.some.avg60_pct);
      out.set(entity, kSomeAvg300, file.some.avg300_pct);
      out.set(entity, kSomeStall, stall_pct(before != nullptr ? &before->some : nullptr, file.some, context.elapsed_s));
    }
    if (file.full.present) {
      out.set(entity, kFullAvg10, file.full.avg10_pct);
      out.set(entity, kFullAvg60, file.full.avg60_pct);
      out.set(entity, kFullAvg300, file.full.avg300_pct);
      out.set(entity, kFullStall, stall_pct(before != nullptr ? &before->full : nullptr, file.full, context.elapsed_s));
    }
  }
}

SourceDefinition pressure_source() {
  return {.name = "pressure", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<Pressure, PressureState, kFunctions>, .metrics = kMetrics};
}

void expose_pressure(const Pressure& current, MetricWriter& out) {
  constexpr double kMicrosecondsPerSecond = 1e6;
  const auto write = [&](PressureResource resource, bool full, std::size_t spec) {
    const auto index = static_cast<std::size_t>(resource);
    if (!current.present[index]) return;
    const PressureLine& line = full ? current.files[index].full : current.files[index].some;
    if (line.present) out.sample(spec, static_cast<double>(line.total_us) / kMicrosecondsPerSecond);
  };
  write(PressureResource::cpu, false, metric::kCpuWaiting);
  write(PressureResource::io, false, metric::kIoWaiting);
  write(PressureResource::io, true, metric::kIoStalled);
  write(PressureResource::memory, false, metric::kMemoryWaiting);
  write(PressureResource::memory, true, metric::kMemoryStalled);
  write(PressureResource::irq, true, metric::kIrqStalled);
}

}  // namespace hostpulse
