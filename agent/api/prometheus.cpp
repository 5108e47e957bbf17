#include "agent/api/prometheus.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "agent/api/header_values.hpp"
#include "agent/pipeline/series_name.hpp"
#include "base/utf8.hpp"

namespace hostpulse {
namespace {

using header_values::for_each_list_item;
using header_values::iequals;
using header_values::quality;
using header_values::trim;

constexpr std::string_view kTotalSuffix = "_total";

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) { return valid_metric_name(name) && name.find(':') == std::string_view::npos; }

// HELP text: backslash and newline escaped in both formats; OpenMetrics
// escapes double quotes too.
void append_help(std::string& out, std::string_view help, ExpositionFormat format) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && format == ExpositionFormat::openmetrics) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_escaped_valid(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_label_value(std::string& out, std::string_view value) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  while (!value.empty()) {
    const std::optional<Utf8Error> bad = find_invalid_utf8(value);
    if (!bad) {
      append_escaped_valid(out, value);
      return;
    }
    append_escaped_valid(out, value.substr(0, bad->offset));
    out += kReplacement;
    value.remove_prefix(bad->offset + 1);
  }
}

// The family name of a counter in OpenMetrics: without "_total".
std::string_view openmetrics_family(std::string_view name, MetricType type) {
  if (type == MetricType::counter && name.size() > kTotalSuffix.size() && name.ends_with(kTotalSuffix)) {
    name.remove_suffix(kTotalSuffix.size());
  }
  return name;
}

}  // namespace

ExpositionFormat negotiate_exposition(std::string_view accept) {
  double openmetrics_q = 0;
  double text_q = 0;
  for_each_list_item(accept, [&](std::string_view item) {
    const std::size_t semicolon = item.find(';');
    const std::string_view media = trim(item.substr(0, semicolon));
    const std::string_view parameters = semicolon == std::string_view::npos ? std::string_view{} : item.substr(semicolon + 1);
    const double q = quality(parameters);
    if (iequals(media, "application/openmetrics-text")) {
      // Only the versions this writes (1.0.0; 0.0.1 is its draft name).
      bool known_version = true;
      std::string_view rest = parameters;
      while (!rest.empty()) {
        const std::size_t next = rest.find(';');
        const std::string_view parameter = trim(rest.substr(0, next));
        if (parameter.size() > 8 && iequals(parameter.substr(0, 8), "version=")) {
          const std::string_view version = parameter.substr(8);
          known_version = version == "1.0.0" || version == "0.0.1";
        }
        if (next == std::string_view::npos) break;
        rest.remove_prefix(next + 1);
      }
      if (known_version) openmetrics_q = std::max(openmetrics_q, q);
    } else if (iequals(media, "text/plain") || media == "*/*" || iequals(media, "text/*")) {
      text_q = std::max(text_q, q);
    }
  });
  return openmetrics_q > 0 && openmetrics_q >= text_q ? ExpositionFormat::openmetrics : ExpositionFormat::text;
}

std::string_view exposition_content_type(ExpositionFormat format) {
  return format == ExpositionFormat::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                 : "text/plain; version=0.0.4; charset=utf-8";
}

bool ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  skipping_ = true;
  if (!valid_metric_name(name)) return false;
  const auto [written, inserted] = families_.emplace(name);
  if (!inserted) return false;
  skipping_ = false;
  current_ = *written;  // a node of the set: stable while the writer lives
  const std::string_view family =
      format_ == ExpositionFormat::openmetrics ? openmetrics_family(name, type) : name;
  const std::string_view type_name = type == MetricType::counter   ? "counter"
                                     : type == MetricType::gauge   ? "gauge"
                                     : format_ == ExpositionFormat::openmetrics ? "unknown"
                                                                   : "untyped";
  out_ += "# HELP ";
  out_ += family;
  out_ += ' ';
  append_help(out_, help, format_);
  out_ += "\n# TYPE ";
  out_ += family;
  out_ += ' ';
  out_ += type_name;
  out_ += '\n';
  return true;
}

void ExpositionWriter::write_value(double value) {
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, result.ptr);
  }
}

void ExpositionWriter::sample(std::span<const std::string_view> label_names,
                              std::span<const std::string_view> label_values, double value) {
  if (skipping_ || current_.empty()) return;
  out_ += current_;
  bool first = true;
  for (std::size_t i = 0; i < label_names.size() && i < label_values.size(); ++i) {
    if (!valid_label_name(label_names[i])) continue;
    out_ += first ? '{' : ',';
    first = false;
    out_ += label_names[i];
    out_ += "=\"";
    append_label_value(out_, label_values[i]);
    out_ += '"';
  }
  if (!first) out_ += '}';
  out_ += ' ';
  write_value(value);
  out_ += '\n';
}

void ExpositionWriter::finish() {
  if (format_ == ExpositionFormat::openmetrics) out_ += "# EOF\n";
}

