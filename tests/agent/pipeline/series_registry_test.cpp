#include "agent/pipeline/series_registry.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/pipeline/series_match.hpp"
#include "tests/support/platform_schema.hpp"

namespace hostpulse {
namespace {

TEST(PlatformSchemaTest, HasTheCanonicalNamesWithUnits) {
  const SchemaSnapshot snapshot = testing_support::platform_schema({0, 1, 3});
  const Schema& schema = *snapshot;
  struct Expected { const char* name; const char* unit; };
  const Expected expected[] = {
      {"cpu.busy_pct", "percent"},   {"cpu.user_pct", "percent"},      {"cpu.system_pct", "percent"},
      {"cpu.iowait_pct", "percent"}, {"cpu.steal_pct", "percent"},     {"cpu.nice_pct", "percent"},
      {"cpu.irq_pct", "percent"},    {"cpu.softirq_pct", "percent"},   {"cpu.idle_pct", "percent"},
      {"cpu.guest_pct", "percent"},  {"cpu.guest_nice_pct", "percent"}, {"cpu.0.busy_pct", "percent"},
      {"cpu.3.steal_pct", "percent"}, {"mem.total_bytes", "bytes"},    {"mem.used_bytes", "bytes"},
      {"mem.available_bytes", "bytes"}, {"mem.cached_bytes", "bytes"}, {"swap.total_bytes", "bytes"},
      {"swap.used_bytes", "bytes"},  {"load.1m", "load"},              {"load.5m", "load"},
      {"load.15m", "load"},          {"procs.running", "count"},       {"procs.blocked", "count"}};
  for (const Expected& e : expected) {
    const auto id = schema.find(e.name);
    ASSERT_TRUE(id.has_value()) << e.name;
    EXPECT_EQ(schema[*id].name, e.name);
    EXPECT_EQ(schema[*id].unit, e.unit) << e.name;
    EXPECT_EQ(schema[*id].id, *id);
    EXPECT_FALSE(schema[*id].kind.empty());
  }
  EXPECT_FALSE(schema.find("cpu.2.busy_pct").has_value());  // not online
  // 15 + 15 + 7 + 1 host-wide series, 11 per CPU.
  EXPECT_EQ(schema.size(), 38u + 3 * 11);
}

TEST(PlatformSchemaTest, PerCpuSeriesCarryFamilyAndLabel) {
  const SchemaSnapshot schema = testing_support::platform_schema({7});
  const SeriesInfo& core = (*schema)[*schema->find("cpu.7.iowait_pct")];
  EXPECT_EQ(core.family, "cpu.iowait_pct");
  EXPECT_EQ(core.labels, (std::vector<SeriesLabel>{{"cpu", "7"}}));
  EXPECT_EQ(core.decimals, 2);
  const SeriesInfo& total = (*schema)[*schema->find("cpu.iowait_pct")];
  EXPECT_EQ(total.family, "cpu.iowait_pct");
  EXPECT_TRUE(total.labels.empty());
  EXPECT_EQ((*schema)[*schema->find("mem.used_bytes")].decimals, 0);
  EXPECT_EQ((*schema)[*schema->find("system.forks_per_s")].kind, "rate");
}

TEST(PlatformSchemaTest, NamesAreUniqueAndIdsAreIndexes) {
  std::vector<std::uint32_t> cpus(64);
  for (std::uint32_t i = 0; i < 64; ++i) cpus[i] = i;
  const SchemaSnapshot schema = testing_support::platform_schema(cpus);
  std::set<std::string> names;
  for (std::size_t i = 0; i < schema->size(); ++i) {
    EXPECT_EQ((*schema)[i].id, i);
    EXPECT_TRUE(names.insert((*schema)[i].name).second) << (*schema)[i].name;
  }
  std::vector<std::uint32_t> per_core;
  const std::string pattern[] = {"cpu.*.busy_pct"};
  ASSERT_TRUE(resolve_series(*schema, pattern, per_core).ok());
  EXPECT_EQ(per_core.size(), 64u);
}

// A toy source with one host-wide series and one series per "device".
constexpr SeriesSpec kToySeries[] = {
    {"toy.devices", "count", SeriesKind::gauge, "Devices seen", 0},
    {"toy.{device}.bytes", "bytes", SeriesKind::gauge, "Bytes per device", 0},
    {"toy.{device}.busy_pct", "percent", SeriesKind::gauge, "Busy per device", 2},
};
struct ToyRaw {};
Status parse_toy(std::string_view, ToyRaw&) { return Status::success(); }
void derive_toy(const ToyRaw*, const ToyRaw&, const DeriveContext&, SeriesWriter&) {}
constexpr SourceFunctions<ToyRaw> kToyFunctions{&parse_toy, &derive_toy};
const SourceDefinition kToy[] = {
    {.name = "toy", .procfs_path = "toy", .series = kToySeries, .create = &create_source<ToyRaw, kToyFunctions>}};

class RegistryTest : public ::testing::Test {
 protected:
  explicit RegistryTest(SeriesRegistryOptions options = {.max_series = 100, .retire_after_reads = 3,
                                                         .max_series_ids = 1000, .max_key_bytes = 256})
      : registry(kToy, options) {}

