// Cost of GET /metrics: what a Prometheus scrape costs the agent, and what
// keeping the samples for it costs the sampler each tick. Every source on,
// on this machine's /proc (live_host) and on the generated large host
// (HOSTPULSE_LARGE_HOST, see tick_benchmark.cpp), with the MetricsStore
// filled by the agent's own Sampler::tick.
//
//   sampler_tick/H, sampler_tick_exposed/H   Sampler::tick without and with
//                                            Sampler::expose_to (the agent's default)
//   expose/H                                 what expose_to adds to a tick alone:
//                                            begin_tick, every source's expose, publish
//   scrape/FORMAT[_gzip]/H                   RestApi::handle of GET /metrics with
//                                            the Accept of Prometheus 2.42 (openmetrics)
//                                            or of a 0.0.4-only scraper (text)
//   render_sources/FORMAT/H                  write_source_metrics alone
//   render_series/FORMAT/H                   write_series_metrics alone
//   gzip/H                                   gzip_compress of the OpenMetrics page
//   gzip_level1/H, gzip_level1_reused/H      the same page through zlib at level 1
//                                            (Z_BEST_SPEED), with a fresh stream and
//                                            with one kept and reset: what a cheaper
//                                            gzip would save
//
// Every benchmark reports allocs_per_iter (bench/allocation_counter.cpp);
// the scrapes also the page's bytes and samples.
//
//   hostpulse_scrape_benchmark [google-benchmark flags]

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/api/prometheus.hpp"
#include "agent/api/rest_api.hpp"
#include "bench/allocation_probe.hpp"
#include "bench/sampler_fixture.hpp"

namespace hostpulse::bench {
namespace {

// What Prometheus 2.42 sends on every scrape (OpenMetrics first), and a
// scraper that speaks only the 0.0.4 text format.
constexpr std::string_view kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
constexpr std::string_view kTextAccept = "text/plain;version=0.0.4";

std::string_view accept_for(ExpositionFormat format) {
  return format == ExpositionFormat::openmetrics ? kPrometheusAccept : kTextAccept;
}

std::string_view format_label(ExpositionFormat format) {
  return format == ExpositionFormat::openmetrics ? "openmetrics" : "text";
}

// Lines of a page that are samples (not comments, not empty).
double sample_lines(std::string_view page) {
  std::size_t count = 0;
  while (!page.empty()) {
    const std::size_t end = page.find('\n');
    const std::string_view line = page.substr(0, end);
    if (!line.empty() && line.front() != '#') ++count;
    if (end == std::string_view::npos) break;
    page.remove_prefix(end + 1);
  }
  return static_cast<double>(count);
}

// A sampler with the store filled, and the REST API over it as the agent
// builds it (no token, so no access check; no stream or alerts attached).
struct ScrapeFixture {
  explicit ScrapeFixture(const Machine& machine)
      : sampler(machine, Exposure::metrics_store),
        api(RestApiSources{
            .schema = [this] { return sampler.registry.schema(); },
            .history = sampler.history,
            .identity = {.version = "bench", .host = "bench", .kernel = "bench", .started_t_ms = 0},
            .interval = std::chrono::milliseconds(1000),
            .sampler_stats = [this] { return sampler.sampler.stats(); },
            .server_stats = {},
            .assets = {},
            .metrics = &sampler.metrics,
            .metrics_public = true,
        }) {}

  [[nodiscard]] HttpResponse scrape(ExpositionFormat format, bool gzip) const {
    return api.handle(HttpRequest{.method = "GET", .target = "/metrics", .body = {}, .credentials = {},
                                  .accept_encoding = gzip ? "gzip" : "", .if_none_match = {},
                                  .content_type = {}, .accept = accept_for(format)});
  }

