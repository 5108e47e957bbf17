#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/directory_entries.hpp"
#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/linux/sysfs_attribute.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// Temperatures and fans from hwmon (/sys/class/hwmon/hwmonN/: name,
// tempN_input/_max/_crit/_label in millidegrees Celsius, fanN_input/_label in
// rpm) and thermal zones (/sys/class/thermal/thermal_zoneN/: type, temp in
// millidegrees, trip_point_K_type/_temp; the "critical" trip is the zone's
// critical temperature).
//
// Keys: "<chip>/<label>" ("coretemp/Package id 0"), "<chip>/tempN" when the
// sensor has no usable label, "thermal/<type>" for a zone. Chips sharing a
// name (two "nvme", the two "coretemp" of a dual-socket host) become
// "<chip>@<device>" with the basename of hwmonN/device ("nvme@nvme0"), which
// follows the device across reboots as hwmonN numbering does not; zones
// sharing a type become "thermal/<type>@thermal_zoneN", labels shared within
// a chip "<label>@tempN". A name that arrives later keeps every existing key
// and only the newcomer gets the suffix.

// A temperature this tick, NaN where there is no value.
// node_exporter's labels for a sensor (into the source's state): for hwmon
// its chip ("platform_coretemp_0": from the device path, as hwmon.go names
// chips), sensor ("temp1") and label file as read (empty: none); for a
// thermal zone its type as `chip` and its number ("0") as `sensor`.
struct SensorMetricLabels {
  std::string_view chip;
  std::string_view sensor;
  std::string_view label;
  bool thermal_zone = false;
};

struct TemperatureReading {
  std::string_view key;  // into the source's state, valid until its next read
  double temp_celsius = 0;
  double temp_max_celsius = 0;
  double temp_crit_celsius = 0;
  SensorMetricLabels metric{};
};

struct FanReading {
  std::string_view key;
  double rpm = 0;
  SensorMetricLabels metric{};
};

// A hwmon chip for node_hwmon_chip_names: node_exporter's chip label and its
// cleaned name file.
struct ChipNameReading {
  std::string_view chip;
  std::string_view chip_name;
};

struct SensorsRead {
  std::vector<TemperatureReading> temperatures;
  std::vector<FanReading> fans;
  std::vector<ChipNameReading> chips{};  // chips with a name file
};

// node_exporter's cleanMetricName: lower case, [^a-z0-9:_] as '_', '_'
// trimmed from both ends.
std::string node_exporter_clean_name(std::string_view name);
// node_exporter's hwmon chip label from the chip's resolved device path
// ("/sys/devices/platform/coretemp.0" -> "platform_coretemp_0"), else the
// cleaned name file, else the cleaned hwmonN; empty if all are empty.
std::string node_exporter_chip_label(std::string_view resolved_device_path, std::string_view name_file,
                                     std::string_view entry);

// Pure conversions (tested on their own): NaN for a value no sensor can
// give. Below absolute zero or at/above kMaxPlausibleCelsius is a
// disconnected probe or a driver's "no reading" pattern (e.g. 255.5 °C from
// some Super I/O chips is kept: it is possible in principle).
inline constexpr double kMinPlausibleCelsius = -273.15;
// No sensor on a computer survives 1000 °C; past it is a wrapped register.
inline constexpr double kMaxPlausibleCelsius = 1000.0;
// The fastest server fans run ~30,000 rpm; past 1,000,000 is a bogus count.
inline constexpr std::int64_t kMaxPlausibleRpm = 1'000'000;

double millidegrees_to_celsius(std::int64_t millidegrees);
double plausible_rpm(std::int64_t rpm);

// Reads "critical" (with or without its '\n') as the critical trip type.
bool is_critical_trip(std::string_view trip_type_text);

class SensorsState {
 public:
  // Sensors (temperatures plus fans) kept: a dual-socket 192-core host has
  // ~400 per-core sensors; beyond 1024 the sysfs tree is broken or hostile,
  // and every sensor costs a file read a tick (three when its limits are
  // re-read).
  static constexpr std::size_t kMaxSensors = 1024;
  // Key parts, so "<chip>@<device>/<label>@tempN" stays under the
  // registry's 256-byte key cap.
  static constexpr std::size_t kMaxChipNameBytes = 64;
  static constexpr std::size_t kMaxDeviceNameBytes = 64;
  static constexpr std::size_t kMaxLabelBytes = 100;

  explicit SensorsState(const SourceSettings& settings);

  // node_exporter's labels of a sensor, built when it first appears.
  struct MetricLabels {
    std::string chip;
    std::string sensor;
    std::string label;
    bool thermal_zone = false;
    [[nodiscard]] SensorMetricLabels view() const { return {chip, sensor, label, thermal_zone}; }
  };
  // The input is read every tick; the limits (set by the driver, or once
  // by sensors -s) at the sensor's first read and every
  // kRarelyChangingRereadReads reads after, the last values reported in
  // between.
  struct Temperature {
    std::string key;
    std::string origin;  // the class entry it came from: "hwmon3", "thermal_zone0"
    FileReader input;
    FileReader max;   // empty path: the sensor has none
    FileReader crit;
    MetricLabels metric{};
    sysfs_attribute::RereadSchedule limits{};
    double max_celsius = 0;   // as last read (NaN: no value)
    double crit_celsius = 0;
    Status limits_failure{};  // of the last read of the limits
  };
  struct Fan {
    std::string key;
    std::string origin;
    FileReader input;
    MetricLabels metric{};
  };
  struct Known {
    std::string entry;  // "hwmon3"
    std::string name;   // chip name or zone type as read, to find later duplicates
    std::uint64_t seen_tick = 0;
    // hwmon chips: node_exporter's chip label and cleaned name file.
    std::string metric_chip{};
    std::string metric_chip_name{};
  };

  // Why sensors were left out or renamed, counted since start (tests and
  // the log read them).
  struct Counts {
    std::size_t over_cap = 0;            // sensors past kMaxSensors
    std::size_t names_replaced = 0;      // chip names / labels / types unusable in a key
    std::size_t not_regular = 0;         // a FIFO or directory where an attribute should be
    std::size_t entries_dropped = 0;     // directory entries past the lister's cap
  };

  std::string hwmon_directory;
  std::string thermal_directory;
  std::string absent_message;  // built once: the set asks an absent source again every minute
  DirectoryEntries class_lister;
  DirectoryEntries chip_lister;  // used only when a chip or zone first appears
  std::vector<Known> chips;      // sorted by entry
  std::vector<Known> zones;      // sorted by entry
  std::vector<Temperature> temperatures;
  std::vector<Fan> fans;
  std::uint64_t tick = 0;
  Counts counts;
};

Status read_sensors(SensorsState& state, std::string_view primary, SensorsRead& out);
void derive_sensors(const SensorsRead* previous, const SensorsRead& current, const DeriveContext& context,
                    SeriesWriter& out);
// node_exporter's node_hwmon_temp_celsius, _temp_max_celsius,
// _temp_crit_celsius, _fan_rpm {chip,sensor}, node_hwmon_chip_names
// {chip,chip_name}, node_hwmon_sensor_label{chip,label,sensor} and
// node_thermal_zone_temp{type,zone}.
void expose_sensors(const SensorsRead& current, MetricWriter& out);
SourceDefinition sensors_source();

}  // namespace hostpulse