  // One tick in which the toy source saw these devices (or failed to read).
  SchemaChange tick(std::initializer_list<std::string_view> devices, bool read_ok = true) {
    registry.begin_tick(++seq, values);
    SeriesWriter& writer = registry.writer(0);
    writer.set(0, static_cast<double>(devices.size()));
    for (const std::string_view device : devices) {
      const EntityHandle handle = writer.entity("device", device);
      writer.set(handle, 1, 1000.0);
      writer.set(handle, 2, 12.5);
    }
    const bool ok[] = {read_ok};
    return registry.end_tick(ok);
  }

  std::uint32_t id(const std::string& name) const {
    const auto found = registry.schema()->find(name);
    EXPECT_TRUE(found.has_value()) << name;
    return found.value_or(0);
  }

  SeriesRegistry registry;
  std::vector<double> values;
  std::uint64_t seq = 0;
};

TEST_F(RegistryTest, EntitiesAddTheirSeriesWhenTheyAppear) {
  const SchemaChange first = tick({"eth0"});
  // The host-wide series count as added on the first tick, then eth0's.
  EXPECT_EQ(first.added.size(), 3u);
  EXPECT_TRUE(first.retired.empty());
  EXPECT_EQ(values.size(), 3u);
  EXPECT_EQ(values[id("toy.eth0.bytes")], 1000.0);
  EXPECT_EQ(values[id("toy.devices")], 1.0);

  EXPECT_TRUE(tick({"eth0"}).empty()) << "a steady tick changes nothing";
  const SchemaChange second = tick({"eth0", "wlan0"});
  ASSERT_EQ(second.added.size(), 2u);
  EXPECT_EQ((*registry.schema())[second.added[0]].name, "toy.wlan0.bytes");
  EXPECT_EQ(values[id("toy.wlan0.busy_pct")], 12.5);
  EXPECT_EQ(registry.schema()->version(), 2u);
  EXPECT_EQ((*registry.schema())[second.added[0]].first_seq, 3u);
}

TEST_F(RegistryTest, AbsentEntitiesRetireAfterTheGracePeriodAndComeBackWithNewIds) {
  tick({"eth0", "vpn0"});
  const std::uint32_t old_id = id("toy.vpn0.bytes");
  EXPECT_TRUE(tick({"eth0"}).empty());
  EXPECT_TRUE(tick({"eth0"}).empty());
  EXPECT_TRUE(std::isnan(values[old_id])) << "absent: no value, but not retired yet";
  const SchemaChange gone = tick({"eth0"});
  ASSERT_EQ(gone.retired.size(), 2u);
  EXPECT_EQ(gone.retired[0], old_id);
  EXPECT_FALSE((*registry.schema())[old_id].live);
  EXPECT_EQ(registry.stats().live_series, 3u);

  const SchemaChange back = tick({"eth0", "vpn0"});
  ASSERT_EQ(back.added.size(), 2u);
  EXPECT_GT(back.added[0], old_id) << "ids are never reused";
  EXPECT_EQ(registry.schema()->find("toy.vpn0.bytes"), back.added[0]);
}

TEST_F(RegistryTest, AFlappingEntityInsideTheGracePeriodKeepsItsSeries) {
  tick({"eth0"});
  for (int round = 0; round < 10; ++round) {
    EXPECT_TRUE(tick({}).empty());
    EXPECT_TRUE(tick({"eth0"}).empty());
  }
}

TEST_F(RegistryTest, FailedReadsDoNotAgeEntities) {
  tick({"eth0"});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(tick({}, false).empty());
  EXPECT_TRUE((*registry.schema())[id("toy.eth0.bytes")].live);
}

TEST_F(RegistryTest, HostileKeysAreEscapedInNamesAndKeptInLabels) {
  tick({"eth0.100", "/mnt/my disk", "caf\xc3\xa9", "a*b%"});
  const SchemaSnapshot schema = registry.schema();
  const SeriesInfo& vlan = (*schema)[id("toy.eth0%2E100.bytes")];
  EXPECT_EQ(vlan.labels[0].value, "eth0.100");
  EXPECT_EQ(vlan.family, "toy.bytes");
  id("toy./mnt/my%20disk.bytes");
  id("toy.caf%C3%A9.bytes");
  id("toy.a%2Ab%25.bytes");
  // A glob still selects per-device series by family without matching the host-wide one.
  std::vector<std::uint32_t> ids;
  const std::string pattern[] = {"toy.*.bytes"};
  ASSERT_TRUE(resolve_series(*schema, pattern, ids).ok());
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(RegistryTest, EmptyAndOverlongKeysAreRefused) {
  tick({"", std::string(300, 'x')});
  EXPECT_EQ(registry.schema()->size(), 1u);
  EXPECT_EQ(registry.stats().entities_refused, 2u);
  EXPECT_FALSE(registry.stats().at_cap);
}

class CappedRegistryTest : public RegistryTest {
 protected:
  CappedRegistryTest()
      : RegistryTest({.max_series = 5, .retire_after_reads = 2, .max_series_ids = 1000, .max_key_bytes = 256}) {}
};

TEST_F(CappedRegistryTest, TheCapRefusesNewEntitiesUntilRoomIsMade) {
  tick({"a", "b", "c"});  // 1 + 2 + 2 = 5: c does not fit
  EXPECT_EQ(registry.stats().live_series, 5u);
  EXPECT_EQ(registry.stats().entities_refused, 1u);
  EXPECT_TRUE(registry.stats().at_cap);
  EXPECT_FALSE(registry.schema()->find("toy.c.bytes").has_value());
  // b leaves; after its grace period c gets its series.
  tick({"a", "c"});
  tick({"a", "c"});
  EXPECT_FALSE(registry.stats().at_cap);
  tick({"a", "c"});
  EXPECT_TRUE(registry.schema()->find("toy.c.bytes").has_value());
  EXPECT_EQ(registry.stats().live_series, 5u);
}

TEST(SeriesRegistryDeclarationTest, ABadTemplateIsAProgrammingErrorCaughtAtStart) {
  static constexpr SeriesSpec kBad[] = {{"toy.{a}.{b}", "count", SeriesKind::gauge, "two placeholders", 0}};
  static const SourceDefinition kBadSource[] = {
      {.name = "bad", .procfs_path = "bad", .series = kBad, .create = &create_source<ToyRaw, kToyFunctions>}};
  EXPECT_THROW(SeriesRegistry registry(kBadSource), std::logic_error);
}

}  // namespace
}  // namespace hostpulse
