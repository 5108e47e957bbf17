#include "agent/pipeline/schema.hpp"

#include <set>

#include <gtest/gtest.h>

#include "agent/pipeline/series_match.hpp"

namespace hostpulse {
namespace {

TEST(SchemaTest, HasTheCanonicalNamesWithUnits) {
  const std::uint32_t cpus[] = {0, 1, 3};
  const Schema schema = Schema::canonical(cpus);
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
  EXPECT_FALSE(schema.find("cpu.2.busy_pct").has_value());  // offline at start
  EXPECT_EQ(schema.cpu_ids().size(), 3u);
}

TEST(SchemaTest, NamesAreUniqueAndIdsAreIndexes) {
  std::vector<std::uint32_t> cpus(64);
  for (std::uint32_t i = 0; i < 64; ++i) cpus[i] = i;
  const Schema schema = Schema::canonical(cpus);
  std::set<std::string> names;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    EXPECT_EQ(schema[i].id, i);
    EXPECT_TRUE(names.insert(schema[i].name).second) << schema[i].name;
  }
  std::vector<std::uint32_t> per_core;
  const std::string pattern[] = {"cpu.*.busy_pct"};
  ASSERT_TRUE(resolve_series(schema, pattern, per_core).ok());
  EXPECT_EQ(per_core.size(), 64u);
}

TEST(SchemaTest, LayoutPointsAtTheNamedSeries) {
  const std::uint32_t cpus[] = {0};
  const Schema schema = Schema::canonical(cpus);
  const auto& l = schema.layout();
  EXPECT_EQ(schema[l.cpu_total].name, "cpu.busy_pct");
  EXPECT_EQ(schema[l.cpu_per_core].name, "cpu.0.busy_pct");
  EXPECT_EQ(schema[l.memory_used].name, "mem.used_bytes");
  EXPECT_EQ(schema[l.swap_used].name, "swap.used_bytes");
  EXPECT_EQ(schema[l.load_15m].name, "load.15m");
  EXPECT_EQ(schema[l.procs_blocked].name, "procs.blocked");
}

}  // namespace
}  // namespace hostpulse
