#include "collectors/linux/sensors.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>
#include "collectors/linux/sysfs_attribute.hpp"

namespace hostpulse {
namespace {

using derive_math::kNoValue;
using sysfs_attribute::is_no_value_error;
using sysfs_attribute::kMaxAttributeBytes;
using sysfs_attribute::usable_name;

static_assert(SensorsState::kMaxChipNameBytes + 1 + SensorsState::kMaxDeviceNameBytes + 1 +
                      SensorsState::kMaxLabelBytes + std::string_view("@temp4294967295").size() <=
                  256,
              "sensor keys must stay under the registry's key cap");

bool is_missing(int error_number) { return error_number == ENOENT || error_number == ENOTDIR; }

// "hwmon12" with prefix "hwmon": true, index 12. "hwmon", "hwmon1a", "hwmon01": false.
bool numbered(std::string_view name, std::string_view prefix, std::string_view suffix, unsigned& index) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) {
    return false;
  }
  const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  // "temp01_input" is not what the kernel names "temp1_input"; the path
  // rebuilt from the number would not exist.
  if (digits.size() > 1 && digits.front() == '0') return false;
  const auto [stop, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  return error == std::errc{} && stop == digits.data() + digits.size();
}

std::string join(std::string_view directory, std::string_view name) {
  std::string path(directory);
  path += '/';
  path += name;
  return path;
}

// The one line of a small attribute read once when an entity appears
// (allocating is fine then); empty when unreadable.
std::string read_text_once(const std::string& path) {
  FileReader reader(path, kMaxAttributeBytes);
  if (!reader.read().ok()) return {};
  std::string_view line;
  if (!sysfs_attribute::parse_line(reader.contents(), path, line).ok()) return {};
  return std::string(line);
}

// The basename of hwmonN/device (-> ../../nvme0): names the device the chip
// belongs to, whatever hwmon number it got this boot.
std::string device_basename(const std::string& chip_directory) {
  char target[4096];
  const std::string link = join(chip_directory, "device");
  const ssize_t length = ::readlink(link.c_str(), target, sizeof target);
  if (length <= 0 || static_cast<std::size_t>(length) >= sizeof target) return {};
  std::string_view path(target, static_cast<std::size_t>(length));
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool regular_or_unknown(unsigned char type) { return type == DT_REG || type == DT_UNKNOWN; }

bool has_sensor_room(const SensorsState& state) {
  return state.temperatures.size() + state.fans.size() < SensorsState::kMaxSensors;
}

void count_over_cap(SensorsState& state, std::string_view where) {
  if (state.counts.over_cap++ == 0) {
    spdlog::warn("sensors: more than {} sensors; ignoring the rest (first left out: {})", SensorsState::kMaxSensors,
              where);
  }
}

// Marks entries of the class listing whose name is prefix<N> as seen this
// tick and returns the ones not known yet.
std::vector<std::string> mark_listed(SensorsState& state, std::vector<SensorsState::Known>& known,
                                     std::string_view prefix) {
  std::vector<std::string> fresh;
  state.counts.entries_dropped += state.class_lister.dropped();
  for (const DirectoryEntry& entry : state.class_lister.entries()) {
    unsigned index = 0;
    if (!numbered(entry.name, prefix, "", index)) continue;
    const auto at = std::lower_bound(known.begin(), known.end(), entry.name,
                                     [](const SensorsState::Known& k, std::string_view name) { return k.entry < name; });
    if (at != known.end() && at->entry == entry.name) {
      at->seen_tick = state.tick;
    } else {
      fresh.emplace_back(entry.name);
    }
  }
  return fresh;
}

void remember(std::vector<SensorsState::Known>& known, SensorsState::Known entry) {
  const auto at = std::lower_bound(known.begin(), known.end(), entry.entry,
                                   [](const SensorsState::Known& k, const std::string& name) { return k.entry < name; });
  known.insert(at, std::move(entry));
}

// Drops the entities gone from the listing, with their sensors.
void sweep(SensorsState& state, std::vector<SensorsState::Known>& known) {
  for (const SensorsState::Known& entry : known) {
    if (entry.seen_tick == state.tick) continue;
    std::erase_if(state.temperatures, [&entry](const auto& sensor) { return sensor.origin == entry.entry; });
    std::erase_if(state.fans, [&entry](const auto& fan) { return fan.origin == entry.entry; });
  }
  std::erase_if(known, [&state](const SensorsState::Known& entry) { return entry.seen_tick != state.tick; });
}

// Names that occur more than once among `names` or in `existing`.
template <class Names>
bool is_shared(std::string_view name, const Names& names, const std::vector<SensorsState::Known>& existing) {
  std::size_t count = 0;
  for (const auto& other : names) count += other.name == name ? 1 : 0;
  for (const SensorsState::Known& other : existing) count += other.name == name ? 1 : 0;
  return count > 1;
}

struct Attribute {
  unsigned index = 0;
  std::string label;
  std::string label_as_read{};  // for node_hwmon_sensor_label; empty: no label file
};

// The fully resolved target of hwmonN/device, empty when it has none.
std::string resolved_device_path(const std::string& chip_directory) {
  char* resolved = ::realpath(join(chip_directory, "device").c_str(), nullptr);
  if (resolved == nullptr) return {};
  std::string path(resolved);
  std::free(resolved);
  return path;
}

void add_chip_sensors(SensorsState& state, const std::string& directory, const std::string& display,
                      const std::string& origin, const std::string& metric_chip) {
  if (state.chip_lister.list(directory) != 0) return;
  state.counts.entries_dropped += state.chip_lister.dropped();
  std::vector<std::string_view> names;
  for (const DirectoryEntry& entry : state.chip_lister.entries()) names.push_back(entry.name);
  std::sort(names.begin(), names.end());
  const auto present = [&names](const std::string& name) {
    return std::binary_search(names.begin(), names.end(), std::string_view(name));
  };

  std::vector<Attribute> temperatures;
  std::vector<Attribute> fans;
  for (const DirectoryEntry& entry : state.chip_lister.entries()) {
    unsigned index = 0;
    const bool temperature = numbered(entry.name, "temp", "_input", index);
    if (!temperature && !numbered(entry.name, "fan", "_input", index)) continue;
    if (!regular_or_unknown(entry.type)) {
      ++state.counts.not_regular;
      continue;
    }
    (temperature ? temperatures : fans).push_back(Attribute{.index = index, .label = {}, .label_as_read = {}});
  }

  // Labels, and the ones two sensors of the chip share.
  const auto label_all = [&](std::vector<Attribute>& attributes, std::string_view kind) {
    std::sort(attributes.begin(), attributes.end(),
              [](const Attribute& a, const Attribute& b) { return a.index < b.index; });
    for (Attribute& attribute : attributes) {
      const std::string fallback = std::string(kind) + std::to_string(attribute.index);
      const std::string label_file = fallback + "_label";
      if (present(label_file)) {
        attribute.label = read_text_once(join(directory, label_file));
        attribute.label_as_read = attribute.label;
        if (!usable_name(attribute.label, SensorsState::kMaxLabelBytes)) {
          ++state.counts.names_replaced;
          attribute.label.clear();
          attribute.label_as_read.clear();  // control bytes or 4 KiB of text: no label sample either
        }
      }
      if (attribute.label.empty()) attribute.label = fallback;
    }
    std::map<std::string, std::size_t> uses;
    for (const Attribute& attribute : attributes) ++uses[attribute.label];
    for (Attribute& attribute : attributes) {
      if (uses[attribute.label] > 1) attribute.label += "@" + std::string(kind) + std::to_string(attribute.index);
    }
  };
  label_all(temperatures, "temp");
  label_all(fans, "fan");

  for (const Attribute& attribute : temperatures) {
    const std::string stem = "temp" + std::to_string(attribute.index);
    if (!has_sensor_room(state)) {
      count_over_cap(state, join(directory, stem + "_input"));
      continue;
    }
    const auto limit = [&](std::string_view suffix) {
      const std::string name = stem + std::string(suffix);
      return sysfs_attribute::attribute_reader(present(name) ? join(directory, name) : std::string(),
                                               sysfs_attribute::AttributeReads::now_and_then);
    };
    state.temperatures.push_back(SensorsState::Temperature{
        .key = display + "/" + attribute.label,
        .origin = origin,
        .input = sysfs_attribute::attribute_reader(join(directory, stem + "_input")),
        .max = limit("_max"),
        .crit = limit("_crit"),
        .metric = {.chip = metric_chip, .sensor = stem, .label = attribute.label_as_read, .thermal_zone = false},
    });
  }
  for (const Attribute& attribute : fans) {
    const std::string input = "fan" + std::to_string(attribute.index) + "_input";
    if (!has_sensor_room(state)) {
      count_over_cap(state, join(directory, input));
      continue;
    }
    state.fans.push_back(SensorsState::Fan{
        .key = display + "/" + attribute.label,
        .origin = origin,
        .input = sysfs_attribute::attribute_reader(join(directory, input)),
        .metric = {.chip = metric_chip,
                   .sensor = "fan" + std::to_string(attribute.index),
                   .label = attribute.label_as_read,
                   .thermal_zone = false},
    });
  }
}

struct PendingChip {
  std::string entry;
  std::string name;
  std::string device;
  std::string attributes;  // the folder holding tempN_input...
  std::string metric_chip{};       // node_exporter's chip label
  std::string metric_chip_name{};  // its cleaned name file
};

void discover_chips(SensorsState& state, const std::vector<std::string>& fresh) {
  std::vector<PendingChip> pending;
  for (const std::string& entry : fresh) {
    const std::string chip_directory = join(state.hwmon_directory, entry);
    PendingChip chip{.entry = entry, .name = {}, .device = device_basename(chip_directory),
                     .attributes = chip_directory, .metric_chip = {}, .metric_chip_name = {}};
    // Kernels before 3.x (and a few drivers since) keep name and the sensor
    // attributes in the device folder, hwmonN itself holding only links.
    chip.name = read_text_once(join(chip_directory, "name"));
    if (chip.name.empty()) {
      const std::string device_directory = join(chip_directory, "device");
      std::string device_name = read_text_once(join(device_directory, "name"));
      if (!device_name.empty()) {
        chip.name = std::move(device_name);
        chip.attributes = device_directory;
      }
    }
    chip.metric_chip_name = node_exporter_clean_name(chip.name);
    chip.metric_chip = node_exporter_chip_label(resolved_device_path(chip_directory), chip.name, entry);
    if (!usable_name(chip.name, SensorsState::kMaxChipNameBytes)) {
      if (!chip.name.empty()) ++state.counts.names_replaced;
      chip.name = entry;
    }
    if (!usable_name(chip.device, SensorsState::kMaxDeviceNameBytes)) chip.device = entry;
    pending.push_back(std::move(chip));
  }
  for (PendingChip& chip : pending) {
    const std::string display = is_shared(chip.name, pending, state.chips) ? chip.name + "@" + chip.device : chip.name;
    add_chip_sensors(state, chip.attributes, display, chip.entry, chip.metric_chip);
  }
  // Remembered after naming, so chips of one scan all see each other as
  // newcomers and all get the suffix.
  for (PendingChip& chip : pending) {
    remember(state.chips, SensorsState::Known{.entry = chip.entry,
                                              .name = chip.name,
                                              .seen_tick = state.tick,
                                              .metric_chip = std::move(chip.metric_chip),
                                              .metric_chip_name = std::move(chip.metric_chip_name)});
  }
}

struct PendingZone {
  std::string entry;
  std::string name;  // the zone's type
};

void add_zone(SensorsState& state, const PendingZone& zone, const std::string& key) {
  const std::string directory = join(state.thermal_directory, zone.entry);
  if (state.chip_lister.list(directory) != 0) return;
  state.counts.entries_dropped += state.chip_lister.dropped();
  bool has_temp = false;
  std::string crit_path;
  std::vector<std::pair<unsigned, std::string>> trips;
  for (const DirectoryEntry& entry : state.chip_lister.entries()) {
    unsigned index = 0;
    if (entry.name == "temp") {
      if (regular_or_unknown(entry.type)) {
        has_temp = true;
      } else {
        ++state.counts.not_regular;
      }
    } else if (numbered(entry.name, "trip_point_", "_type", index)) {
      trips.emplace_back(index, std::string(entry.name));
    }
  }
  if (!has_temp) return;
  std::sort(trips.begin(), trips.end());
  for (const auto& [index, type_file] : trips) {
    if (is_critical_trip(read_text_once(join(directory, type_file)))) {
      crit_path = join(directory, "trip_point_" + std::to_string(index) + "_temp");
      break;
    }
  }
  if (!has_sensor_room(state)) {
    count_over_cap(state, join(directory, "temp"));
    return;
  }
  state.temperatures.push_back(SensorsState::Temperature{
      .key = key,
      .origin = zone.entry,
      .input = sysfs_attribute::attribute_reader(join(directory, "temp")),
      .max = sysfs_attribute::attribute_reader(std::string(), sysfs_attribute::AttributeReads::now_and_then),
      .crit = sysfs_attribute::attribute_reader(std::move(crit_path), sysfs_attribute::AttributeReads::now_and_then),
      .metric = {.chip = zone.name,
                 .sensor = zone.entry.substr(std::string_view("thermal_zone").size()),
                 .label = {},
                 .thermal_zone = true},
  });
}

void discover_zones(SensorsState& state, const std::vector<std::string>& fresh) {
  std::vector<PendingZone> pending;
  for (const std::string& entry : fresh) {
    PendingZone zone{.entry = entry, .name = read_text_once(join(join(state.thermal_directory, entry), "type"))};
    if (!usable_name(zone.name, SensorsState::kMaxLabelBytes)) {
      if (!zone.name.empty()) ++state.counts.names_replaced;
      zone.name = entry;
    }
    pending.push_back(std::move(zone));
  }
  for (const PendingZone& zone : pending) {
    std::string key = "thermal/" + zone.name;
    if (is_shared(zone.name, pending, state.zones)) key += "@" + zone.entry;
    add_zone(state, zone, key);
  }
  for (PendingZone& zone : pending) {
    remember(state.zones, SensorsState::Known{.entry = zone.entry, .name = zone.name, .seen_tick = state.tick});
  }
}

// Lists one class folder and brings the known entities up to date. A
// missing folder is a host without that class: every entity of it is gone.
Status scan(SensorsState& state, const std::string& directory, std::vector<SensorsState::Known>& known,
            std::string_view prefix, void (*discover)(SensorsState&, const std::vector<std::string>&)) {
  const int error_number = state.class_lister.list(directory);
  if (error_number != 0 && !is_missing(error_number)) {
    return Status::failure(directory + ": cannot list: " + std::generic_category().message(error_number));
  }
  if (error_number == 0) {
    const std::vector<std::string> fresh = mark_listed(state, known, prefix);
    if (!fresh.empty()) discover(state, fresh);
  }
  sweep(state, known);
  return Status::success();
}

// Reads one attribute in millidegrees (or rpm). Sets failure on a broken
// file; a no-value error or a value no sensor can give is just NaN.
double read_value(FileReader& reader, bool temperature, Status& failure) {
  if (reader.path().empty()) return kNoValue;
  // try_read: a drive asleep fails every tick, and building the message
  // each time would allocate on the steady path.
  if (!reader.try_read()) {
    if (!is_no_value_error(reader.error_number()) && failure.ok()) failure = reader.failure();
    return kNoValue;
  }
  std::int64_t value = 0;
  if (Status status = sysfs_attribute::parse_integer(reader.contents(), reader.path(), value); !status.ok()) {
    if (failure.ok()) failure = std::move(status);
    return kNoValue;
  }
  return temperature ? millidegrees_to_celsius(value) : plausible_rpm(value);
}

enum Spec : std::size_t { kTemp, kTempMax, kTempCrit, kFanRpm };

// Celsius to 0.1: the resolution of most chips (coretemp gives whole
// degrees, NVMe whole kelvins); more digits would be noise.
constexpr SeriesSpec kSeries[] = {
    {"sensor.{sensor}.temp_celsius", "celsius", SeriesKind::gauge, "Temperature (hwmon tempN_input, thermal zone temp)", 1},
    {"sensor.{sensor}.temp_max_celsius", "celsius", SeriesKind::gauge, "The chip's high limit (hwmon tempN_max)", 1},
    {"sensor.{sensor}.temp_crit_celsius", "celsius", SeriesKind::gauge,
     "Critical temperature (hwmon tempN_crit, a thermal zone's critical trip point)", 1},
    {"fan.{fan}.rpm", "rpm", SeriesKind::gauge, "Fan speed (hwmon fanN_input)", 0},
};
static_assert(std::size(kSeries) == kFanRpm + 1);

// node_exporter's hwmon and thermal_zone collectors, for what this source reads.
namespace metric {
enum : std::size_t { kTemp, kTempMax, kTempCrit, kFanRpm, kChipNames, kSensorLabel, kThermalZoneTemp };
}
constexpr MetricSpec kMetrics[] = {
    {"node_hwmon_temp_celsius", MetricType::gauge, "Hardware monitor for temperature (input)", {"chip", "sensor"}},
    {"node_hwmon_temp_max_celsius", MetricType::gauge, "Hardware monitor for temperature (max)", {"chip", "sensor"}},
    {"node_hwmon_temp_crit_celsius", MetricType::gauge, "Hardware monitor for temperature (crit)",
     {"chip", "sensor"}},
    {"node_hwmon_fan_rpm", MetricType::gauge, "Hardware monitor for fan revolutions per minute (input)",
     {"chip", "sensor"}},
    {"node_hwmon_chip_names", MetricType::gauge, "Annotation metric for human-readable chip names",
     {"chip", "chip_name"}},
    {"node_hwmon_sensor_label", MetricType::gauge, "Label for given chip and sensor", {"chip", "label", "sensor"}},
    {"node_thermal_zone_temp", MetricType::gauge, "Zone temperature in Celsius", {"type", "zone"}},
};
static_assert(std::size(kMetrics) == metric::kThermalZoneTemp + 1);

constexpr StatefulFunctions<SensorsRead, SensorsState> kFunctions{&read_sensors, &derive_sensors, nullptr,
                                                                  &expose_sensors};

}  // namespace

double millidegrees_to_celsius(std::int64_t millidegrees) {
  const double celsius = static_cast<double>(millidegrees) / 1000.0;
  if (celsius < kMinPlausibleCelsius || celsius >= kMaxPlausibleCelsius) return kNoValue;
  return std::round(static_cast<double>(millidegrees) / 100.0) / 10.0;
}

double plausible_rpm(std::int64_t rpm) {
  if (rpm < 0 || rpm > kMaxPlausibleRpm) return kNoValue;
  return static_cast<double>(rpm);
}

bool is_critical_trip(std::string_view trip_type_text) {
  if (trip_type_text.ends_with('\n')) trip_type_text.remove_suffix(1);
  return trip_type_text == "critical";
}

SensorsState::SensorsState(const SourceSettings& settings)
    : hwmon_directory(settings.paths.sys_file("class/hwmon")),
      thermal_directory(settings.paths.sys_file("class/thermal")),
      absent_message("no hwmon chip in " + hwmon_directory + " and no thermal zone in " + thermal_directory) {}

Status read_sensors(SensorsState& state, std::string_view /*primary*/, SensorsRead& out) {
  out.temperatures.clear();
  out.fans.clear();
  ++state.tick;
  if (Status status = scan(state, state.hwmon_directory, state.chips, "hwmon", &discover_chips); !status.ok()) {
    return status;
  }
  if (Status status = scan(state, state.thermal_directory, state.zones, "thermal_zone", &discover_zones);
      !status.ok()) {
    return status;
  }
  if (state.temperatures.empty() && state.fans.empty()) return Status::absent(state.absent_message);

  Status failure;
  for (SensorsState::Temperature& sensor : state.temperatures) {
    const double celsius = read_value(sensor.input, true, failure);
    if (sensor.limits.due()) {
      sensor.limits_failure = Status::success();
      sensor.max_celsius = read_value(sensor.max, true, sensor.limits_failure);
      sensor.crit_celsius = read_value(sensor.crit, true, sensor.limits_failure);
    }
    // A broken limit file fails every read until it is read again, as it
    // did when it was read every tick (a copy: only a broken host pays it).
    if (!sensor.limits_failure.ok() && failure.ok()) failure = sensor.limits_failure;
    out.temperatures.push_back(TemperatureReading{
        .key = sensor.key,
        .temp_celsius = celsius,
        .temp_max_celsius = sensor.max_celsius,
        .temp_crit_celsius = sensor.crit_celsius,
        .metric = sensor.metric.view(),
    });
  }
  for (SensorsState::Fan& fan : state.fans) {
    out.fans.push_back(
        FanReading{.key = fan.key, .rpm = read_value(fan.input, false, failure), .metric = fan.metric.view()});
  }
  out.chips.clear();
  for (const SensorsState::Known& chip : state.chips) {
    if (!chip.metric_chip_name.empty()) out.chips.push_back({.chip = chip.metric_chip, .chip_name = chip.metric_chip_name});
  }
  return failure;
}

void derive_sensors(const SensorsRead* /*previous*/, const SensorsRead& current, const DeriveContext& /*context*/,
                    SeriesWriter& out) {
  for (const TemperatureReading& reading : current.temperatures) {
    const EntityHandle sensor = out.entity("sensor", reading.key);
    out.set(sensor, kTemp, reading.temp_celsius);
    out.set(sensor, kTempMax, reading.temp_max_celsius);
    out.set(sensor, kTempCrit, reading.temp_crit_celsius);
  }
  for (const FanReading& reading : current.fans) {
    out.set(out.entity("fan", reading.key), kFanRpm, reading.rpm);
  }
}

SourceDefinition sensors_source() {
  return {.name = "sensors", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<SensorsRead, SensorsState, kFunctions>, .metrics = kMetrics};
}

std::string node_exporter_clean_name(std::string_view name) {
  std::string cleaned;
  cleaned.reserve(name.size());
  for (const char c : name) {
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    const bool kept = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == ':' || lower == '_';
    cleaned += kept ? lower : '_';
  }
  const std::size_t first = cleaned.find_first_not_of('_');
  if (first == std::string::npos) return {};
  return cleaned.substr(first, cleaned.find_last_not_of('_') - first + 1);
}

std::string node_exporter_chip_label(std::string_view resolved_device_path, std::string_view name_file,
                                     std::string_view entry) {
  // hwmon.go: the device's parent folder and name ("platform" and
  // "coretemp.0"), which stay put across reboots as hwmonN does not.
  std::string_view path = resolved_device_path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty()) {
    const std::size_t slash = path.rfind('/');
    const std::string device = node_exporter_clean_name(slash == std::string_view::npos ? path : path.substr(slash + 1));
    std::string_view parent = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
    const std::size_t parent_slash = parent.rfind('/');
    const std::string type =
        node_exporter_clean_name(parent_slash == std::string_view::npos ? parent : parent.substr(parent_slash + 1));
    if (!type.empty() && !device.empty()) return type + "_" + device;
    if (!device.empty()) return device;
  }
  if (std::string name = node_exporter_clean_name(name_file); !name.empty()) return name;
  return node_exporter_clean_name(entry);
}

