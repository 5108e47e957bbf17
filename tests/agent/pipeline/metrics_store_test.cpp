#include "agent/pipeline/metrics_store.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

constexpr MetricSpec kMetrics[] = {
    {"toy_bytes_total", MetricType::counter, "Bytes.", {"device", "direction"}},
    {"toy_count", MetricType::gauge, "Count.", {}},
};
constexpr SourceDefinition kSources[] = {{.name = "toy", .procfs_path = {}, .series = {}, .create = nullptr, .metrics = kMetrics},
                                     {.name = "none", .procfs_path = {}, .series = {}, .create = nullptr}};

struct Seen {
  std::uint32_t spec;
  std::string device;
  std::string direction;
  double value;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> published(const MetricsStore& store, std::size_t source = 0) {
  std::vector<Seen> seen;
  store.read([&](const MetricsSnapshot& snapshot) {
    for (const MetricSample& sample : snapshot.samples[source]) {
      seen.push_back({sample.spec, std::string(sample.label(0)), std::string(sample.label(1)), sample.value});
    }
  });
  return seen;
}

void tick(MetricsStore& store, std::int64_t t_ms, std::initializer_list<std::string_view> devices, double value) {
  store.begin_tick();
  MetricWriter& writer = store.writer(0);
  for (const std::string_view device : devices) {
    writer.sample(0, {device, "rx"}, value);
    writer.sample(0, {device, "tx"}, value + 1);
  }
  writer.sample(1, value);
  store.publish(t_ms);
}

TEST(MetricsStore, PublishesTheNewestTickOnly) {
  MetricsStore store(kSources);
  EXPECT_TRUE(published(store).empty());
  tick(store, 1000, {"eth0", "eth1"}, 10);
  tick(store, 2000, {"eth0", "eth1"}, 20);
  EXPECT_EQ(published(store), (std::vector<Seen>{{0, "eth0", "rx", 20}, {0, "eth0", "tx", 21},
                                                 {0, "eth1", "rx", 20}, {0, "eth1", "tx", 21}, {1, "", "", 20}}));
  store.read([](const MetricsSnapshot& snapshot) {
    EXPECT_EQ(snapshot.t_ms, 2000);
    EXPECT_EQ(snapshot.ticks, 2u);
    EXPECT_TRUE(snapshot.samples[1].empty());
  });
  EXPECT_EQ(store.stats().published, 2u);
}

TEST(MetricsStore, EntitiesThatGoAwayLeaveAndNewOnesAppear) {
  MetricsStore store(kSources);
  tick(store, 1000, {"eth0", "eth1"}, 1);
  tick(store, 2000, {"eth1"}, 2);
  EXPECT_EQ(published(store), (std::vector<Seen>{{0, "eth1", "rx", 2}, {0, "eth1", "tx", 3}, {1, "", "", 2}}));
  tick(store, 3000, {"eth2", "eth1"}, 3);
  EXPECT_EQ(published(store), (std::vector<Seen>{{0, "eth2", "rx", 3}, {0, "eth2", "tx", 4}, {0, "eth1", "rx", 3},
                                                 {0, "eth1", "tx", 4}, {1, "", "", 3}}));
}

TEST(MetricsStore, SteadyTicksReuseTheirLabelStorage) {
  // A steady tick overwrites each slot in place: its label string keeps the
  // buffer it had two ticks ago (the two buffers alternate).
  MetricsStore store(kSources);
  const std::string long_device(100, 'd');  // past the small-string buffer
  const auto run = [&](std::int64_t t) {
    store.begin_tick();
    store.writer(0).sample(0, {long_device, "rx"}, static_cast<double>(t));
    store.publish(t);
  };
  run(1);
  run(2);
  const char* first = nullptr;
  store.read([&](const MetricsSnapshot& s) { first = s.samples[0][0].labels.data(); });
  run(3);
  run(4);
  store.read([&](const MetricsSnapshot& s) {
    EXPECT_EQ(s.samples[0][0].labels.data(), first);
    EXPECT_EQ(s.samples[0][0].value, 4);
  });
}

TEST(MetricsStore, RefusesWrongLabelCountsUnknownSpecsAndPastTheCap) {
  MetricsStore store(kSources);
  store.begin_tick();
  MetricWriter& writer = store.writer(0);
  writer.sample(0, {"only-one"}, 1);
  writer.sample(1, {"unexpected"}, 1);
  writer.sample(7, 1);
  for (std::size_t i = 0; i < MetricsStore::kMaxSamplesPerSource + 5; ++i) writer.sample(1, 1);
  store.publish(1);
  EXPECT_EQ(store.stats().samples_refused, 3u + 5u);
  store.read([](const MetricsSnapshot& s) { EXPECT_EQ(s.samples[0].size(), MetricsStore::kMaxSamplesPerSource); });
}

TEST(MetricsStore, ATickWhileAScrapeReadsIsSkippedNotWaitedFor) {
  MetricsStore store(kSources);
  tick(store, 1000, {"eth0"}, 1);
  store.read([&](const MetricsSnapshot& snapshot) {
    // The sampler thread publishes while this scrape holds the samples: it
    // must return at once, leaving what the scrape reads untouched.
    std::thread sampler([&] { tick(store, 2000, {"eth0"}, 2); });
    sampler.join();
    EXPECT_EQ(snapshot.t_ms, 1000);
    EXPECT_EQ(snapshot.samples[0][0].value, 1);
  });
  tick(store, 3000, {"eth0"}, 3);
  EXPECT_EQ(store.stats().publish_skipped, 1u);
  EXPECT_EQ(published(store).front().value, 3);
}

}  // namespace
}  // namespace hostpulse
