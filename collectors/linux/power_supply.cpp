#include "collectors/linux/power_supply.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>

#include "collectors/linux/sysfs_attribute.hpp"

namespace hostpulse {
namespace {

using derive_math::kNoValue;
using sysfs_attribute::is_no_value_error;
using sysfs_attribute::kMaxAttributeBytes;

std::string join(std::string_view directory, std::string_view name) {
  std::string path(directory);
  path += '/';
  path += name;
  return path;
}

std::string read_type_once(const std::string& path) {
  FileReader reader(path, kMaxAttributeBytes);
  if (!reader.read().ok()) return {};
  std::string_view line;
  if (!sysfs_attribute::parse_line(reader.contents(), path, line).ok()) return {};
  return std::string(line);
}

bool is_ignored(const PowerSupplyState& state, std::string_view name) {
  return std::binary_search(state.ignored.begin(), state.ignored.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

void ignore(PowerSupplyState& state, std::string_view name) {
  const auto at = std::lower_bound(state.ignored.begin(), state.ignored.end(), name,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  state.ignored.insert(at, std::string(name));
}

void add_supply(PowerSupplyState& state, std::string_view name,
                std::vector<PowerSupplyState::Supply>::iterator at) {
  if (!sysfs_attribute::usable_name(name, PowerSupplyState::kMaxNameBytes)) {
    ++state.names_skipped;
    ignore(state, name);
    return;
  }
  if (state.supplies.size() >= PowerSupplyState::kMaxSupplies) {
    ++state.over_cap;
    ignore(state, name);
    return;
  }
  const std::string folder = join(state.directory, name);
  const SupplyKind kind = supply_kind(read_type_once(join(folder, "type")));
  bool has_capacity = false;
  bool has_status = false;
  bool has_online = false;
  if (state.supply_lister.list(folder) == 0) {
    for (const DirectoryEntry& entry : state.supply_lister.entries()) {
      has_capacity = has_capacity || entry.name == "capacity";
      has_status = has_status || entry.name == "status";
      has_online = has_online || entry.name == "online";
    }
  }
  const bool battery = kind == SupplyKind::battery;
  const auto reader = [&folder](bool present, std::string_view file) {
    return sysfs_attribute::attribute_reader(present ? join(folder, file) : std::string());
  };
  state.supplies.insert(at, PowerSupplyState::Supply{
                                .name = std::string(name),
                                .kind = kind,
                                .first = battery ? reader(has_capacity, "capacity") : reader(has_online, "online"),
                                .second = reader(battery && has_status, "status"),
                                .seen_tick = state.tick,
                            });
}

// Reads one attribute through parse; NaN on a no-value error; a broken file
// becomes the tick's failure.
double read_value(FileReader& reader, Status (*parse)(std::string_view, std::string_view, double&), Status& failure) {
  if (reader.path().empty()) return kNoValue;
  // try_read: an empty battery slot fails every tick; its message is built
  // only for a failure that is reported.
  if (!reader.try_read()) {
    if (!is_no_value_error(reader.error_number()) && failure.ok()) failure = reader.failure();
    return kNoValue;
  }
  double value = kNoValue;
  if (Status status = parse(reader.contents(), reader.path(), value); !status.ok()) {
    if (failure.ok()) failure = std::move(status);
    return kNoValue;
  }
  return value;
}

Status parse_non_negative(std::string_view text, std::string_view file_name, std::int64_t& value) {
  if (Status status = sysfs_attribute::parse_integer(text, file_name, value); !status.ok()) return status;
  if (value < 0) {
    return Status::failure(std::string(file_name) + ": expected a non-negative number, got " + std::to_string(value));
  }
  return Status::success();
}

enum Spec : std::size_t { kCharge, kDischarging, kOnline };

constexpr SeriesSpec kSeries[] = {
    {"power.{supply}.charge_pct", "percent", SeriesKind::gauge, "Battery charge (power_supply capacity)", 0},
    {"power.{supply}.discharging", "bool", SeriesKind::gauge, "1 while the battery discharges (status Discharging)", 0},
    {"power.{supply}.online", "bool", SeriesKind::gauge, "1 while the external supply (AC, USB) is connected", 0},
};
static_assert(std::size(kSeries) == kOnline + 1);

// node_exporter's powersupplyclass collector, for the attributes this
// source reads.
namespace metric {
enum : std::size_t { kCapacity, kOnline };
}
constexpr MetricSpec kMetrics[] = {
    {"node_power_supply_capacity", MetricType::gauge, "capacity value of /sys/class/power_supply/<power_supply>.",
     {"power_supply"}},
    {"node_power_supply_online", MetricType::gauge, "online value of /sys/class/power_supply/<power_supply>.",
     {"power_supply"}},
};

constexpr StatefulFunctions<PowerSupplyRead, PowerSupplyState> kFunctions{&read_power_supply, &derive_power_supply,
                                                                          nullptr, &expose_power_supply};

}  // namespace

SupplyKind supply_kind(std::string_view type_line) {
  return type_line == "Battery" || type_line == "UPS" ? SupplyKind::battery : SupplyKind::external;
}

Status parse_capacity(std::string_view text, std::string_view file_name, double& percent) {
  std::int64_t value = 0;
  if (Status status = parse_non_negative(text, file_name, value); !status.ok()) return status;
  constexpr std::int64_t kFull = 100;
  percent = value > kFull ? kNoValue : static_cast<double>(value);
  return Status::success();
}

Status parse_status(std::string_view text, std::string_view file_name, double& discharging) {
  std::string_view line;
  if (Status status = sysfs_attribute::parse_line(text, file_name, line); !status.ok()) return status;
  if (line.empty()) return Status::failure(std::string(file_name) + ": expected a status, got nothing");
  discharging = line == "Discharging" ? 1.0 : 0.0;
  return Status::success();
}

Status parse_online(std::string_view text, std::string_view file_name, double& online) {
  std::int64_t value = 0;
  if (Status status = parse_non_negative(text, file_name, value); !status.ok()) return status;
  online = value > 0 ? 1.0 : 0.0;
  return Status::success();
}

PowerSupplyState::PowerSupplyState(const SourceSettings& settings)
    : directory(settings.paths.sys_file("class/power_supply")),
      absent_message("no power supply in " + directory + " (no battery, no AC adapter)") {}

Status read_power_supply(PowerSupplyState& state, std::string_view /*primary*/, PowerSupplyRead& out) {
  out.supplies.clear();
  ++state.tick;
  const int error_number = state.class_lister.list(state.directory);
  if (error_number != 0 && error_number != ENOENT && error_number != ENOTDIR) {
    return Status::failure(state.directory + ": cannot list: " + std::generic_category().message(error_number));
  }
  if (error_number == 0) {
    for (const DirectoryEntry& entry : state.class_lister.entries()) {
      // Each supply is a folder (a link to its device in real sysfs).
      if (entry.type != DT_DIR && entry.type != DT_LNK && entry.type != DT_UNKNOWN) continue;
      const auto at = std::lower_bound(
          state.supplies.begin(), state.supplies.end(), entry.name,
          [](const PowerSupplyState::Supply& supply, std::string_view name) { return supply.name < name; });
      if (at != state.supplies.end() && at->name == entry.name) {
        at->seen_tick = state.tick;
      } else if (!is_ignored(state, entry.name)) {
        add_supply(state, entry.name, at);
      }
    }
  }
  std::erase_if(state.supplies,
                [&state](const PowerSupplyState::Supply& supply) { return supply.seen_tick != state.tick; });
  if (state.supplies.empty()) return Status::absent(state.absent_message);

  Status failure;
  for (PowerSupplyState::Supply& supply : state.supplies) {
    SupplyReading reading{.name = supply.name, .kind = supply.kind,
                          .charge_pct = kNoValue, .discharging = kNoValue, .online = kNoValue};
    if (supply.kind == SupplyKind::battery) {
      reading.charge_pct = read_value(supply.first, &parse_capacity, failure);
      reading.discharging = read_value(supply.second, &parse_status, failure);
    } else {
      reading.online = read_value(supply.first, &parse_online, failure);
    }
    out.supplies.push_back(reading);
  }
  return failure;
}

void derive_power_supply(const PowerSupplyRead* /*previous*/, const PowerSupplyRead& current,
                         const DeriveContext& /*context*/, SeriesWriter& out) {
  for (const SupplyReading& supply : current.supplies) {
    const EntityHandle entity = out.entity("supply", supply.name);
    if (supply.kind == SupplyKind::battery) {
      out.set(entity, kCharge, supply.charge_pct);
      out.set(entity, kDischarging, supply.discharging);
    } else {
      out.set(entity, kOnline, supply.online);
    }
  }
}

SourceDefinition power_supply_source() {
  return {.name = "power_supply", .procfs_path = "", .series = kSeries,
          .create = &create_stateful_source<PowerSupplyRead, PowerSupplyState, kFunctions>, .metrics = kMetrics};
}

void expose_power_supply(const PowerSupplyRead& current, MetricWriter& out) {
  for (const SupplyReading& supply : current.supplies) {
    // A value the attribute did not give (none, or a capacity over 100) has no sample.
    if (supply.kind == SupplyKind::battery && !std::isnan(supply.charge_pct)) {
      out.sample(metric::kCapacity, {supply.name}, supply.charge_pct);
    }
    if (supply.kind == SupplyKind::external && !std::isnan(supply.online)) {
      out.sample(metric::kOnline, {supply.name}, supply.online);
    }
  }
}

}  // namespace hostpulse
