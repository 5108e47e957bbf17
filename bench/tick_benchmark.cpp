// Per-tick cost of the sampling path, stage by stage and whole, on captured
// /proc fixtures of 2, 64 and 256 CPUs and on this machine's live /proc; and
// with every source on, live and on a generated large host (64 CPUs, 50
// interfaces, 30 disks, 40 mounts, many sensors: tests/fixtures/make_large_host.py,
// found through HOSTPULSE_LARGE_HOST), whole and source by source.
// Every benchmark reports allocs_per_iter: calls of the global operator new
// per iteration, counted by bench/allocation_counter.cpp.
//
//   hostpulse_tick_benchmark [google-benchmark flags]
//   hostpulse_tick_benchmark --check-allocations   # exit 1 if a steady tick allocates (ctest smoke)

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/stream/frame_encoder.hpp"
#include "agent/stream/hub.hpp"
#include "agent/stream/stream_service.hpp"
#include "base/wall_clock.hpp"
#include "bench/allocation_counter.hpp"
#include "bench/allocation_probe.hpp"
#include "bench/bench_fixtures.hpp"
#include "bench/sampler_fixture.hpp"
#include "collectors/collector_table.hpp"
#include "collectors/host_paths.hpp"

namespace hostpulse::bench {
namespace {

// The four-source machines: stage-by-stage benchmarks read their files.
std::vector<Machine> machines() {
  const std::string fixtures = HOSTPULSE_FIXTURES_DIR "/proc/";
  return {{.label = "2cpu", .procfs = fixtures + "linux6_2cpu"},
          {.label = "64cpu", .procfs = fixtures + "linux6_64cpu"},
          {.label = "256cpu", .procfs = fixtures + "linux6_256cpu"},
          {.label = "live", .procfs = HostPaths{}.proc}};
}

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Everything one tick needs, warmed up so the loop sees the steady state.
struct TickFixture {
  explicit TickFixture(const Machine& machine)
      : collectors(HostPaths{machine.procfs, "/sys"}, core_sources()),
        current(load_reads(machine.procfs)),
        previous(previous_of(current, 1)),
        history(0, kHistoryPoints) {
    deriver.derive(previous, current, 1.0, values);
    schema = deriver.schema();
    series.reserve(schema->size());
    for (const SeriesInfo& info : schema->series()) {
      series.push_back(info.id);
      history.add_series(info.id, info.decimals);
    }
    for (int warm = 0; warm < 3; ++warm) run_once();
  }

  // read + parse every source, derive, append, encode JSON and msgpack: the
  // agent's 1 Hz work with one JSON and one msgpack subscription shape.
  // (The derive works on realistic made-up reads; the files read are the
  // fixture's, which never change.)
  void run_once() {
    collectors.collect_all();
    collectors.advance_all();
    deriver.derive(previous, current, 1.0, values);
    t_ms[0] = wall_clock_ms();
    const std::uint64_t seq = history.append(t_ms[0], values);
    encode(seq);
  }

  void encode(std::uint64_t seq) {
    const SamplesBatch batch{1, seq, seq, t_ms, series, values};
    encode_samples(batch, StreamFormat::json, json);
    encode_samples(batch, StreamFormat::msgpack, msgpack);
  }

  CollectorSet collectors;
  HostReads current;
  HostReads previous;
  ReadsDeriver deriver;
  SchemaSnapshot schema;
  History history;
  std::vector<double> values;
  std::vector<std::uint32_t> series;
  std::int64_t t_ms[1] = {0};
  std::string json;
  std::string msgpack;
};

void bench_collect(benchmark::State& state, const Machine& machine) {
  TickFixture f(machine);
  AllocationProbe probe(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.collectors.collect_all());
    f.collectors.advance_all();
  }
  probe.report();
}

void bench_parse(benchmark::State& state, const Machine& machine) {
  const std::string stat = read_text(machine.procfs + "/stat");
  const std::string meminfo = read_text(machine.procfs + "/meminfo");
  const std::string loadavg = read_text(machine.procfs + "/loadavg");
  const std::string uptime = read_text(machine.procfs + "/uptime");
  HostReads sample = load_reads(machine.procfs);
  AllocationProbe probe(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(parse_proc_stat(stat, sample.stat));
    benchmark::DoNotOptimize(parse_proc_meminfo(meminfo, sample.memory));
    benchmark::DoNotOptimize(parse_proc_loadavg(loadavg, sample.load));
    benchmark::DoNotOptimize(parse_proc_uptime(uptime, sample.uptime));
  }
  probe.report();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(stat.size() + meminfo.size() + loadavg.size() + uptime.size()));
}

void bench_derive(benchmark::State& state, const Machine& machine) {
  TickFixture f(machine);
  AllocationProbe probe(state);
  for (auto _ : state) {
    f.deriver.derive(f.previous, f.current, 1.0, f.values);
    benchmark::DoNotOptimize(f.values.data());
  }
  probe.report();
  state.counters["series"] = static_cast<double>(f.schema->size());
}

