#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/metrics_store.hpp"
#include "agent/pipeline/schema.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The two formats GET /metrics speaks: Prometheus' text format 0.0.4 and
// OpenMetrics 1.0.0 (what Prometheus 2.x asks for first on every scrape).
enum class ExpositionFormat : std::uint8_t { text, openmetrics };

// OpenMetrics when the Accept header lists application/openmetrics-text
// (version 1.0.0, 0.0.1 or none) with a q above zero and at least that of
// any text/plain or */* entry; text otherwise, including for an empty or
// unreadable header: a scrape is never refused for its Accept.
[[nodiscard]] ExpositionFormat negotiate_exposition(std::string_view accept);
[[nodiscard]] std::string_view exposition_content_type(ExpositionFormat format);

// Writes families and their samples in either format. A family's samples
// follow it directly; a name written before, or not a valid metric name,
// is skipped with its samples (so two sources can never produce a page
// Prometheus rejects). Label values are escaped, and bytes that are not
// UTF-8 are replaced by U+FFFD (Prometheus drops a whole scrape for one
// such label value: a mount point can hold any bytes).
class ExpositionWriter {
 public:
  ExpositionWriter(ExpositionFormat format, std::string& out) : format_(format), out_(out) {}

  // name is the sample name, "_total" included for a counter. Returns
  // whether the family is written.
  bool family(std::string_view name, MetricType type, std::string_view help);
  void sample(std::span<const std::string_view> label_names, std::span<const std::string_view> label_values,
              double value);
  void sample(double value) { sample({}, {}, value); }
  // The OpenMetrics terminator; nothing in the text format.
  void finish();

 private:
  void write_value(double value);

  ExpositionFormat format_;
  std::string& out_;
  std::unordered_set<std::string> families_;
  std::string_view current_;  // the sample name of the family being written
  bool skipping_ = false;
};

// Every source's samples from the newest tick, each family once with its
// samples grouped under it.
void write_source_metrics(const MetricsSnapshot& snapshot, ExpositionWriter& out);

// The series of sources that declare no Prometheus families, as gauges
// named hostpulse_<family> ('.' and other bytes a metric name cannot hold
// become '_'; a counter series gets "_total"), with the series' labels and
// the newest value; series with no value at the newest point are left out.
void write_series_metrics(const Schema& schema, const History& history,
                          std::span<const SourceDefinition> sources, ExpositionWriter& out);

// "hostpulse_" + the family with '.' and bytes a metric name cannot hold as '_'.
[[nodiscard]] std::string prometheus_series_name(std::string_view family);

// gzip (RFC 1952) of body at the default level, for Accept-Encoding: gzip.
[[nodiscard]] std::string gzip_compress(std::string_view body);

}  // namespace hostpulse
