#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// Pressure stall information (/proc/pressure/<resource>, Linux 4.20+):
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=12345
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
// "some": at least one task stalled on the resource; "full": all non-idle
// tasks stalled at once. cpu has "full" only since 5.13, irq (6.1+, with
// CONFIG_IRQ_TIME_ACCOUNTING) has only "full".
struct PressureLine {
  bool present = false;
  double avg10_pct = 0;
  double avg60_pct = 0;
  double avg300_pct = 0;
  std::uint64_t total_us = 0;  // cumulative stall time, microseconds
};

struct PressureFile {
  PressureLine some;
  PressureLine full;
};

// One file. file_name ("cpu") prefixes errors, which also name the line.
// Every line is "some" or "full" (each at most once) with avg10, avg60,
// avg300 (0..100) and total, each exactly once; keys a later kernel may add
// are ignored. At least one line; the text must end with '\n'.
Status parse_pressure_file(std::string_view text, std::string_view file_name, PressureFile& out);

enum class PressureResource : std::uint8_t { cpu, memory, io, irq };
inline constexpr std::size_t kPressureResourceCount = 4;
// "cpu", "memory", "io", "irq": the file names and the `resource` label.
std::string_view pressure_resource_name(PressureResource resource);

struct Pressure {
  // A resource whose file does not exist (irq before 6.1) is not present.
  std::array<bool, kPressureResourceCount> present{};
  std::array<PressureFile, kPressureResourceCount> files{};
};

// Kept between ticks: one reader per resource file, built once.
struct PressureState {
  explicit PressureState(const SourceSettings& settings);
  std::string directory;               // <proc>/pressure
  std::vector<FileReader> readers;     // by PressureResource
  std::string not_supported_message;   // strerror(EOPNOTSUPP), as FileReader words it
};

// Reads every resource file. No directory, no resource file, or files that
// refuse reads with EOPNOTSUPP (booted with psi=0): Status::absent. A missing
// single file: that resource is skipped. Any other failure names the file.
Status read_pressure(PressureState& state, std::string_view primary, Pressure& out);

void derive_pressure(const Pressure* previous, const Pressure& current, const DeriveContext& context,
                     SeriesWriter& out);
// node_exporter's node_pressure_{cpu,io,memory}_waiting_seconds_total ("some"
// totals) and node_pressure_{io,memory,irq}_stalled_seconds_total ("full").
void expose_pressure(const Pressure& current, MetricWriter& out);
SourceDefinition pressure_source();

}  // namespace hostpulse
