#pragma once

// Shared by the tick and scrape benchmarks: the machines they run on and the
// agent's own Sampler over the real collector set, warmed up.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/metrics_store.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/pipeline/series_registry.hpp"
#include "collectors/collector_table.hpp"
#include "collectors/host_paths.hpp"

namespace hostpulse::bench {

constexpr std::size_t kHistoryPoints = 3600;  // the default: one hour at 1 s

struct Machine {
  std::string label;  // "2cpu", "64cpu", "256cpu", "live"; "live_host", "large_host"
  std::string procfs;
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  // Where the cgroup source finds the mount points mountinfo names: the
  // generated tree's root, so its /sys/fs/cgroup resolves inside it.
  std::string mounts_root = "/";
  // Every source of the platform table, not only the four classic ones.
  bool whole_host = false;

  [[nodiscard]] HostPaths paths() const { return HostPaths{.proc = procfs, .sys = sysfs, .rootfs = rootfs}; }
  [[nodiscard]] std::span<const SourceDefinition> sources() const {
    return whole_host ? platform_sources() : core_sources();
  }
};

// Every source on: this machine, and the generated large host when
// HOSTPULSE_LARGE_HOST names its root (proc/, sys/, root/ below it).
std::vector<Machine> whole_hosts();

// Whether the sampler also fills a MetricsStore each tick (GET /metrics).
enum class Exposure : std::uint8_t { none, metrics_store };

// The agent's own path: Sampler::tick over the real collector set and
// series registry, appending to history, both encodings in the callback,
// and by default the Prometheus samples kept as the agent keeps them
// (Exposure::none: without, to see what keeping them costs).
struct SamplerFixture {
  explicit SamplerFixture(const Machine& machine, Exposure exposure = Exposure::metrics_store);
  SamplerFixture(const Machine& machine, std::span<const SourceDefinition> sources,
                 Exposure exposure = Exposure::metrics_store);
  SamplerFixture(const SamplerFixture&) = delete;
  SamplerFixture& operator=(const SamplerFixture&) = delete;

  CollectorSet collectors;
  SeriesRegistry registry;
  History history;
  MetricsStore metrics;
  std::vector<std::uint32_t> series;
  std::int64_t t_ms[1] = {0};
  std::string json;
  std::string msgpack;
  Sampler sampler;
};

}  // namespace hostpulse::bench
