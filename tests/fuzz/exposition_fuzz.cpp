// The /metrics writer and Accept negotiation on arbitrary bytes: the Accept
// header is the scraper's; label values come from the host (interface
// names, mount points, sensor labels: any bytes). Whatever they hold, each
// sample must stay one line of valid UTF-8, or Prometheus drops the scrape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/api/prometheus.hpp"
#include "base/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const hostpulse::ExpositionFormat format = hostpulse::negotiate_exposition(input);

  // The input split at its first two NUL bytes: a metric name, a label
  // value and a help text.
  const std::size_t first = input.find('\0');
  const std::string_view name = input.substr(0, first);
  const std::string_view rest = first == std::string_view::npos ? std::string_view{} : input.substr(first + 1);
  const std::size_t second = rest.find('\0');
  const std::string_view value = rest.substr(0, second);
  const std::string_view help = second == std::string_view::npos ? std::string_view{} : rest.substr(second + 1);

  std::string out;
  hostpulse::ExpositionWriter writer(format, out);
  if (writer.family(name, hostpulse::MetricType::counter, help)) {
    const std::string_view label_names[] = {"device"};
    const std::string_view label_values[] = {value};
    writer.sample(label_names, label_values, static_cast<double>(size));
  }
  writer.finish();
  // HELP, TYPE and one sample line, plus # EOF in OpenMetrics: no value or
  // help text may add a line.
  std::size_t lines = 0;
  for (const char c : out) lines += c == '\n';
  const std::size_t expected = (out.empty() || out == "# EOF\n" ? 0 : 3) +
                               (format == hostpulse::ExpositionFormat::openmetrics ? 1 : 0);
  if (lines != expected) std::abort();
  // Help text is escaped but not repaired (it is ours, not the host's);
  // the sample line must be valid UTF-8.
  const std::size_t sample_start = out.find("\n" + std::string(name) + "{");
  if (sample_start != std::string::npos) {
    const std::string_view sample = std::string_view(out).substr(sample_start + 1);
    if (hostpulse::find_invalid_utf8(sample.substr(0, sample.find('\n')))) std::abort();
  }
  return 0;
}