void bench_append(benchmark::State& state, const Machine& machine) {
  TickFixture f(machine);
  AllocationProbe probe(state);
  std::int64_t t = 0;
  for (auto _ : state) benchmark::DoNotOptimize(f.history.append(++t, f.values));
  probe.report();
  state.counters["history_MiB"] = static_cast<double>(f.history.memory_bytes()) / (1024.0 * 1024.0);
}

void bench_encode(benchmark::State& state, const Machine& machine, StreamFormat format) {
  TickFixture f(machine);
  const SamplesBatch batch{1, 42, 42, f.t_ms, f.series, f.values};
  std::string out;
  encode_samples(batch, format, out);
  AllocationProbe probe(state);
  for (auto _ : state) {
    encode_samples(batch, format, out);
    benchmark::DoNotOptimize(out.data());
  }
  probe.report();
  state.counters["frame_bytes"] = static_cast<double>(out.size());
}

// Same-run baseline: only reading the stat file (open, read, close), the
// kernel's share that no parser can avoid. Ratios in docs/PERFORMANCE.md are
// against this, so machine speed and noise largely cancel.
void bench_read_stat(benchmark::State& state, const Machine& machine) {
  FileReader reader(machine.procfs + "/stat");
  (void)reader.read();
  AllocationProbe probe(state);
  for (auto _ : state) benchmark::DoNotOptimize(reader.read());
  probe.report();
}

void bench_tick(benchmark::State& state, const Machine& machine) {
  TickFixture f(machine);
  AllocationProbe probe(state);
  for (auto _ : state) f.run_once();
  probe.report();
}

// The agent's own Sampler::tick (collect with per-collector timing and
// stats, derive, append) plus both encodings in the point callback. On a
// fixture the files never change, so CPU series come out as "no value";
// the live /proc has real deltas.
void bench_sampler_tick(benchmark::State& state, const Machine& machine) {
  SamplerFixture f(machine);
  AllocationProbe probe(state);
  for (auto _ : state) f.sampler.tick();
  probe.report();
  state.counters["series"] = static_cast<double>(f.registry.schema()->size());
}

// One source alone through Sampler::tick: its read, parse, derive and the
// append of its series, so the per-source costs add up to about the tick.
void bench_source(benchmark::State& state, const Machine& machine, std::size_t index) {
  SamplerFixture f(machine, platform_sources().subspan(index, 1));
  AllocationProbe probe(state);
  for (auto _ : state) f.sampler.tick();
  probe.report();
  state.counters["series"] = static_cast<double>(f.registry.schema()->size());
  const CollectorStats stats = f.sampler.stats().collectors.at(0);
  state.counters["ok"] = stats.last_ok ? 1 : 0;
}

// poll() stops the io_context once it runs out of work; restart it each time.
void run_ready(boost::asio::io_context& io) {
  io.restart();
  io.poll();
}

// A session stand-in: keeps the newest frame as a real queue would hold it.
class HoldingSession final : public StreamSession {
 public:
  void deliver(const OutboundFrame& frame) override {
    last_ = frame;
    ++delivered;
  }
  std::uint64_t delivered = 0;
  void close_for_shutdown() override {}
  void abort() override {}

 private:
  OutboundFrame last_;
};

// Past the sampler: StreamService::publish (copy + post) and the hub on its
// strand (batch, encode once per shape, wrap in a shared buffer, deliver),
// with one JSON and one msgpack subscriber of every series.
void bench_publish(benchmark::State& state, const Machine& machine) {
  TickFixture f(machine);
  boost::asio::io_context io{1};
  StreamService service(io, f.schema, f.history, HelloInfo{"bench", "bench", std::chrono::milliseconds(1000), 0},
                        wall_clock_ms(), StreamOptions{});
  auto json_session = std::make_shared<HoldingSession>();
  auto msgpack_session = std::make_shared<HoldingSession>();
  service.attach(json_session);
  service.attach(msgpack_session);
  SubscribeRequest json_request;
  json_request.series = selectors_from_patterns(std::vector<std::string>{"*"});
  service.subscribe(json_session, json_request);
  SubscribeRequest msgpack_request;
  msgpack_request.format = StreamFormat::msgpack;
  msgpack_request.series = selectors_from_patterns(std::vector<std::string>{"*"});
  service.subscribe(msgpack_session, msgpack_request);
  run_ready(io);
  std::uint64_t seq = f.history.last_seq();
  for (int warm = 0; warm < 3; ++warm) {
    service.publish(SampledPoint{.seq = ++seq, .t_ms = wall_clock_ms(), .values = f.values, .change = nullptr,
                                 .schema = nullptr});
    run_ready(io);
  }
  AllocationProbe probe(state);
  for (auto _ : state) {
    service.publish(SampledPoint{.seq = ++seq, .t_ms = wall_clock_ms(), .values = f.values, .change = nullptr,
                                 .schema = nullptr});
    run_ready(io);
  }
  probe.report();
  state.counters["frames_per_iter"] = benchmark::Counter(
      static_cast<double>(json_session->delivered + msgpack_session->delivered - 6) /
      static_cast<double>(state.iterations()));
  service.detach(json_session.get());
  service.detach(msgpack_session.get());
  run_ready(io);
}

