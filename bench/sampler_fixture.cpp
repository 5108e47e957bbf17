#include "bench/sampler_fixture.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "agent/stream/frame_encoder.hpp"

namespace hostpulse::bench {
namespace {

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

std::vector<Machine> whole_hosts() {
  std::vector<Machine> hosts{{.label = "live_host", .procfs = HostPaths{}.proc, .whole_host = true}};
  if (const char* root = std::getenv("HOSTPULSE_LARGE_HOST"); root != nullptr && is_directory(root)) {
    const std::string base = root;
    hosts.push_back(
        {.label = "large_host", .procfs = base + "/proc", .sysfs = base + "/sys", .rootfs = base + "/root",
         .mounts_root = base, .whole_host = true});
  }
  return hosts;
}

SamplerFixture::SamplerFixture(const Machine& machine, Exposure exposure)
    : SamplerFixture(machine, machine.sources(), exposure) {}

SamplerFixture::SamplerFixture(const Machine& machine, std::span<const SourceDefinition> sources, Exposure exposure)
    : collectors(SourceSettings{.paths = machine.paths(), .cgroup = {.mounts_root = machine.mounts_root}}, sources),
      registry(collectors.definitions()),
      history(0, kHistoryPoints),
      metrics(collectors.definitions()),
      sampler(collectors, registry, history, std::chrono::milliseconds(1000), [this](const SampledPoint& point) {
        if (point.change != nullptr) {
          series.clear();
          for (const SeriesInfo& info : point.schema->series()) {
            if (info.live) series.push_back(info.id);
          }
        }
        t_ms[0] = point.t_ms;
        const SamplesBatch batch{1, point.seq, point.seq, t_ms, series, point.values};
        encode_samples(batch, StreamFormat::json, json);
        encode_samples(batch, StreamFormat::msgpack, msgpack);
      }) {
  if (exposure == Exposure::metrics_store) sampler.expose_to(&metrics);
  sampler.prime();
  for (int warm = 0; warm < 3; ++warm) sampler.tick();
}

}  // namespace hostpulse::bench
