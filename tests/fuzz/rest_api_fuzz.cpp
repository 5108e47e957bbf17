// HTTP requests as the REST API sees them after Beast parsed the head:
// "METHOD TARGET\nBODY". Open access (no token), so every route is reachable.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/api/rest_api.hpp"
#include "tests/support/platform_schema.hpp"

namespace {

struct Agent {
  const std::vector<std::uint32_t> cpus{0, 1};
  const hostpulse::SchemaSnapshot schema_snapshot = hostpulse::testing_support::platform_schema(cpus);
  const hostpulse::Schema& schema = *schema_snapshot;
  hostpulse::History history{schema_snapshot->size(), 16};
  hostpulse::Silences silences;
  hostpulse::RestApi api{hostpulse::RestApiSources{
      .schema = [this] { return schema_snapshot; },
      .history = history,
      .identity = {.version = "0.0.0-fuzz", .host = "fuzz", .kernel = "Linux", .started_t_ms = 1000},
      .interval = std::chrono::milliseconds(1000),
      .sampler_stats = [] { return hostpulse::SamplerStats{}; },
      .server_stats = {},
      .assets = {},
      .silences = &silences}};

  Agent() {
    std::vector<double> values(schema.size());
    for (std::int64_t point = 0; point < 20; ++point) {
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(point) + static_cast<double>(i) / 4;
      history.append(1000 + point * 1000, values);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Agent agent;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  const std::string_view head = text.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  const auto space = head.find(' ');
  if (space == std::string_view::npos) return 0;
  // The server catches what handle() throws and answers 500, but a throw is
  // still a bug: it hides the real answer. So no catch here.
  (void)agent.api.handle(hostpulse::HttpRequest{.method = head.substr(0, space), .target = head.substr(space + 1), .body = body});
  return 0;
}
