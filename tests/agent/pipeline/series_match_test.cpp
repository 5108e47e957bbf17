#include "agent/pipeline/series_match.hpp"
#include "tests/support/platform_schema.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

TEST(GlobMatchTest, Table) {
  struct Case { const char* pattern; const char* name; bool match; };
  const Case cases[] = {
      {"cpu.busy_pct", "cpu.busy_pct", true}, {"cpu.busy_pct", "cpu.busy_pctx", false},
      {"cpu.*", "cpu.busy_pct", true},        {"cpu.*", "cpu.3.user_pct", true},
      {"cpu.*", "mem.used_bytes", false},     {"cpu.*.busy_pct", "cpu.12.busy_pct", true},
      {"cpu.*.busy_pct", "cpu.busy_pct", false}, {"*", "anything", true},
      {"*_bytes", "swap.used_bytes", true},   {"mem.*bytes", "mem.used_bytes", true},
      {"**", "x", true},                      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbY", false},               {"", "", true},
      {"", "x", false},                       {"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
  };
  for (const Case& c : cases) EXPECT_EQ(glob_match(c.pattern, c.name), c.match) << c.pattern << " vs " << c.name;
}

TEST(LabelsMatchTest, FamilyEqualsAndEveryListedLabelMatchesItsGlob) {
  const auto series = [](std::string name, std::string family, std::vector<SeriesLabel> labels) {
    SeriesInfo info;
    info.name = std::move(name);
    info.family = std::move(family);
    info.labels = std::move(labels);
    return info;
  };
  const SeriesInfo core = series("disk.sda1.read_bytes", "disk.read_bytes", {{"disk", "sda1"}, {"kind", "partition"}});
  const SeriesInfo host = series("disk.read_bytes", "disk.read_bytes", {});
  struct Case {
    const char* what;
    const SeriesInfo& info;
    const char* family;
    std::vector<SeriesLabel> globs;
    bool match;
  };
  const Case cases[] = {
      {"family only", core, "disk.read_bytes", {}, true},
      {"family only, host-wide", host, "disk.read_bytes", {}, true},
      {"other family", core, "disk.write_bytes", {}, false},
      {"family is not a prefix or glob", core, "disk.*", {}, false},
      {"empty family matches nothing", core, "", {}, false},
      {"star: label present", core, "disk.read_bytes", {{"disk", "*"}}, true},
      {"star: label absent (host-wide)", host, "disk.read_bytes", {{"disk", "*"}}, false},
      {"exact value", core, "disk.read_bytes", {{"disk", "sda1"}}, true},
      {"other value", core, "disk.read_bytes", {{"disk", "sda"}}, false},
      {"value glob", core, "disk.read_bytes", {{"disk", "sd*"}}, true},
      {"every listed label must match", core, "disk.read_bytes", {{"disk", "sd*"}, {"kind", "whole"}}, false},
      {"both listed labels match", core, "disk.read_bytes", {{"kind", "part*"}, {"disk", "*1"}}, true},
      {"unknown label name", core, "disk.read_bytes", {{"cpu", "*"}}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(labels_match(c.info, c.family, c.globs), c.match) << c.what;

  // On the platform's schema: { cpu = "*" } in cpu.busy_pct is exactly the per-core series.
  const SchemaSnapshot schema = testing_support::platform_schema({0, 1, 10});
  const std::vector<SeriesLabel> any_cpu{{"cpu", "*"}};
  const std::vector<SeriesLabel> cpu_1x{{"cpu", "1*"}};
  std::vector<std::string> per_core, ones;
  for (const SeriesInfo& info : schema->series()) {
    if (labels_match(info, "cpu.busy_pct", any_cpu)) per_core.push_back(info.name);
    if (labels_match(info, "cpu.busy_pct", cpu_1x)) ones.push_back(info.name);
  }
  EXPECT_EQ(per_core, (std::vector<std::string>{"cpu.0.busy_pct", "cpu.1.busy_pct", "cpu.10.busy_pct"}));
  EXPECT_EQ(ones, (std::vector<std::string>{"cpu.1.busy_pct", "cpu.10.busy_pct"}));
}

TEST(ResolveSeriesTest, NamesAndGlobsInOrderWithoutDuplicates) {
  const std::uint32_t cpus[] = {0, 1};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  std::vector<std::uint32_t> ids;
  const std::string patterns[] = {"mem.used_bytes", "load.*", "load.1m"};
  ASSERT_TRUE(resolve_series(schema, patterns, ids).ok());
  ASSERT_EQ(ids.size(), 7u);  // load.1m, 5m, 15m and the three per-CPU loads
  EXPECT_EQ(schema[ids[0]].name, "mem.used_bytes");
  EXPECT_EQ(schema[ids[1]].name, "load.1m");
  EXPECT_EQ(schema[ids[3]].name, "load.15m");
}

TEST(ResolveSeriesTest, UnknownNamesAndEmptyGlobsAreErrors) {
  const std::uint32_t cpus[] = {0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  std::vector<std::uint32_t> ids;
  const std::string unknown[] = {"cpu.busy_pct", "cpu.bussy_pct"};
  Status status = resolve_series(schema, unknown, ids);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("unknown series 'cpu.bussy_pct'"), std::string::npos);
  const std::string no_match[] = {"disk.*"};
  status = resolve_series(schema, no_match, ids);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("no series matches 'disk.*'"), std::string::npos);
}

TEST(SplitSeriesListTest, SplitsAndRejectsEmptyItems) {
  std::vector<std::string> items;
  ASSERT_TRUE(split_series_list("a,b.c,*", items).ok());
  EXPECT_EQ(items, (std::vector<std::string>{"a", "b.c", "*"}));
  EXPECT_FALSE(split_series_list("", items).ok());
  EXPECT_FALSE(split_series_list("a,,b", items).ok());
  EXPECT_FALSE(split_series_list("a,", items).ok());
  EXPECT_FALSE(split_series_list(std::string(300, 'x'), items).ok());
}

}  // namespace
}  // namespace hostpulse
