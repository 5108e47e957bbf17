#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/directory_entries.hpp"
#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// Each CPU's current clock from /sys/devices/system/cpu/cpuN/cpufreq/
// scaling_cur_freq (kHz). Hosts without a cpufreq driver (most VMs) have no
// cpufreq folders; a CPU whose folder is missing (offline, or a driver that
// covers only some CPUs) gives no value.

struct CpuFrequency {
  std::string_view cpu;  // "3", into the source's state
  double hertz = 0;
};

struct CpufreqRead {
  std::vector<CpuFrequency> cpus;
};

// "2400000\n" (kHz) -> 2.4e9 Hz. "<unknown>\n" (some drivers, between
// transitions) -> NaN. Anything else that is not a non-negative integer
// fails, naming file_name.
Status parse_scaling_cur_freq(std::string_view text, std::string_view file_name, double& hertz);

class CpufreqState {
 public:
  // Linux's NR_CPUS is at most 8192.
  static constexpr std::size_t kMaxCpus = 8192;
  // cpuN entries plus the folder's ~20 others (cpufreq, cpuidle, online...).
  static constexpr std::size_t kListedEntries = kMaxCpus + 64;
  // "cpu8191" is 7 bytes: 16 per entry on average is ample.
  static constexpr std::size_t kListedNameBytes = kListedEntries * 16;

  explicit CpufreqState(const SourceSettings& settings);

  struct Cpu {
    unsigned number = 0;
    std::string name;  // "3"
    FileReader reader;
    std::uint64_t seen_tick = 0;
  };

  std::string cpu_directory;
  std::string absent_message;  // built once: the set asks an absent source again every minute
  DirectoryEntries lister{kListedEntries, kListedNameBytes};
  std::vector<Cpu> cpus;  // sorted by number
  std::uint64_t tick = 0;
  std::size_t over_cap = 0;  // CPUs past kMaxCpus (since start)
};

Status read_cpufreq(CpufreqState& state, std::string_view primary, CpufreqRead& out);
void derive_cpufreq(const CpufreqRead* previous, const CpufreqRead& current, const DeriveContext& context,
                    SeriesWriter& out);
// node_exporter's node_cpu_scaling_frequency_hertz{cpu}.
void expose_cpufreq(const CpufreqRead& current, MetricWriter& out);
SourceDefinition cpufreq_source();

}  // namespace hostpulse