void expose_sensors(const SensorsRead& current, MetricWriter& out) {
  // No value (a disconnected probe, no such limit): no sample.
  const auto write = [&out](std::size_t spec, const SensorMetricLabels& labels, double value) {
    if (!std::isnan(value)) out.sample(spec, {labels.chip, labels.sensor}, value);
  };
  for (const TemperatureReading& reading : current.temperatures) {
    const SensorMetricLabels& labels = reading.metric;
    if (labels.thermal_zone) {
      if (!std::isnan(reading.temp_celsius)) {
        out.sample(metric::kThermalZoneTemp, {labels.chip, labels.sensor}, reading.temp_celsius);
      }
      continue;
    }
    write(metric::kTemp, labels, reading.temp_celsius);
    write(metric::kTempMax, labels, reading.temp_max_celsius);
    write(metric::kTempCrit, labels, reading.temp_crit_celsius);
    if (!labels.label.empty()) out.sample(metric::kSensorLabel, {labels.chip, labels.label, labels.sensor}, 1.0);
  }
  for (const FanReading& reading : current.fans) {
    write(metric::kFanRpm, reading.metric, reading.rpm);
    if (!reading.metric.label.empty()) {
      out.sample(metric::kSensorLabel, {reading.metric.chip, reading.metric.label, reading.metric.sensor}, 1.0);
    }
  }
  for (const ChipNameReading& chip : current.chips) out.sample(metric::kChipNames, {chip.chip, chip.chip_name}, 1.0);
}

}  // namespace hostpulse
