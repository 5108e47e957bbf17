// Bytes per sample of "samples" frames, JSON and msgpack (protocol 2's scaled
// delta columns), for the default series set (every series: what a subscribe
// without "series" gets) at batch sizes 1, 10 and 60, on the 2-, 64- and
// 256-CPU fixtures. Sizes are exact (no timing), so one run is enough. Prints
// a Markdown table and the largest msgpack/JSON ratio per batch size against
// the size goals of docs/PERFORMANCE.md.

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "agent/stream/frame_encoder.hpp"
#include "bench/bench_fixtures.hpp"

namespace hostpulse::bench {
namespace {

struct Row {
  std::string machine;
  std::size_t series = 0;
  std::size_t batch = 0;
  double json_per_sample = 0;
  double msgpack_per_sample = 0;
};

Row measure(const std::string& label, const std::string& procfs, std::size_t batch_points) {
  HostReads previous = load_reads(procfs);
  ReadsDeriver deriver;
  std::vector<double> point;
  // A first point registers the fixture's CPUs.
  deriver.derive(previous_of(previous, 1), previous, 1.0, point);
  const Schema& schema = *deriver.schema();
  std::vector<std::uint32_t> series;
  for (const SeriesInfo& info : schema.series()) series.push_back(info.id);

  // batch_points consecutive one-second ticks, series-major as frames hold them.
  std::vector<std::int64_t> t_ms(batch_points);
  std::vector<double> values(schema.size() * batch_points);
  for (std::size_t k = 0; k < batch_points; ++k) {
    HostReads current = advance(previous, static_cast<std::uint32_t>(k + 1));
    deriver.derive(previous, current, 1.0, point);
    for (std::size_t i = 0; i < schema.size(); ++i) values[i * batch_points + k] = point[i];
    t_ms[k] = 1'795'321'853'683 + static_cast<std::int64_t>(k) * 1000;
    previous = std::move(current);
  }
  const std::uint64_t seq_first = 123'456;
  const SamplesBatch batch{3, seq_first, seq_first + batch_points - 1, t_ms, series, values};
  std::string json;
  std::string msgpack;
  encode_samples(batch, StreamFormat::json, json);
  encode_samples(batch, StreamFormat::msgpack, msgpack);
  const auto n = static_cast<double>(batch_points);
  return {label, schema.size(), batch_points, static_cast<double>(json.size()) / n,
          static_cast<double>(msgpack.size()) / n};
}

}  // namespace
}  // namespace hostpulse::bench

int main() {
  using namespace hostpulse::bench;
  const std::string fixtures = HOSTPULSE_FIXTURES_DIR "/proc/";
  const std::pair<const char*, const char*> machines[] = {
      {"2 CPUs", "linux6_2cpu"}, {"64 CPUs", "linux6_64cpu"}, {"256 CPUs", "linux6_256cpu"}};
  std::printf("| host | series | batch | JSON bytes/sample | msgpack bytes/sample | msgpack/JSON |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  std::map<std::size_t, double> worst_ratio;  // by batch size
  for (const auto& [label, folder] : machines) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{10}, std::size_t{60}}) {
      const Row row = measure(label, fixtures + folder, batch);
      const double ratio = row.msgpack_per_sample / row.json_per_sample;
      worst_ratio[batch] = std::max(worst_ratio[batch], ratio);
      std::printf("| %s | %zu | %zu | %.0f | %.0f | %.1f %% |\n", row.machine.c_str(), row.series, row.batch,
                  row.json_per_sample, row.msgpack_per_sample, 100.0 * ratio);
    }
  }
  // The goals protocol 2's binary frames were designed for: batches are what
  // pays, single points are dominated by the frame's keys and series ids.
  const std::pair<std::size_t, double> goals[] = {{10, 0.35}, {60, 0.25}};
  std::printf("\n");
  for (const auto& [batch, goal] : goals) {
    std::printf("largest msgpack/JSON at batch %zu: %.1f %% (goal at most %.0f %%: %s)\n", batch,
                100.0 * worst_ratio[batch], 100.0 * goal, worst_ratio[batch] <= goal ? "met" : "missed");
  }
  return 0;
}
