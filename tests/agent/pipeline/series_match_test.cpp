#include "agent/pipeline/series_match.hpp"
#include "tests/support/platform_schema.hpp"

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
