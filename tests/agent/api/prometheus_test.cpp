#include "agent/api/prometheus.hpp"
#include "agent/api/rest_api.hpp"
#include "tests/support/platform_schema.hpp"

#include <zlib.h>

#include <cmath>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kPrometheus242Accept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

TEST(NegotiateExposition, PrometheusGetsOpenMetricsAndEverythingElseText) {
  EXPECT_EQ(negotiate_exposition(kPrometheus242Accept), ExpositionFormat::openmetrics);
  EXPECT_EQ(negotiate_exposition("application/openmetrics-text"), ExpositionFormat::openmetrics);
  EXPECT_EQ(negotiate_exposition("Application/OpenMetrics-Text; version=0.0.1"), ExpositionFormat::openmetrics);
  EXPECT_EQ(negotiate_exposition(""), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition("*/*"), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition("text/plain;version=0.0.4"), ExpositionFormat::text);
  // Asked for less than text, a version we do not write, or q=0: text.
  EXPECT_EQ(negotiate_exposition("application/openmetrics-text;q=0.2,text/plain;q=0.9"), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition("application/openmetrics-text;version=2.0.0"), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition("application/openmetrics-text;q=0"), ExpositionFormat::text);
  // Garbage never fails a scrape.
  EXPECT_EQ(negotiate_exposition(",,;;=q=,\x01\xff"), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition("application/openmetrics-text;q=abc"), ExpositionFormat::text);
  EXPECT_EQ(negotiate_exposition(std::string(100'000, ',')), ExpositionFormat::text);
}

TEST(ExpositionWriter, TextFormatFamiliesAndSamples) {
  std::string out;
  ExpositionWriter writer(ExpositionFormat::text, out);
  ASSERT_TRUE(writer.family("node_forks_total", MetricType::counter, "Total number of forks."));
  writer.sample(12345);
  ASSERT_TRUE(writer.family("node_load1", MetricType::gauge, "1m load average."));
  writer.sample(0.25);
  ASSERT_TRUE(writer.family("node_vmstat_pgfault", MetricType::untyped, "/proc/vmstat information field pgfault."));
  writer.sample(7);
  writer.finish();
  EXPECT_EQ(out,
            "# HELP node_forks_total Total number of forks.\n"
            "# TYPE node_forks_total counter\n"
            "node_forks_total 12345\n"
            "# HELP node_load1 1m load average.\n"
            "# TYPE node_load1 gauge\n"
            "node_load1 0.25\n"
            "# HELP node_vmstat_pgfault /proc/vmstat information field pgfault.\n"
            "# TYPE node_vmstat_pgfault untyped\n"
            "node_vmstat_pgfault 7\n");
}

TEST(ExpositionWriter, OpenMetricsNamesCounterFamiliesWithoutTotalAndEnds) {
  std::string out;
  ExpositionWriter writer(ExpositionFormat::openmetrics, out);
  writer.family("node_forks_total", MetricType::counter, "Forks \"since\" boot.");
  writer.sample(1);
  writer.family("node_vmstat_pgfault", MetricType::untyped, "x");
  writer.sample(2);
  writer.finish();
  EXPECT_EQ(out,
            "# HELP node_forks Forks \\\"since\\\" boot.\n"
            "# TYPE node_forks counter\n"
            "node_forks_total 1\n"
            "# HELP node_vmstat_pgfault x\n"
            "# TYPE node_vmstat_pgfault unknown\n"
            "node_vmstat_pgfault 2\n"
            "# EOF\n");
}

TEST(ExpositionWriter, EscapesLabelValuesAndReplacesInvalidUtf8) {
  std::string out;
  ExpositionWriter writer(ExpositionFormat::text, out);
  writer.family("node_filesystem_size_bytes", MetricType::gauge, "help with \\ and\nnewline");
  const std::string_view names[] = {"mountpoint", "device"};
  const std::string_view values[] = {"/mnt/a\"b\\c\nd", std::string_view("bad\xff\xfe" "end", 8)};
  writer.sample(names, values, 1024);
  EXPECT_THAT(out, HasSubstr("# HELP node_filesystem_size_bytes help with \\\\ and\\nnewline\n"));
  EXPECT_THAT(out, HasSubstr("node_filesystem_size_bytes{mountpoint=\"/mnt/a\\\"b\\\\c\\nd\","
                             "device=\"bad\xEF\xBF\xBD\xEF\xBF\xBD" "end\"} 1024\n"));
}

TEST(ExpositionWriter, SkipsRepeatedAndInvalidFamiliesWithTheirSamples) {
  std::string out;
  ExpositionWriter writer(ExpositionFormat::text, out);
  EXPECT_TRUE(writer.family("a_metric", MetricType::gauge, "first"));
  writer.sample(1);
  EXPECT_FALSE(writer.family("a_metric", MetricType::gauge, "again"));
  writer.sample(2);
  EXPECT_FALSE(writer.family("9starts_with_digit", MetricType::gauge, "bad"));
  writer.sample(3);
  EXPECT_FALSE(writer.family("has space", MetricType::gauge, "bad"));
  writer.sample(4);
  EXPECT_FALSE(writer.family("", MetricType::gauge, "bad"));
  writer.sample(5);
  EXPECT_EQ(out, "# HELP a_metric first\n# TYPE a_metric gauge\na_metric 1\n");
}

TEST(ExpositionWriter, DropsInvalidLabelNamesAndWritesSpecialValues) {
  std::string out;
  ExpositionWriter writer(ExpositionFormat::text, out);
  writer.family("m", MetricType::gauge, "h");
  const std::string_view names[] = {"ok", "bad-name", "has:colon"};
  const std::string_view values[] = {"1", "2", "3"};
  writer.sample(names, values, std::numeric_limits<double>::infinity());
  writer.sample({}, {}, -std::numeric_limits<double>::infinity());
  writer.sample({}, {}, std::numeric_limits<double>::quiet_NaN());
  writer.sample({}, {}, 1e21);
  EXPECT_THAT(out, HasSubstr("m{ok=\"1\"} +Inf\n"));
  EXPECT_THAT(out, HasSubstr("m -Inf\n"));
  EXPECT_THAT(out, HasSubstr("m NaN\n"));
  EXPECT_THAT(out, HasSubstr("m 1e+21\n"));
  EXPECT_THAT(out, Not(HasSubstr("bad-name")));
}

TEST(PrometheusSeriesName, SpellsOutUnitsAndReplacesOtherBytes) {
  EXPECT_EQ(prometheus_series_name("cgroup.cpu_pct"), "hostpulse_cgroup_cpu_percent");
  EXPECT_EQ(prometheus_series_name("net.rx_bytes_per_s"), "hostpulse_net_rx_bytes_per_second");
  EXPECT_EQ(prometheus_series_name("system.uptime_s"), "hostpulse_system_uptime_seconds");
  EXPECT_EQ(prometheus_series_name("disk.read_await_ms"), "hostpulse_disk_read_await_milliseconds");
  EXPECT_EQ(prometheus_series_name("load.1m"), "hostpulse_load_1m");
  EXPECT_EQ(prometheus_series_name("odd.na-me"), "hostpulse_odd_na_me");
  // "s" is a unit only as a word of its own.
  EXPECT_EQ(prometheus_series_name("fs.stuck_mounts"), "hostpulse_fs_stuck_mounts");
}

std::string gunzip(const std::string& compressed) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

TEST(GzipCompress, RoundTripsAndShrinksAScrape) {
  std::string page;
  for (int cpu = 0; cpu < 64; ++cpu) {
    page += "node_cpu_seconds_total{cpu=\"" + std::to_string(cpu) + "\",mode=\"idle\"} 12345.67\n";
  }
  const std::string compressed = gzip_compress(page);
  ASSERT_FALSE(compressed.empty());
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
  EXPECT_LT(compressed.size(), page.size() / 4);
  EXPECT_EQ(gunzip(compressed), page);
  EXPECT_EQ(gunzip(gzip_compress("")), "");
}

// A source with two families over two entities, written entity by entity as
// sources do: the page groups each family's samples under it.
constexpr MetricSpec kToyMetrics[] = {
    {"toy_rx_bytes_total", MetricType::counter, "Received.", {"device"}},
    {"toy_up", MetricType::gauge, "Up.", {"device"}},
    {"toy_info", MetricType::gauge, "Never written.", {}},
};
constexpr SourceDefinition kToySources[] = {{.name = "toy", .procfs_path = {}, .series = {}, .create = nullptr, .metrics = kToyMetrics}};

TEST(WriteSourceMetrics, GroupsEachFamilyAndLeavesOutFamiliesWithoutSamples) {
  MetricsStore store(kToySources);
  store.begin_tick();
  MetricWriter& writer = store.writer(0);
  writer.sample(0, {"eth0"}, 100);
  writer.sample(1, {"eth0"}, 1);
  writer.sample(0, {"eth1"}, 200);
  writer.sample(1, {"eth1"}, 0);
  store.publish(1000);
  std::string out;
  ExpositionWriter exposition(ExpositionFormat::text, out);
  store.read([&](const MetricsSnapshot& snapshot) { write_source_metrics(snapshot, exposition); });
  EXPECT_EQ(out,
            "# HELP toy_rx_bytes_total Received.\n"
            "# TYPE toy_rx_bytes_total counter\n"
            "toy_rx_bytes_total{device=\"eth0\"} 100\n"
            "toy_rx_bytes_total{device=\"eth1\"} 200\n"
            "# HELP toy_up Up.\n"
            "# TYPE toy_up gauge\n"
            "toy_up{device=\"eth0\"} 1\n"
            "toy_up{device=\"eth1\"} 0\n");
}

// GET /metrics through the REST API: auth, methods, formats, gzip, and the
// series of sources without families of their own.
struct MetricsEndpoint : ::testing::Test {
  static constexpr std::string_view kToken = "metrics-token-0123456789";
  const SchemaSnapshot schema = testing_support::platform_schema({0, 1});
  History history{schema->size(), 8};
  MetricsStore store{kToySources};
  AccessControl access{std::string(kToken), {}};

  RestApi api(bool metrics_public = false, bool enabled = true) {
    RestApiSources sources{[this] { return schema; }, history, AgentIdentity{"9.9.9", "box", "Linux", 1000},
                           std::chrono::milliseconds(1000), {}, {}, {}};
    sources.access = &access;
    sources.metrics = enabled ? &store : nullptr;
    sources.metrics_public = metrics_public;
    return RestApi(std::move(sources));
  }
  void SetUp() override {
    std::vector<double> values(schema->size(), 42.0);
    history.append(1000, values);
    store.begin_tick();
    store.writer(0).sample(0, {"eth0"}, 100);
    store.publish(1000);
  }
  static HttpRequest scrape(std::string_view authorization = {}) {
    HttpRequest request{"GET", "/metrics", {}, {}};
    request.credentials.authorization = authorization;
    return request;
  }
  static std::optional<std::string> header(const HttpResponse& r, std::string_view name) {
    for (const auto& [key, value] : r.headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  const std::string bearer = "Bearer " + std::string(kToken);
};

TEST_F(MetricsEndpoint, NeedsTheTokenUnlessPublic) {
  const HttpResponse refused = api().handle(scrape());
  EXPECT_EQ(refused.status, 401u);
  EXPECT_EQ(header(refused, "WWW-Authenticate"), std::optional<std::string>("Bearer realm=\"hostpulse\""));
  EXPECT_EQ(api().handle(scrape("Bearer wrong-token-0123456789")).status, 401u);
  EXPECT_EQ(api().handle(scrape(bearer)).status, 200u);
  const RestApi open = api(true);
  EXPECT_EQ(open.handle(scrape()).status, 200u);
  // Public /metrics opens nothing else.
  EXPECT_EQ(open.handle(HttpRequest{"GET", "/api/v1/info", {}, {}}).status, 401u);
}

TEST_F(MetricsEndpoint, TextByDefaultOpenMetricsForPrometheusGzipWhenAccepted) {
  const RestApi endpoint = api();
  HttpRequest request = scrape(bearer);
  HttpResponse r = endpoint.handle(request);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("toy_rx_bytes_total{device=\"eth0\"} 100\n"));
  EXPECT_THAT(r.body, HasSubstr("# TYPE toy_rx_bytes_total counter\n"));
  EXPECT_THAT(r.body, HasSubstr("hostpulse_build_info{version=\"9.9.9\"} 1\n"));
  EXPECT_THAT(r.body, HasSubstr("node_uname_info{domainname="));
  EXPECT_THAT(r.body, HasSubstr("node_time_seconds "));
  EXPECT_FALSE(r.body.ends_with("# EOF\n"));
  EXPECT_EQ(header(r, "Content-Encoding"), std::nullopt);

  request.accept = kPrometheus242Accept;
  request.accept_encoding = "gzip";
  r = endpoint.handle(request);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(header(r, "Content-Encoding"), std::optional<std::string>("gzip"));
  const std::string page = gunzip(r.body);
  EXPECT_THAT(page, HasSubstr("# TYPE toy_rx_bytes counter\n"));
  EXPECT_TRUE(page.ends_with("# EOF\n"));
  EXPECT_THAT(header(r, "Vary").value_or(""), HasSubstr("Accept-Encoding"));
}

TEST_F(MetricsEndpoint, SeriesOfSourcesWithoutFamiliesAreGaugesWithTheirLabels) {
  // The toy table declares no series, so every platform series here belongs
  // to no source with families: each is a hostpulse_ gauge.
  const HttpResponse r = api().handle(scrape(bearer));
  EXPECT_THAT(r.body, HasSubstr("# TYPE hostpulse_cpu_busy_percent gauge\n"));
  EXPECT_THAT(r.body, HasSubstr("hostpulse_cpu_busy_percent{cpu=\"1\"} 42\n"));
  EXPECT_THAT(r.body, HasSubstr("hostpulse_cpu_busy_percent 42\n"));
}

TEST_F(MetricsEndpoint, MethodsParametersAndDisabled) {
  HttpRequest post = scrape(bearer);
  post.method = "POST";
  EXPECT_EQ(api().handle(post).status, 405u);
  HttpRequest head = scrape(bearer);
  head.method = "HEAD";
  EXPECT_EQ(api().handle(head).status, 200u);
  HttpRequest with_parameter = scrape(bearer);
  with_parameter.target = "/metrics?collect[]=cpu";
  EXPECT_EQ(api().handle(with_parameter).status, 400u);
  EXPECT_EQ(api(false, false).handle(scrape(bearer)).status, 404u);
}

}  // namespace
}  // namespace hostpulse
