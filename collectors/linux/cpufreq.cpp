#include "collectors/linux/cpufreq.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>

#include "collectors/linux/sysfs_attribute.hpp"

namespace hostpulse {
namespace {

using derive_math::kNoValue;

constexpr std::string_view kFrequencyFile = "/cpufreq/scaling_cur_freq";

bool cpu_number(std::string_view name, unsigned& number) {
  constexpr std::string_view kPrefix = "cpu";
  if (name.size() <= kPrefix.size() || !name.starts_with(kPrefix)) return false;
  const std::string_view digits = name.substr(kPrefix.size());
  const auto [stop, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  return error == std::errc{} && stop == digits.data() + digits.size();
}

enum Spec : std::size_t { kFrequency };

constexpr SeriesSpec kSeries[] = {
    {"cpu.{cpu}.freq_hz", "hertz", SeriesKind::gauge, "Current clock of the CPU (cpufreq scaling_cur_freq)", 0},
};
static_assert(std::size(kSeries) == kFrequency + 1);

// node_exporter's cpufreq collector, for the attribute this source reads.
constexpr MetricSpec kMetrics[] = {
    {"node_cpu_scaling_frequency_hertz", MetricType::gauge, "Current scaled CPU thread frequency in hertz.", {"cpu"}},
};

constexpr StatefulFunctions<CpufreqRead, CpufreqState> kFunctions{&read_cpufreq, &derive_cpufreq, nullptr,
                                                                  &expose_cpufreq};

}  // namespace

Status parse_scaling_cur_freq(std::string_view text, std::string_view file_name, double& hertz) {
  std::string_view line;
  if (Status status = sysfs_attribute::parse_line(text, file_name, line); !status.ok()) return status;
  if (line == "<unknown>") {
    hertz = kNoValue;
    return Status::success();
  }
  std::int64_t kilohertz = 0;
  if (Status status = sysfs_attribute::parse_integer(text, file_name, kilohertz); !status.ok()) return status;
  // 1 THz: three orders of magnitude past any CPU; a bigger value would
  // also lose precision as a double of hertz.
  constexpr std::int64_t kMaxKilohertz = 1'000'000'000;
  if (kilohertz < 0 || kilohertz > kMaxKilohertz) {
    return Status::failure(std::string(file_name) + ": " + quote(line) + " kHz is not a CPU clock");
  }
  hertz = static_cast<double>(kilohertz) * 1000.0;
  return Status::success();
}

CpufreqState::CpufreqState(const SourceSettings& settings)
    : cpu_directory(settings.paths.sys_file("devices/system/cpu")),
      absent_message("no cpufreq: no " + cpu_directory + "/cpuN/cpufreq (no frequency-scaling driver, as in most VMs)") {}

Status read_cpufreq(CpufreqState& state, std::string_view /*primary*/, CpufreqRead& out) {
  out.cpus.clear();
  ++state.tick;
  const int error_number = state.lister.list(state.cpu_directory);
  if (error_number == ENOENT || error_number == ENOTDIR) return Status::absent(state.absent_message);
  if (error_number != 0) {
    return Status::failure(state.cpu_directory + ": cannot list: " + std::generic_category().message(error_number));
  }

  for (const DirectoryEntry& entry : state.lister.entries()) {
    unsigned number = 0;
    if (!cpu_number(entry.name, number)) continue;
    const auto at = std::lower_bound(state.cpus.begin(), state.cpus.end(), number,
                                     [](const CpufreqState::Cpu& cpu, unsigned n) { return cpu.number < n; });
    if (at != state.cpus.end() && at->number == number) {
      at->seen_tick = state.tick;
      continue;
    }
    if (state.cpus.size() >= CpufreqState::kMaxCpus) {
      ++state.over_cap;
      continue;
    }
    std::string path = state.cpu_directory + "/" + std::string(entry.name) + std::string(kFrequencyFile);
    state.cpus.insert(at, CpufreqState::Cpu{.number = number,
                                            .name = std::to_string(number),
                                            .reader = sysfs_attribute::attribute_reader(std::move(path)),
                                            .seen_tick = state.tick});
  }
  std::erase_if(state.cpus, [&state](const CpufreqState::Cpu& cpu) { return cpu.seen_tick != state.tick; });

  bool any_cpufreq = false;
  for (CpufreqState::Cpu& cpu : state.cpus) {
    // try_read: a CPU without cpufreq is the steady state of a VM, and a
    // failed read's message would allocate every tick.
    if (!cpu.reader.try_read()) {
      // No cpufreq for this CPU, or it went offline.
      if (cpu.reader.missing() || cpu.reader.error_number() == ENOTDIR) continue;
      any_cpufreq = true;
      return cpu.reader.failure();
    }
    any_cpufreq = true;
    double hertz = kNoValue;
    if (Status status = parse_scaling_cur_freq(cpu.reader.contents(), cpu.reader.path(), hertz); !status.ok()) {
      return status;
    }
    out.cpus.push_back(CpuFrequency{.cpu = cpu.name, .hertz = hertz});
  }
  if (!any_cpufreq) return Status::absent(state.absent_message);
  return Status::success();
}

void derive_cpufreq(const CpufreqRead* /*previous*/, const CpufreqRead& current, const DeriveContext& /*context*/,
                    SeriesWriter& out) {
  for (const CpuFrequency& cpu : current.cpus) out.set(out.entity("cpu", cpu.cpu), kFrequency, cpu.hertz);
}

SourceDefinition cpufreq_source() {
  return {.name = "cpufreq", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<CpufreqRead, CpufreqState, kFunctions>, .metrics = kMetrics};
}

void expose_cpufreq(const CpufreqRead& current, MetricWriter& out) {
  constexpr std::size_t kScalingFrequency = 0;
  for (const CpuFrequency& cpu : current.cpus) {
    // "<unknown>" between transitions: no sample, as node_exporter gives none.
    if (!std::isnan(cpu.hertz)) out.sample(kScalingFrequency, {cpu.cpu}, cpu.hertz);
  }
}

}  // namespace hostpulse
