// History's compression, query time and append cost, on a real one-hour
// capture of an agent (bench/fixtures/history_1h.csv.xz) and on an hour made
// from the /proc fixtures (2, 64 and 256 CPUs, as the tick benchmark makes).
//
//   hostpulse_history_benchmark [--block-points N] [--capture FILE]
//
// Prints, per data set: compressed bytes per point of the closed blocks (the
// raw ring it replaced held 8), all-in memory per point (open blocks, the
// timeline and bookkeeping included), the encodings chosen, the series
// families that cost most, the append cost per series on a steady tick and
// on a tick that closes the blocks (with their allocations), and the time of
// a query of the whole hour for 10 series.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/history_block.hpp"
#include "bench/allocation_counter.hpp"
#include "bench/bench_fixtures.hpp"
#include "bench/history_capture.hpp"

namespace hostpulse::bench {
namespace {

constexpr std::size_t kHourPoints = 3600;  // the default history: one hour at 1 s
constexpr std::size_t kQuerySeries = 10;
constexpr int kQueryRuns = 51;

struct Dataset {
  std::string label;
  std::vector<std::string> names;
  std::vector<int> decimals;
  std::vector<std::int64_t> t_ms;
  std::vector<std::vector<double>> points;  // points[k][series id]
};

Dataset from_capture(const std::string& path) {
  const HistoryCapture capture = load_history_capture(path);
  Dataset data;
  data.label = "capture";
  data.t_ms = capture.t_ms;
  for (const CapturedSeries& series : capture.series) {
    data.names.push_back(series.name);
    data.decimals.push_back(series.decimals);
  }
  data.points.assign(capture.t_ms.size(), std::vector<double>(capture.series.size()));
  for (std::size_t s = 0; s < capture.series.size(); ++s) {
    for (std::size_t k = 0; k < capture.t_ms.size(); ++k) data.points[k][s] = capture.series[s].values[k];
  }
  std::printf("capture %s:%s\n", path.c_str(), capture.comment.c_str());
  return data;
}

// Two hours of the four classic sources on a fixture host, one "second"
// apart: the second hour shows closing ticks once the ring is full.
Dataset from_fixture(const std::string& label, const std::string& procfs) {
  Dataset data;
  data.label = label;
  HostReads current = load_reads(procfs);
  HostReads previous = previous_of(current, 1);
  ReadsDeriver deriver;
  std::vector<double> values;
  for (std::size_t k = 0; k < 2 * kHourPoints; ++k) {
    deriver.derive(previous, current, 1.0, values);
    data.points.push_back(values);
    data.t_ms.push_back(1'800'000'000'000 + static_cast<std::int64_t>(k) * 1000);
    previous = current;
    current = advance(current, static_cast<std::uint32_t>(k + 2));
  }
  const SchemaSnapshot schema = deriver.schema();
  for (const SeriesInfo& info : schema->series()) {
    data.names.push_back(info.name);
    data.decimals.push_back(info.decimals);
  }
  for (auto& point : data.points) point.resize(data.names.size(), std::nan(""));
  return data;
}

double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

double median(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::string family_of(const std::string& name) {
  // cpu.3.busy_pct -> cpu.*.busy_pct: per-entity series add up per family.
  std::string family;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string part = name.substr(start, dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!family.empty()) family += '.';
    family += numeric ? "*" : part;
    start = dot + 1;
  }
  return family;
}

void run(const Dataset& data, std::size_t block_points) {
  const std::size_t series = data.names.size();
  History history(0, kHourPoints, block_points);
  std::vector<std::uint32_t> ids(series);
  for (std::uint32_t id = 0; id < series; ++id) ids[id] = id;
  history.add_series(ids, data.decimals);

  using Clock = std::chrono::steady_clock;
  std::vector<double> steady_ns;
  std::vector<double> close_ns;
  std::uint64_t steady_allocations = 0;
  std::uint64_t close_allocations = 0;
  std::uint64_t later_close_allocations = 0;  // once the ring is full
  std::size_t later_closes = 0;
  std::vector<double> later_close_ns;
  for (std::size_t k = 0; k < data.points.size(); ++k) {
    const std::uint64_t allocations_before = allocations();
    const double cpu_start = thread_cpu_ns();
    const auto start = Clock::now();
    const std::uint64_t seq = history.append(data.t_ms[k], data.points[k]);
    const double wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    const double cpu_ns = thread_cpu_ns() - cpu_start;
    const std::uint64_t counted = allocations() - allocations_before;
    const bool closed = seq > 1 && (seq - 1) % history.block_points() == 0;
    // Steady appends are far shorter than a time slice: wall time. A
    // closing one can be preempted on a busy machine: its thread's CPU time.
    (closed ? close_ns : steady_ns).push_back(closed ? cpu_ns : wall_ns);
    (closed ? close_allocations : steady_allocations) += counted;
    if (closed && k >= kHourPoints) {
      later_close_allocations += counted;
      ++later_closes;
      later_close_ns.push_back(cpu_ns);
    }
  }
  const HistoryMemory memory = history.memory();

  // What each encoding and family costs, from the blocks' own headers.
  std::map<BlockEncoding, std::pair<std::size_t, std::size_t>> by_encoding;  // blocks, bytes
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_family;      // points, bytes
  const std::uint64_t open_block = (history.last_seq() - 1) / history.block_points();
  for (std::uint32_t id = 0; id < series; ++id) {
    for (std::uint64_t block = 0; block < open_block; ++block) {
      const std::vector<std::uint8_t> bytes = history.closed_block(id, block);
      if (bytes.empty()) continue;
      BlockHeader header;
      if (!decode_block_header(bytes, header).ok()) continue;
      by_encoding[header.encoding].first += 1;
      by_encoding[header.encoding].second += bytes.size();
      auto& family = by_family[family_of(data.names[id])];
      family.first += header.count;
      family.second += bytes.size();
    }
  }

  std::vector<std::uint32_t> query_ids;
  for (std::size_t i = 0; i < kQuerySeries && i < series; ++i) {
    query_ids.push_back(static_cast<std::uint32_t>(i * series / std::min(kQuerySeries, series)));
  }
  std::vector<double> query_ms;
  std::size_t query_points = 0;
  for (int run = 0; run < kQueryRuns; ++run) {
    const auto start = Clock::now();
    const HistoryColumns columns = history.since_seq(0, query_ids);
    query_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    query_points = columns.points();
  }

  // Every retained value must read back with the bits appended.
  std::size_t mismatches = 0;
  {
    const HistoryColumns all = history.since_seq(0, ids);
    const std::size_t first = data.points.size() - all.points();
    for (std::size_t s = 0; s < series; ++s) {
      for (std::size_t k = 0; k < all.points(); ++k) {
        if (std::bit_cast<std::uint64_t>(all.values[s][k]) != std::bit_cast<std::uint64_t>(data.points[first + k][s])) {
          ++mismatches;
        }
      }
    }
  }

  const double compressed = static_cast<double>(memory.closed_bytes) / static_cast<double>(memory.closed_points);
  const double all_in = static_cast<double>(memory.total_bytes) / static_cast<double>(history.size() * series);
  std::printf("\n== %s: %zu series x %zu points, blocks of %zu points\n", data.label.c_str(), series,
              data.points.size(), history.block_points());
  std::printf("read back: %s\n", mismatches == 0 ? "every value bit-exact" : "MISMATCHES");
  if (mismatches != 0) std::printf("  %zu values differ\n", mismatches);
  std::printf("compressed closed blocks: %.3f bytes/point (%zu bytes for %zu points; plain doubles: 8)\n", compressed,
              memory.closed_bytes, memory.closed_points);
  std::printf("all-in memory: %.3f bytes/point (%.1f KiB: open blocks %.1f KiB, timeline %.1f KiB; was %.1f KiB)\n",
              all_in, static_cast<double>(memory.total_bytes) / 1024, static_cast<double>(memory.open_bytes) / 1024,
              static_cast<double>(kHourPoints * sizeof(std::int64_t)) / 1024,
              static_cast<double>(kHourPoints * (series + 1) * sizeof(double)) / 1024);
  const char* names[] = {"?", "constant", "scaled", "xor_float", "raw"};
  for (const auto& [encoding, blocks_bytes] : by_encoding) {
    std::printf("  %-9s %6zu blocks %9zu bytes\n", names[static_cast<int>(encoding)], blocks_bytes.first,
                blocks_bytes.second);
  }
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> families(by_family.begin(), by_family.end());
  std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
  std::printf("  costliest families (bytes/point, share of bytes):\n");
  for (std::size_t i = 0; i < families.size() && i < 8; ++i) {
    std::printf("    %-32s %.3f  %4.1f %%\n", families[i].first.c_str(),
                static_cast<double>(families[i].second.second) / static_cast<double>(families[i].second.first),
                100.0 * static_cast<double>(families[i].second.second) / static_cast<double>(memory.closed_bytes));
  }
  std::printf("append, steady tick: median %.0f ns = %.2f ns/series, %llu allocations in %zu ticks\n",
              median(steady_ns), median(steady_ns) / static_cast<double>(series),
              static_cast<unsigned long long>(steady_allocations), steady_ns.size());
  std::printf("append, closing tick (thread CPU time): median %.0f us = %.0f ns/series, %llu allocations in %zu ticks (%.1f per tick)\n",
              median(close_ns) / 1000, median(close_ns) / static_cast<double>(series),
              static_cast<unsigned long long>(close_allocations), close_ns.size(),
              close_ns.empty() ? 0.0 : static_cast<double>(close_allocations) / static_cast<double>(close_ns.size()));
  if (later_closes > 0) {
    std::printf("append, closing tick after the first hour (CPU): median %.0f us = %.0f ns/series, %llu allocations in %zu "
                "ticks (%.2f per series per close)\n",
                median(later_close_ns) / 1000, median(later_close_ns) / static_cast<double>(series),
                static_cast<unsigned long long>(later_close_allocations), later_closes,
                static_cast<double>(later_close_allocations) / static_cast<double>(later_closes * series));
  }
  double amortized = 0;
  for (const double ns : steady_ns) amortized += ns;
  for (const double ns : close_ns) amortized += ns;
  std::printf("append, amortized over all ticks: %.1f ns/series/tick\n",
              amortized / static_cast<double>(data.points.size() * series));
  std::printf("query since_seq(0) of %zu points x %zu series: median %.3f ms (%d runs)\n", query_points,
              query_ids.size(), median(query_ms), kQueryRuns);
}

}  // namespace
}  // namespace hostpulse::bench

int main(int argc, char** argv) {
  std::size_t block_points = hostpulse::History::kDefaultBlockPoints;
  std::string capture = HOSTPULSE_BENCH_DIR "/fixtures/history_1h.csv.xz";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--block-points") == 0 && i + 1 < argc) {
      block_points = static_cast<std::size_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--capture") == 0 && i + 1 < argc) {
      capture = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--block-points N] [--capture FILE]\n", argv[0]);
      return 2;
    }
  }
  using namespace hostpulse::bench;
  try {
    run(from_capture(capture), block_points);
  } catch (const std::exception& e) {
    std::printf("capture: not measured (%s)\n", e.what());
  }
  const std::string fixtures = HOSTPULSE_FIXTURES_DIR "/proc/";
  for (const char* host : {"2cpu", "64cpu", "256cpu"}) {
    run(from_fixture(host, fixtures + "linux6_" + host), block_points);
  }
  return 0;
}
