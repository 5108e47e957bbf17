// docs/architecture.md#adding-a-source claims that a source is one unit:
// this file is that walk-through, compiled. The toy source below reads a
// made-up procfs file "toy" ("<device> <bytes>" per line), and everything the
// agent does with a source -- schema, ids, names, labels, rates, history,
// entities appearing and retiring -- follows from its declaration and one
// line in a table. Nothing else in the agent names its fields.

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"
#include "collectors/linux/proc_uptime.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

// 1. The raw struct: what one read of the file holds (counters as they are).
struct ToyCounters {
  struct Device {
    std::string name;
    std::uint64_t bytes = 0;
  };
  std::vector<Device> devices;
};

// 2. The pure parser: text in, struct out, a Status naming the line on error.
Status parse_toy(std::string_view text, ToyCounters& out) {
  out.devices.clear();
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return Status::failure("toy: line " + std::to_string(line_number) + " is truncated");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
      return Status::failure("toy line " + std::to_string(line_number) + ": expected '<device> <bytes>'");
    }
    ToyCounters::Device device{.name = std::string(line.substr(0, space)), .bytes = 0};
    const std::string_view number = line.substr(space + 1);
    const auto [ptr, error] = std::from_chars(number.data(), number.data() + number.size(), device.bytes);
    if (error != std::errc() || ptr != number.data() + number.size()) {
      return Status::failure("toy line " + std::to_string(line_number) + ": bad byte count");
    }
    out.devices.push_back(std::move(device));
  }
  return Status::success();
}

// 3. The series it declares: a host-wide one, and one per device (the
// placeholder names the label; the canonical name puts the device there).
enum ToySpec : std::size_t { kDevices, kBytesPerSecond, kBytesTotal };
constexpr SeriesSpec kToySeries[] = {
    {"toy.devices", "count", SeriesKind::gauge, "Devices listed", 0},
    {"toy.{device}.bytes_per_s", "per_second", SeriesKind::rate, "Bytes per second per device", 2},
    {"toy.{device}.bytes_total", "bytes", SeriesKind::counter, "Bytes since boot per device", 0},
};

// 4. The pure derive: two reads to values; counters that went back give no value.
void derive_toy(const ToyCounters* previous, const ToyCounters& current, const DeriveContext& context,
                SeriesWriter& out) {
  out.set(kDevices, static_cast<double>(current.devices.size()));
  for (const ToyCounters::Device& device : current.devices) {
    const EntityHandle entity = out.entity("device", device.name);
    out.set(entity, kBytesTotal, static_cast<double>(device.bytes));
    if (previous == nullptr) continue;
    for (const ToyCounters::Device& before : previous->devices) {
      if (before.name == device.name) {
        out.set(entity, kBytesPerSecond, derive_math::rate(before.bytes, device.bytes, context.elapsed_s));
      }
    }
  }
}

constexpr SourceFunctions<ToyCounters> kToyFunctions{&parse_toy, &derive_toy};

// 5. The table line (in the agent: collectors/linux/collector_table.cpp).
std::span<const SourceDefinition> toy_table() {
  static const SourceDefinition table[] = {
      proc_uptime_source(),
      {.name = "toy", .procfs_path = "toy", .series = kToySeries, .create = &create_source<ToyCounters, kToyFunctions>},
  };
  return table;
}

TEST(ToySourceTest, ASourceIsItsDeclarationAndOneTableLine) {
  testing_support::TempDir proc;
  proc.write("uptime", "100.00 150.00\n");
  proc.write("toy", "eth0 1000\nwlan0 50\n");
  CollectorSet collectors(HostPaths{proc.path(), "/nonexistent-sysfs"}, toy_table());
  SeriesRegistry registry(collectors.definitions(),
                          {.max_series = 100, .retire_after_reads = 2, .max_series_ids = 1000, .max_key_bytes = 64});
  History history(0, 16);
  Sampler sampler(collectors, registry, history, std::chrono::milliseconds(1000));
  sampler.prime();

  const SchemaSnapshot schema = registry.schema();
  ASSERT_TRUE(schema->find("toy.devices").has_value());
  const SeriesInfo& eth0 = (*schema)[*schema->find("toy.eth0.bytes_per_s")];
  EXPECT_EQ(eth0.family, "toy.bytes_per_s");
  EXPECT_EQ(eth0.labels, (std::vector<SeriesLabel>{{"device", "eth0"}}));
  EXPECT_EQ(eth0.kind, "rate");
  EXPECT_EQ((*schema)[*schema->find("toy.wlan0.bytes_total")].kind, "counter");

  proc.write("toy", "eth0 3000\nwlan0 50\n");
  sampler.tick();
  const std::uint32_t ids[] = {*schema->find("toy.devices"), *schema->find("toy.eth0.bytes_total"),
                               *schema->find("toy.eth0.bytes_per_s")};
  HistoryColumns latest = history.latest(ids);
  EXPECT_EQ(latest.values[0][0], 2.0);
  EXPECT_EQ(latest.values[1][0], 3000.0);
  EXPECT_GT(latest.values[2][0], 0.0) << "a rate from the two reads";

  // A device appears, another goes away for longer than the grace period.
  proc.write("toy", "eth0 4000\nusb0 7\n");
  sampler.tick();
  EXPECT_TRUE(registry.schema()->find("toy.usb0.bytes_total").has_value());
  sampler.tick();
  sampler.tick();
  const SchemaSnapshot later = registry.schema();
  EXPECT_FALSE((*later)[*later->find("toy.wlan0.bytes_total")].live) << "wlan0 retired";
  EXPECT_TRUE((*later)[*later->find("toy.usb0.bytes_total")].live);

  proc.write("toy", "eth0 oops\n");
  sampler.tick();
  const SamplerStats stats = sampler.stats();
  EXPECT_FALSE(stats.collectors[1].last_ok);
  EXPECT_NE(stats.collectors[1].last_error.find("toy line 1: bad byte count"), std::string::npos)
      << stats.collectors[1].last_error;
}

}  // namespace
}  // namespace hostpulse