void register_all() {
  for (const Machine& machine : machines()) {
    const std::string& m = machine.label;
    benchmark::RegisterBenchmark(("baseline_read_stat/" + m).c_str(), bench_read_stat, machine);
    benchmark::RegisterBenchmark(("parse/" + m).c_str(), bench_parse, machine);
    benchmark::RegisterBenchmark(("collect/" + m).c_str(), bench_collect, machine);
    benchmark::RegisterBenchmark(("derive/" + m).c_str(), bench_derive, machine);
    benchmark::RegisterBenchmark(("history_append/" + m).c_str(), bench_append, machine);
    benchmark::RegisterBenchmark(("encode_json/" + m).c_str(), bench_encode, machine, StreamFormat::json);
    benchmark::RegisterBenchmark(("encode_msgpack/" + m).c_str(), bench_encode, machine, StreamFormat::msgpack);
    benchmark::RegisterBenchmark(("tick/" + m).c_str(), bench_tick, machine);
    benchmark::RegisterBenchmark(("sampler_tick/" + m).c_str(), bench_sampler_tick, machine);
    benchmark::RegisterBenchmark(("stream_publish/" + m).c_str(), bench_publish, machine);
  }
  for (const Machine& machine : whole_hosts()) {
    benchmark::RegisterBenchmark(("sampler_tick/" + machine.label).c_str(), bench_sampler_tick, machine);
    const std::span<const SourceDefinition> sources = platform_sources();
    for (std::size_t index = 0; index < sources.size(); ++index) {
      benchmark::RegisterBenchmark(("source/" + std::string(sources[index].name) + "/" + machine.label).c_str(),
                                   bench_source, machine, index);
    }
  }
}

// Allocations over `ticks` runs of tick(), split by whether the tick closed
// history's blocks: closing compresses them into each series' arena, which
// may grow (during the first hour, or when a block is larger than any
// before); every other tick must allocate nothing.
struct TickAllocations {
  std::uint64_t steady = 0;
  std::uint64_t closing = 0;
  int closing_ticks = 0;
};

template <class Tick>
TickAllocations count_allocations(const History& history, int ticks, Tick tick) {
  TickAllocations counted;
  for (int i = 0; i < ticks; ++i) {
    const std::uint64_t closes = history.memory().block_closes;
    const std::uint64_t before = allocations();
    tick();
    const std::uint64_t made = allocations() - before;
    if (history.memory().block_closes != closes) {
      counted.closing += made;
      ++counted.closing_ticks;
    } else {
      counted.steady += made;
    }
  }
  return counted;
}

void print_allocations(const char* machine, const char* what, const TickAllocations& counted, int ticks) {
  std::printf("%-10s %s: %llu allocations in %d steady ticks; %llu in %d ticks closing history blocks\n", machine,
              what, static_cast<unsigned long long>(counted.steady), ticks - counted.closing_ticks,
              static_cast<unsigned long long>(counted.closing), counted.closing_ticks);
}

// The ctest smoke: no timing, only the behaviour "a steady tick allocates
// nothing". Runs each machine's tick a few hundred times, across at least
// one close of history's blocks.
int check_allocations() {
  int failures = 0;
  for (const Machine& machine : machines()) {
    TickFixture f(machine);
    SamplerFixture sampler(machine);
    constexpr int kTicks = 200;
    static_assert(kTicks > History::kDefaultBlockPoints);
    const TickAllocations tick = count_allocations(f.history, kTicks, [&f] { f.run_once(); });
    print_allocations(machine.label.c_str(), "tick (read+parse+derive+append+encode json+msgpack)", tick, kTicks);
    const TickAllocations sampled = count_allocations(sampler.history, kTicks, [&sampler] { sampler.sampler.tick(); });
    print_allocations(machine.label.c_str(), "Sampler::tick (collect+registry+append) + encode json+msgpack", sampled,
                      kTicks);
    if (tick.steady != 0 || sampled.steady != 0 || tick.closing_ticks == 0) ++failures;
  }
  // Every source on: the agent's default.
  for (const Machine& machine : whole_hosts()) {
    SamplerFixture sampler(machine);
    constexpr int kTicks = 50;
    const TickAllocations sampled = count_allocations(sampler.history, kTicks, [&sampler] { sampler.sampler.tick(); });
    const std::string what = "Sampler::tick, all " + std::to_string(sampler.collectors.size()) + " sources, " +
                             std::to_string(sampler.registry.schema()->size()) + " series";
    print_allocations(machine.label.c_str(), what.c_str(), sampled, kTicks);
    if (sampled.steady != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace hostpulse::bench

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--check-allocations") == 0) {
    return hostpulse::bench::check_allocations();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  hostpulse::bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