void write_source_metrics(const MetricsSnapshot& snapshot, ExpositionWriter& out) {
  std::vector<std::size_t> order;
  std::array<std::string_view, kMaxMetricLabels> values{};
  for (std::size_t source = 0; source < snapshot.sources.size() && source < snapshot.samples.size(); ++source) {
    const std::span<const MetricSpec> specs = snapshot.sources[source].metrics;
    const std::vector<MetricSample>& samples = snapshot.samples[source];
    // A source writes an entity's families one after another (rx, tx for
    // eth0, then for eth1); the page needs each family's samples together.
    order.resize(samples.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return samples[a].spec < samples[b].spec; });
    std::size_t next = 0;
    for (std::size_t spec = 0; spec < specs.size(); ++spec) {
      if (next >= order.size() || samples[order[next]].spec != spec) continue;  // no samples: no family
      const MetricSpec& metric = specs[spec];
      out.family(metric.name, metric.type, metric.help);
      const std::size_t label_count = metric.label_count();
      for (; next < order.size() && samples[order[next]].spec == spec; ++next) {
        const MetricSample& sample = samples[order[next]];
        for (std::size_t i = 0; i < label_count; ++i) values[i] = sample.label(i);
        out.sample(std::span(metric.labels.data(), label_count), std::span(values.data(), label_count), sample.value);
      }
    }
  }
}

std::string prometheus_series_name(std::string_view family) {
  // Prometheus spells units out (promtool flags "_s", "_ms"): the words of
  // a family become the words of the name, abbreviated units written out.
  struct Unit {
    std::string_view abbreviation;
    std::string_view word;
  };
  constexpr Unit kUnits[] = {{"s", "seconds"}, {"ms", "milliseconds"}, {"us", "microseconds"},
                             {"ns", "nanoseconds"}, {"pct", "percent"}, {"sec", "seconds"}};
  std::string name = "hostpulse";
  std::string_view previous;
  std::size_t start = 0;
  while (start <= family.size()) {
    std::size_t end = start;
    while (end < family.size() && family[end] != '.' && family[end] != '_') ++end;
    std::string_view word = family.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    for (const Unit& unit : kUnits) {
      if (word == unit.abbreviation) word = previous == "per" && unit.abbreviation == "s" ? "second" : unit.word;
    }
    name += '_';
    for (const char c : word) {
      const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      name += allowed ? c : '_';
    }
    previous = word;
  }
  return name;
}

void write_series_metrics(const Schema& schema, const History& history, std::span<const SourceDefinition> sources,
                          ExpositionWriter& out) {
  // Families of sources with Prometheus families of their own are covered there.
  std::unordered_set<std::string> covered;
  for (const SourceDefinition& source : sources) {
    if (source.metrics.empty()) continue;
    for (const SeriesSpec& spec : source.series) {
      SeriesTemplate parts;
      if (parse_series_template(spec.name, parts).ok()) covered.insert(series_family(parts));
    }
  }
  std::map<std::string_view, std::vector<const SeriesInfo*>> families;
  std::vector<std::uint32_t> ids;
  for (const SeriesInfo& info : schema.series()) {
    if (!info.live || covered.contains(info.family)) continue;
    families[info.family].push_back(&info);
    ids.push_back(info.id);
  }
  if (ids.empty()) return;
  const HistoryColumns latest = history.latest(ids);
  if (latest.points() == 0) return;
  std::map<std::uint32_t, double> value_of;
  for (std::size_t i = 0; i < latest.series.size(); ++i) {
    if (!latest.values[i].empty()) value_of[latest.series[i]] = latest.values[i].back();
  }
  std::vector<std::string_view> names;
  std::vector<std::string_view> values;
  for (const auto& [family, members] : families) {
    bool any = false;
    for (const SeriesInfo* info : members) {
      const auto found = value_of.find(info->id);
      any = any || (found != value_of.end() && !std::isnan(found->second));
    }
    if (!any) continue;
    const bool counter = members.front()->kind == "counter";
    std::string name = prometheus_series_name(family);
    if (counter) name += kTotalSuffix;
    std::string help(members.front()->description);
    if (!members.front()->unit.empty()) help += " (" + std::string(members.front()->unit) + ")";
    if (!out.family(name, counter ? MetricType::counter : MetricType::gauge, help)) continue;
    for (const SeriesInfo* info : members) {
      const auto found = value_of.find(info->id);
      if (found == value_of.end() || std::isnan(found->second)) continue;
      names.clear();
      values.clear();
      for (const SeriesLabel& label : info->labels) {
        names.push_back(label.name);
        values.push_back(label.value);
      }
      out.sample(names, values, found->second);
    }
  }
}

std::string gzip_compress(std::string_view body) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer instead of zlib's.
  constexpr int kGzipWindowBits = 15 + 16;
  constexpr int kMemoryLevel = 8;  // zlib's default
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemoryLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(body.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END ? out : std::string{};
}

}  // namespace hostpulse
