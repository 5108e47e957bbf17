#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "agent/alerts/alert_manager.hpp"
#include "agent/alerts/silences.hpp"
#include "agent/alerts/webhook_notifier.hpp"
#include "agent/pipeline/history.hpp"
#include "agent/pipeline/metrics_store.hpp"
#include "agent/api/embedded_assets.hpp"
#include "agent/api/http_types.hpp"
#include "agent/api/url.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/api/access_control.hpp"
#include "agent/stream/stream_service.hpp"

namespace hostpulse {

struct AgentIdentity {
  std::string version;
  std::string host;
  std::string kernel;
  std::int64_t started_t_ms = 0;
};

// Everything the REST API reads. Providers are functions so tests can hand in
// fixed stats without running a sampler or a server.
struct RestApiSources {
  std::function<SchemaSnapshot()> schema;  // the newest schema
  const History& history;
  AgentIdentity identity;
  std::chrono::milliseconds interval;
  std::function<SamplerStats()> sampler_stats;
  std::function<HttpServerStats()> server_stats;  // may be empty
  std::span<const EmbeddedAsset> assets;
  AccessControl* access = nullptr;        // null: no token, everything open
  StreamService* stream = nullptr;        // null: no stream statistics
  const AlertManager* alerts = nullptr;   // null: no alerts endpoint data
  Silences* silences = nullptr;           // null: silences not supported
  const WebhookNotifier* webhooks = nullptr;
  // History replies hold at most this many values, as on the stream.
  std::size_t max_history_values = StreamOptions{}.max_history_values;
  std::size_t max_series = SeriesRegistryOptions{}.max_series;
  std::function<SeriesRegistryStats()> series_stats{};  // may be empty
  // GET /metrics (Prometheus); null: 404. Same token as /api/ unless public.
  const MetricsStore* metrics = nullptr;
  bool metrics_public = false;
};

// Routes HTTP requests: dashboard assets at "/", JSON under /api/v1/.
// Errors are JSON: {"error":{"status":404,"message":"..."}}. With a token
// configured every /api/ path but /api/v1/login needs it (bearer header or
// the session cookie from login); dashboard assets stay public so the page
// can show its login form.
class RestApi {
 public:
  explicit RestApi(RestApiSources sources);

  [[nodiscard]] HttpResponse handle(const HttpRequest& request) const;

 private:
  [[nodiscard]] HttpResponse info() const;
  [[nodiscard]] HttpResponse series_list(const RequestTarget& target) const;
  [[nodiscard]] HttpResponse snapshot(const RequestTarget& target) const;
  [[nodiscard]] HttpResponse history(const RequestTarget& target) const;
  [[nodiscard]] HttpResponse health() const;
  [[nodiscard]] HttpResponse alerts() const;
  [[nodiscard]] HttpResponse silences(const HttpRequest& request, const std::string& path) const;
  [[nodiscard]] HttpResponse login(const HttpRequest& request) const;
  [[nodiscard]] HttpResponse metrics(const HttpRequest& request) const;

  RestApiSources sources_;
};

HttpResponse json_error(unsigned status, std::string message);

}  // namespace hostpulse
