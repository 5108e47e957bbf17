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

// Batteries and external supplies from /sys/class/power_supply/<name>/:
// type ("Battery", "Mains", "USB"...), and for batteries capacity (percent)
// and status ("Discharging"...), for the others online (0 or 1).

enum class SupplyKind : std::uint8_t {
  battery,   // Battery, UPS: charge and discharging
  external,  // Mains, USB, Wireless...: online
};

struct SupplyReading {
  std::string_view name;  // "BAT0", into the source's state
  SupplyKind kind = SupplyKind::battery;
  double charge_pct = 0;   // NaN: no value
  double discharging = 0;  // 0 or 1; NaN: no value
  double online = 0;       // 0 or 1; NaN: no value
};

struct PowerSupplyRead {
  std::vector<SupplyReading> supplies;
};

// Pure parsers of the attribute files; errors name file_name.
SupplyKind supply_kind(std::string_view type_line);
// "87\n" -> 87. Above 100 (some fuel gauges overshoot while calibrating) is
// no value; negative or not a number fails.
Status parse_capacity(std::string_view text, std::string_view file_name, double& percent);
// "Discharging\n" -> 1; "Charging", "Full", "Not charging", "Unknown" and
// any other word -> 0.
Status parse_status(std::string_view text, std::string_view file_name, double& discharging);
// "1\n" -> 1, "0\n" -> 0; USB-C ports also print 2 (online, programmable
// supply) -> 1. Negative or not a number fails.
Status parse_online(std::string_view text, std::string_view file_name, double& online);

class PowerSupplyState {
 public:
  // A laptop has two to five supplies (battery, AC, USB-C ports, a mouse);
  // past 64 the folder was planted, and each costs up to two reads a tick.
  static constexpr std::size_t kMaxSupplies = 64;
  // Keeps power.{supply}.charge_pct under the registry's 256-byte key cap.
  static constexpr std::size_t kMaxNameBytes = 128;

  explicit PowerSupplyState(const SourceSettings& settings);

  struct Supply {
    std::string name;
    SupplyKind kind = SupplyKind::battery;
    FileReader first;   // capacity (battery) or online (external); empty path: none
    FileReader second;  // status (battery); empty path: none
    std::uint64_t seen_tick = 0;
  };

  std::string directory;
  std::string absent_message;  // built once: the set asks an absent source again every minute
  DirectoryEntries class_lister;
  DirectoryEntries supply_lister;  // used only when a supply first appears
  std::vector<Supply> supplies;    // sorted by name
  std::vector<std::string> ignored;  // names seen and left out (unusable, over the cap), sorted
  std::uint64_t tick = 0;
  std::size_t names_skipped = 0;  // unusable names, since start
  std::size_t over_cap = 0;       // supplies past kMaxSupplies, since start
};

Status read_power_supply(PowerSupplyState& state, std::string_view primary, PowerSupplyRead& out);
void derive_power_supply(const PowerSupplyRead* previous, const PowerSupplyRead& current,
                         const DeriveContext& context, SeriesWriter& out);
// node_exporter's node_power_supply_capacity{power_supply} (batteries) and
// node_power_supply_online{power_supply} (external supplies).
void expose_power_supply(const PowerSupplyRead& current, MetricWriter& out);
SourceDefinition power_supply_source();

}  // namespace hostpulse