  SamplerFixture sampler;
  RestApi api;
};

std::size_t stored_samples(const MetricsStore& store) {
  std::size_t count = 0;
  store.read([&](const MetricsSnapshot& snapshot) {
    for (const auto& samples : snapshot.samples) count += samples.size();
  });
  return count;
}

void bench_sampler_tick(benchmark::State& state, const Machine& machine, Exposure exposure) {
  SamplerFixture f(machine, exposure);
  AllocationProbe probe(state);
  for (auto _ : state) f.sampler.tick();
  probe.report();
  state.counters["series"] = static_cast<double>(f.registry.schema()->size());
  state.counters["samples"] = static_cast<double>(stored_samples(f.metrics));
}

void bench_scrape(benchmark::State& state, const Machine& machine, ExpositionFormat format, bool gzip) {
  const ScrapeFixture f(machine);
  const HttpResponse first = f.scrape(format, gzip);
  if (first.status != 200) {
    state.SkipWithError(("GET /metrics answered " + std::to_string(first.status) + ": " + first.body).c_str());
    return;
  }
  const HttpResponse plain = f.scrape(format, false);
  AllocationProbe probe(state);
  for (auto _ : state) {
    HttpResponse response = f.scrape(format, gzip);
    benchmark::DoNotOptimize(response.body.data());
  }
  probe.report();
  state.counters["body_bytes"] = static_cast<double>(first.body.size());
  state.counters["page_bytes"] = static_cast<double>(plain.body.size());
  state.counters["samples"] = sample_lines(plain.body);
}

void bench_render_sources(benchmark::State& state, const Machine& machine, ExpositionFormat format) {
  const ScrapeFixture f(machine);
  std::string page;
  AllocationProbe probe(state);
  for (auto _ : state) {
    page.clear();
    ExpositionWriter out(format, page);
    f.sampler.metrics.read([&](const MetricsSnapshot& snapshot) { write_source_metrics(snapshot, out); });
    benchmark::DoNotOptimize(page.data());
  }
  probe.report();
  state.counters["page_bytes"] = static_cast<double>(page.size());
  state.counters["samples"] = sample_lines(page);
}

void bench_render_series(benchmark::State& state, const Machine& machine, ExpositionFormat format) {
  const ScrapeFixture f(machine);
  std::string page;
  AllocationProbe probe(state);
  for (auto _ : state) {
    page.clear();
    ExpositionWriter out(format, page);
    write_series_metrics(*f.sampler.registry.schema(), f.sampler.history, f.sampler.collectors.definitions(), out);
    benchmark::DoNotOptimize(page.data());
  }
  probe.report();
  state.counters["page_bytes"] = static_cast<double>(page.size());
  state.counters["samples"] = sample_lines(page);
}

// What keeping the samples adds to a tick, without the tick around it: the
// lines Sampler::tick runs when a store is attached.
void bench_expose(benchmark::State& state, const Machine& machine) {
  SamplerFixture f(machine, Exposure::metrics_store);
  // A tick ends by making its reads the previous ones; sources expose the
  // current read, so read once more, as the tick does before exposing.
  benchmark::DoNotOptimize(f.collectors.collect_all());
  std::int64_t t_ms = 0;
  AllocationProbe probe(state);
  for (auto _ : state) {
    f.metrics.begin_tick();
    f.collectors.expose_all([&](std::size_t index) -> MetricWriter& { return f.metrics.writer(index); });
    f.metrics.publish(++t_ms);
  }
  probe.report();
  state.counters["samples"] = static_cast<double>(stored_samples(f.metrics));
}

// gzip of body at the given zlib level into out, on stream (initialised
// once by the caller when reused, else here). Returns the compressed size.
std::size_t gzip_at_level(z_stream& stream, bool reused, int level, std::string_view body, std::string& out) {
  constexpr int kGzipWindowBits = 15 + 16;
  constexpr int kMemoryLevel = 8;
  if (!reused) {
    stream = z_stream{};
    if (deflateInit2(&stream, level, Z_DEFLATED, kGzipWindowBits, kMemoryLevel, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  } else {
    deflateReset(&stream);
  }
  out.resize(deflateBound(&stream, static_cast<uLong>(body.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const std::size_t size = stream.total_out;
  if (!reused) deflateEnd(&stream);
  return result == Z_STREAM_END ? size : 0;
}

void bench_gzip_level1(benchmark::State& state, const Machine& machine, bool reused) {
  const ScrapeFixture f(machine);
  const std::string page = f.scrape(ExpositionFormat::openmetrics, false).body;
  std::string compressed;
  z_stream stream{};
  if (reused) deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::size_t size = 0;
  AllocationProbe probe(state);
  for (auto _ : state) {
    size = gzip_at_level(stream, reused, Z_BEST_SPEED, page, compressed);
    benchmark::DoNotOptimize(compressed.data());
  }
  probe.report();
  if (reused) deflateEnd(&stream);
  state.counters["page_bytes"] = static_cast<double>(page.size());
  state.counters["body_bytes"] = static_cast<double>(size);
}

void bench_gzip(benchmark::State& state, const Machine& machine) {
  const ScrapeFixture f(machine);
  const std::string page = f.scrape(ExpositionFormat::openmetrics, false).body;
  std::string compressed;
  AllocationProbe probe(state);
  for (auto _ : state) {
    compressed = gzip_compress(page);
    benchmark::DoNotOptimize(compressed.data());
  }
  probe.report();
  state.counters["page_bytes"] = static_cast<double>(page.size());
  state.counters["body_bytes"] = static_cast<double>(compressed.size());
}

void register_all() {
  for (const Machine& machine : whole_hosts()) {
    const std::string& h = machine.label;
    benchmark::RegisterBenchmark(("sampler_tick/" + h).c_str(), bench_sampler_tick, machine, Exposure::none);
    benchmark::RegisterBenchmark(("sampler_tick_exposed/" + h).c_str(), bench_sampler_tick, machine,
                                 Exposure::metrics_store);
    for (const ExpositionFormat format : {ExpositionFormat::openmetrics, ExpositionFormat::text}) {
      const std::string f(format_label(format));
      benchmark::RegisterBenchmark(("scrape/" + f + "/" + h).c_str(), bench_scrape, machine, format, false);
      benchmark::RegisterBenchmark(("scrape/" + f + "_gzip/" + h).c_str(), bench_scrape, machine, format, true);
      benchmark::RegisterBenchmark(("render_sources/" + f + "/" + h).c_str(), bench_render_sources, machine, format);
      benchmark::RegisterBenchmark(("render_series/" + f + "/" + h).c_str(), bench_render_series, machine, format);
    }
    benchmark::RegisterBenchmark(("expose/" + h).c_str(), bench_expose, machine);
    benchmark::RegisterBenchmark(("gzip/" + h).c_str(), bench_gzip, machine);
    benchmark::RegisterBenchmark(("gzip_level1/" + h).c_str(), bench_gzip_level1, machine, false);
    benchmark::RegisterBenchmark(("gzip_level1_reused/" + h).c_str(), bench_gzip_level1, machine, true);
  }
}

}  // namespace
}  // namespace hostpulse::bench

int main(int argc, char** argv) {
  // Fixtures are built per benchmark: their "source unavailable" notes would
  // bury the results.
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  hostpulse::bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
