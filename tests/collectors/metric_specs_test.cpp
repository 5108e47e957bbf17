// The Prometheus families every platform source declares, checked as a
// whole: a scrape with two families of one name, an invalid name or a
// counter without "_total" is refused or misread by Prometheus.

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"

namespace hostpulse {
namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]* (the exposition format's metric names).
bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*, and "__" is reserved for Prometheus itself.
bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

TEST(MetricSpecsTest, EveryFamilyOfEverySourceIsUniqueValidAndTyped) {
  std::map<std::string, std::string, std::less<>> owner;  // family name -> source
  std::size_t families = 0;
  for (const SourceDefinition& source : platform_sources()) {
    for (const MetricSpec& spec : source.metrics) {
      SCOPED_TRACE(std::string(source.name) + ": " + std::string(spec.name));
      ++families;
      EXPECT_TRUE(valid_metric_name(spec.name));
      EXPECT_TRUE(spec.name.starts_with("node_")) << "a family of node_exporter's, under its name";
      EXPECT_FALSE(spec.help.empty());
      if (spec.type == MetricType::counter) {
        EXPECT_TRUE(spec.name.ends_with("_total")) << "counters end in _total";
      } else {
        EXPECT_FALSE(spec.name.ends_with("_total")) << "only counters end in _total";
      }
      const auto [at, inserted] = owner.emplace(std::string(spec.name), std::string(source.name));
      EXPECT_TRUE(inserted) << "also declared by " << at->second;

      // Labels: valid, distinct, without gaps (label_count stops at the first empty one).
      std::set<std::string_view> labels;
      const std::size_t count = spec.label_count();
      for (std::size_t i = 0; i < spec.labels.size(); ++i) {
        if (i >= count) {
          EXPECT_TRUE(spec.labels[i].empty()) << "label " << i << " after a gap";
          continue;
        }
        EXPECT_TRUE(valid_label_name(spec.labels[i])) << spec.labels[i];
        EXPECT_TRUE(labels.insert(spec.labels[i]).second) << "label twice: " << spec.labels[i];
      }
    }
  }
  EXPECT_GT(families, 150u);  // node_memory_* alone has 68

  // OpenMetrics names a counter's family without "_total": that name must not
  // be another family's (node_x_total next to a gauge node_x).
  for (const auto& [name, source] : owner) {
    if (!name.ends_with("_total")) continue;
    const std::string family = name.substr(0, name.size() - std::string_view("_total").size());
    EXPECT_EQ(owner.count(family), 0u) << family << " is both a counter's family and a metric";
  }
}

TEST(MetricSpecsTest, SourcesWithoutNodeExporterCounterpartsHaveNoFamilies) {
  // Their series stay hostpulse_* gauges.
  for (const SourceDefinition& source : platform_sources()) {
    if (source.name == "cgroup" || source.name == "proc_uptime") {
      EXPECT_TRUE(source.metrics.empty()) << source.name;
    } else {
      EXPECT_FALSE(source.metrics.empty()) << source.name << " has node_exporter families";
    }
  }
}

}  // namespace
}  // namespace hostpulse
