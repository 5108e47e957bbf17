#include "agent/api/rest_api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "agent/alerts/alert_json.hpp"
#include "agent/api/prometheus.hpp"
#include "agent/api/static_assets.hpp"
#include "base/duration.hpp"
#include "agent/api/url.hpp"
#include "agent/stream/messages.hpp"
#include "agent/pipeline/series_match.hpp"
#include "agent/pipeline/series_selector.hpp"
#include "base/wall_clock.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kApiPrefix = "/api/";

HttpResponse json_response(const json& body, unsigned status = 200) {
  HttpResponse response;
  response.status = status;
  // Error messages quote the request (a percent-decoded path may hold any
  // byte); invalid UTF-8 in them must not make dump() throw.
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// NaN ("no value this tick") is null in JSON; nlohmann does that already, but
// say it here because clients depend on it.
json value_json(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json columns_json(const Schema& schema, const HistoryColumns& columns) {
  json names = json::array();
  for (std::uint32_t id : columns.series) names.push_back(schema[id].name);
  json values = json::array();
  for (const auto& column : columns.values) {
    json array = json::array();
    for (double v : column) array.push_back(value_json(v));
    values.push_back(std::move(array));
  }
  return json{{"seq_first", columns.seq_first}, {"seq_last", columns.seq_last}, {"t", columns.t_ms},
              {"series", std::move(names)}, {"values", std::move(values)}};
}

// Series selection parameters take a label matcher per label: label.<name>=glob.
constexpr std::string_view kLabelParameterPrefix = "label.";

// The selectors of a query: series=a,b (names and globs) and/or
// family=glob with label.<name>=glob matchers (labels alone: any family);
// none: every live series.
Status selectors_from_query(const RequestTarget& target, std::vector<SeriesSelector>& selectors) {
  selectors.clear();
  if (const std::string* list = target.parameter("series")) {
    std::vector<std::string> patterns;
    if (Status status = split_series_list(*list, patterns); !status.ok()) return Status::failure("series: " + status.error);
    selectors = selectors_from_patterns(patterns);
  }
  SeriesSelector matcher;
  for (const auto& [key, value] : target.query) {
    if (key.rfind(kLabelParameterPrefix, 0) != 0) continue;
    matcher.labels.push_back(SeriesLabel{.name = key.substr(kLabelParameterPrefix.size()), .value = value});
  }
  if (const std::string* family = target.parameter("family")) {
    matcher.family = *family;
    if (matcher.family.empty()) return Status::failure("family: must not be empty");
  } else if (!matcher.labels.empty()) {
    matcher.family = "*";  // label.cpu=3 alone: every series about CPU 3
  }
  if (!matcher.family.empty()) {
    if (Status status = validate_selector(matcher); !status.ok()) return Status::failure("family: " + status.error);
    selectors.push_back(std::move(matcher));
  }
  return Status::success();
}

Status series_from_query(const Schema& schema, const RequestTarget& target, std::vector<std::uint32_t>& ids) {
  std::vector<SeriesSelector> selectors;
  if (Status status = selectors_from_query(target, selectors); !status.ok()) return status;
  if (selectors.empty()) {
    ids.clear();
    for (const SeriesInfo& info : schema.series()) {
      if (info.live) ids.push_back(info.id);
    }
    return Status::success();
  }
  Status status = resolve_selectors(schema, selectors, false, true, ids);
  return status.ok() ? status : Status::failure("series: " + status.error);
}

Status reject_unknown_parameters(const RequestTarget& target, std::span<const std::string_view> known) {
  for (const auto& [key, value] : target.query) {
    bool found = false;
    for (std::string_view name : known) {
      found = found || key == name || (name == "label.<name>" && key.rfind(kLabelParameterPrefix, 0) == 0);
    }
    if (!found) {
      std::string list;
      for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      return Status::failure("unknown query parameter '" + key + "' (known: " + (list.empty() ? "none" : list) + ")");
    }
  }
  return Status::success();
}

// application/json, with or without parameters ("; charset=utf-8"), any case.
bool is_json_media_type(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string_view trimmed = media;
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (trimmed.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(trimmed[i])) != kJson[i]) return false;
  }
  return true;
}

}  // namespace

HttpResponse json_error(unsigned status, std::string message) {
  return json_response(json{{"error", {{"status", status}, {"message", std::move(message)}}}}, status);
}

namespace {

HttpResponse method_not_allowed(std::string_view method, std::string_view path, std::string_view allow) {
  HttpResponse response = json_error(405, "method " + std::string(method) + " not allowed on " + std::string(path));
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace

RestApi::RestApi(RestApiSources sources) : sources_(std::move(sources)) {}

HttpResponse RestApi::handle(const HttpRequest& request) const {
  RequestTarget target;
  Status status = parse_request_target(request.target, target);
  if (!status.ok()) return json_error(400, "bad request target: " + status.error);

  const bool is_read = request.method == "GET" || request.method == "HEAD";
  if (sources_.access != nullptr) {
    if (!sources_.access->host_allowed(request.credentials)) {
      return json_error(403, "Host " + quote(request.credentials.host) +
                                 " is not served here: add it to allowed_hosts in the config");
    }
    // Cross-site request forgery: a page elsewhere may make the browser send
    // a POST (text/plain, no preflight); its Origin gives it away.
    if (!is_read && !sources_.access->origin_allowed(request.credentials)) {
      return json_error(403, "Origin " + quote(request.credentials.origin) +
                                 " may not change state here: add it to allowed_origins in the config");
    }
  }
  if (!is_read && !request.body.empty() && !is_json_media_type(request.content_type)) {
    return json_error(415, "request bodies must be JSON: send Content-Type: application/json");
  }

  const std::string& path = target.path;
  if (path == "/api/v1/login" || path == "/api/v1/logout") {
    if (request.method != "POST") return method_not_allowed(request.method, path, "POST");
    if (path == "/api/v1/logout") {
      if (sources_.access != nullptr) sources_.access->logout(request.credentials.cookie);
      HttpResponse response = json_response(json{{"ok", true}});
      response.headers.emplace_back("Set-Cookie", std::string(kSessionCookieName) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
      return response;
    }
    return login(request);
  }
  if (path.rfind(kApiPrefix, 0) == 0 && sources_.access != nullptr && !sources_.access->authorized(request.credentials)) {
    HttpResponse response = json_error(401, "unauthorized: send Authorization: Bearer <token> or log in at /api/v1/login");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hostpulse\"");
    return response;
  }
  if (path == "/metrics") {
    if (sources_.metrics == nullptr) return json_error(404, "not found: /metrics");
    if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
    if (!sources_.metrics_public && sources_.access != nullptr && !sources_.access->authorized(request.credentials)) {
      HttpResponse response = json_error(401, "unauthorized: send Authorization: Bearer <token> (Prometheus: the scrape config's authorization), or set [metrics] public = true");
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hostpulse\"");
      return response;
    }
    status = reject_unknown_parameters(target, std::span<const std::string_view>{});
    return status.ok() ? metrics(request) : json_error(400, status.error);
  }
  if (path == "/api/v1/stream") {
    // Upgrades never get here: the server hands them to the stream.
    if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
    HttpResponse response = json_error(426, "this is the WebSocket stream: connect with a WebSocket client (see docs/protocol.md)");
    response.headers.emplace_back("Upgrade", "websocket");
    response.headers.emplace_back("Connection", "Upgrade");
    return response;
  }
  if (path.rfind(kApiPrefix, 0) == 0) {
    HttpResponse (RestApi::*route)(const RequestTarget&) const = nullptr;
    std::span<const std::string_view> parameters;
    static constexpr std::string_view kSnapshotParameters[] = {"series", "family", "label.<name>"};
    static constexpr std::string_view kHistoryParameters[] = {"series", "family", "label.<name>", "since_seq", "last"};
    static constexpr std::string_view kSeriesParameters[] = {"series", "family", "label.<name>", "retired"};
    if (path == "/api/v1/info") {
      if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
      status = reject_unknown_parameters(target, std::span<const std::string_view>{});
      return status.ok() ? this->info() : json_error(400, status.error);
    }
    if (path == "/api/v1/silences" || path.rfind("/api/v1/silences/", 0) == 0) {
      // Like every endpoint: a query parameter nobody reads is a mistake worth reporting.
      status = reject_unknown_parameters(target, std::span<const std::string_view>{});
      return status.ok() ? silences(request, path) : json_error(400, status.error);
    }
    if (path == "/api/v1/alerts") {
      if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
      status = reject_unknown_parameters(target, std::span<const std::string_view>{});
      return status.ok() ? this->alerts() : json_error(400, status.error);
    }
    if (path == "/api/v1/health") {
      if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
      status = reject_unknown_parameters(target, std::span<const std::string_view>{});
      return status.ok() ? this->health() : json_error(400, status.error);
    }
    if (path == "/api/v1/series") {
      route = &RestApi::series_list;
      parameters = kSeriesParameters;
    } else if (path == "/api/v1/snapshot") {
      route = &RestApi::snapshot;
      parameters = kSnapshotParameters;
    } else if (path == "/api/v1/history") {
      route = &RestApi::history;
      parameters = kHistoryParameters;
    }
    if (route == nullptr) return json_error(404, "no such API endpoint: " + path);
    if (!is_read) return method_not_allowed(request.method, path, "GET, HEAD");
    status = reject_unknown_parameters(target, parameters);
    if (!status.ok()) return json_error(400, status.error);
    return (this->*route)(target);
  }

  // Dashboard assets.
  if (std::optional<HttpResponse> asset = serve_embedded_asset(sources_.assets, request, path)) return std::move(*asset);
  return json_error(404, "not found: " + path);
}

namespace {

// The agent's own families, and the two node_exporter ones that come from
// the clock and uname() rather than a file.
void write_agent_metrics(const RestApiSources& sources, ExpositionWriter& out) {
  using Labels = std::initializer_list<std::string_view>;
  const auto one = [&](std::string_view name, MetricType type, std::string_view help, double value) {
    if (out.family(name, type, help)) out.sample(value);
  };
  const auto labelled = [&](Labels names, Labels values, double value) {
    out.sample(std::span(names.begin(), names.size()), std::span(values.begin(), values.size()), value);
  };
  one("node_time_seconds", MetricType::gauge, "System time in seconds since epoch (1970).",
      static_cast<double>(wall_clock_ms()) / 1000.0);
  struct utsname names {};
  if (uname(&names) == 0 && out.family("node_uname_info", MetricType::gauge, "Labeled system information as provided by the uname system call.")) {
    labelled({"domainname", "machine", "nodename", "release", "sysname", "version"},
             {names.domainname, names.machine, names.nodename, names.release, names.sysname, names.version}, 1);
  }
  if (out.family("hostpulse_build_info", MetricType::gauge, "A metric with a constant '1' value labeled by the version of hostpulse.")) {
    labelled({"version"}, {sources.identity.version}, 1);
  }
  one("hostpulse_start_time_seconds", MetricType::gauge, "When the agent started, in seconds since the epoch.",
      static_cast<double>(sources.identity.started_t_ms) / 1000.0);
  one("hostpulse_sampler_interval_seconds", MetricType::gauge, "The sampling interval.",
      static_cast<double>(sources.interval.count()) / 1000.0);

  const SamplerStats stats = sources.sampler_stats ? sources.sampler_stats() : SamplerStats{};
  one("hostpulse_sampler_ticks_total", MetricType::counter, "Ticks the sampler completed.", static_cast<double>(stats.ticks));
  one("hostpulse_sampler_missed_ticks_total", MetricType::counter, "Ticks skipped because the sampler woke too late.",
      static_cast<double>(stats.missed_ticks));
  one("hostpulse_sampler_tick_duration_seconds", MetricType::gauge, "How long the last tick took (read, derive, store).",
      static_cast<double>(stats.last_tick_duration_us) / 1e6);
  one("hostpulse_sampler_stalled", MetricType::gauge, "1 when the sampler has not completed a tick for three intervals.",
      is_stalled(stats, SteadyClock::now(), sources.interval) ? 1 : 0);
  if (out.family("hostpulse_source_up", MetricType::gauge, "1 when the source's last read succeeded, 0 when it failed; absent while the host has no such data.")) {
    for (const CollectorStats& c : stats.collectors) {
      if (c.available) labelled({"source"}, {c.name}, c.last_ok ? 1 : 0);
    }
  }
  if (out.family("hostpulse_source_failures_total", MetricType::counter, "Reads of the source that failed.")) {
    for (const CollectorStats& c : stats.collectors) labelled({"source"}, {c.name}, static_cast<double>(c.failures));
  }
  if (out.family("hostpulse_source_read_duration_seconds", MetricType::gauge, "How long the source's last read took.")) {
    for (const CollectorStats& c : stats.collectors) {
      labelled({"source"}, {c.name}, static_cast<double>(c.last_duration_us) / 1e6);
    }
  }
  const SeriesRegistryStats series = sources.series_stats ? sources.series_stats() : SeriesRegistryStats{};
  one("hostpulse_series_live", MetricType::gauge, "Live series.", static_cast<double>(series.live_series));
  one("hostpulse_series_at_cap", MetricType::gauge, "1 when entities were refused series for the live-series cap.",
      series.at_cap ? 1 : 0);
  one("hostpulse_series_refused_entities_total", MetricType::counter, "Entities refused series (cap or bad key).",
      static_cast<double>(series.entities_refused));
  one("hostpulse_history_memory_bytes", MetricType::gauge, "Memory held by history.",
      static_cast<double>(sources.history.memory_bytes()));
  if (sources.metrics != nullptr) {
    const MetricsStoreStats m = sources.metrics->stats();
    one("hostpulse_metrics_publish_skipped_total", MetricType::counter,
        "Ticks whose Prometheus samples were not published because a scrape was being rendered.",
        static_cast<double>(m.publish_skipped));
  }
  if (sources.server_stats) {
    const HttpServerStats h = sources.server_stats();
    one("hostpulse_http_requests_total", MetricType::counter, "HTTP requests served.", static_cast<double>(h.requests));
    one("hostpulse_http_bad_requests_total", MetricType::counter, "HTTP requests refused as unparsable or too large.",
        static_cast<double>(h.bad_requests));
    one("hostpulse_http_connections_active", MetricType::gauge, "Open HTTP connections.",
        static_cast<double>(h.connections_active));
    one("hostpulse_http_connections_shed_total", MetricType::counter,
        "Idle or slow connections closed to admit new ones.", static_cast<double>(h.connections_shed));
  }
  if (sources.stream != nullptr) {
    StreamStats& s = sources.stream->stats();
    one("hostpulse_stream_sessions_active", MetricType::gauge, "Open stream connections.",
        static_cast<double>(s.sessions_active.load()));
    one("hostpulse_stream_frames_sent_total", MetricType::counter, "Frames written to stream connections.",
        static_cast<double>(s.frames_sent.load()));
    one("hostpulse_stream_bytes_sent_total", MetricType::counter, "Bytes written to stream connections.",
        static_cast<double>(s.bytes_sent.load()));
    one("hostpulse_stream_frames_dropped_total", MetricType::counter,
        "Samples frames replaced by newer ones for a client that was behind.", static_cast<double>(s.frames_dropped.load()));
  }
  if (sources.alerts != nullptr) {
    one("hostpulse_alert_rules", MetricType::gauge, "Alert rules loaded.", static_cast<double>(sources.alerts->rule_count()));
    one("hostpulse_alerts_active", MetricType::gauge, "Alerts pending or firing.",
        static_cast<double>(sources.alerts->active().size()));
    if (sources.webhooks != nullptr) {
      const WebhookStats w = sources.webhooks->stats();
      one("hostpulse_webhook_sent_total", MetricType::counter, "Webhook notifications delivered.", static_cast<double>(w.sent));
      one("hostpulse_webhook_failed_attempts_total", MetricType::counter, "Webhook deliveries that failed (and may be retried).",
          static_cast<double>(w.failed_attempts));
      one("hostpulse_webhook_dropped_total", MetricType::counter, "Webhook notifications given up on.",
          static_cast<double>(w.dropped));
    }
  }
}

}  // namespace

HttpResponse RestApi::metrics(const HttpRequest& request) const {
  const ExpositionFormat format = negotiate_exposition(request.accept);
  HttpResponse response;
  response.content_type = std::string(exposition_content_type(format));
  ExpositionWriter out(format, response.body);
  std::span<const SourceDefinition> definitions;
  sources_.metrics->read([&](const MetricsSnapshot& snapshot) {
    definitions = snapshot.sources;
    write_source_metrics(snapshot, out);
  });
  if (sources_.schema) write_series_metrics(*sources_.schema(), sources_.history, definitions, out);
  write_agent_metrics(sources_, out);
  out.finish();
  response.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  if (accepts_gzip(request.accept_encoding)) {
    std::string compressed = gzip_compress(response.body);
    if (!compressed.empty()) {
      response.body = std::move(compressed);
      response.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  return response;
}

HttpResponse RestApi::info() const {
  const SchemaSnapshot current = sources_.schema();
  json schema = json::array();
  std::size_t cpus = 0;
  for (const SeriesInfo& info : current->series()) {
    if (!info.live) continue;
    schema.push_back(series_json(info));
    if (info.family == "cpu.busy_pct" && !info.labels.empty()) ++cpus;
  }
  const AgentIdentity& id = sources_.identity;
  return json_response(json{
      {"version", id.version},
      {"host", id.host},
      {"kernel", id.kernel},
      {"cpu_count", cpus},
      {"interval_ms", sources_.interval.count()},
      {"history_points", sources_.history.capacity()},
      {"started_t", id.started_t_ms},
      {"seq", sources_.history.last_seq()},
      {"schema", std::move(schema)},
  });
}

// The series the selection picks, with everything known about each; retired
// ones too with retired=true (their history is kept for a while).
HttpResponse RestApi::series_list(const RequestTarget& target) const {
  const SchemaSnapshot schema = sources_.schema();
  bool with_retired = false;
  if (const std::string* retired = target.parameter("retired")) {
    if (*retired != "true" && *retired != "false") return json_error(400, "retired: expected true or false");
    with_retired = *retired == "true";
  }
  std::vector<SeriesSelector> selectors;
  if (Status status = selectors_from_query(target, selectors); !status.ok()) return json_error(400, status.error);
  if (selectors.empty()) selectors.push_back(SeriesSelector{.pattern = "*", .family = {}, .labels = {}});
  std::vector<std::uint32_t> ids;
  // No match is an empty list here, not an error: this is how one asks.
  (void)resolve_selectors(*schema, selectors, with_retired, false, ids);
  std::sort(ids.begin(), ids.end());
  json list = json::array();
  for (const std::uint32_t id : ids) list.push_back(series_json((*schema)[id]));
  return json_response(json{{"schema_version", schema->version()}, {"series", std::move(list)}});
}

HttpResponse RestApi::snapshot(const RequestTarget& target) const {
  const SchemaSnapshot schema = sources_.schema();
  std::vector<std::uint32_t> ids;
  Status status = series_from_query(*schema, target, ids);
  if (!status.ok()) return json_error(400, status.error);
  const HistoryColumns latest = sources_.history.latest(ids);
  json values = json::object();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    values[(*schema)[ids[i]].name] = latest.points() == 0 ? json(nullptr) : value_json(latest.values[i][0]);
  }
  return json_response(json{{"seq", latest.seq_last},
                            {"t", latest.points() == 0 ? json(nullptr) : json(latest.t_ms[0])},
                            {"values", std::move(values)}});
}

HttpResponse RestApi::history(const RequestTarget& target) const {
  const SchemaSnapshot schema = sources_.schema();
  std::vector<std::uint32_t> ids;
  Status status = series_from_query(*schema, target, ids);
  if (!status.ok()) return json_error(400, status.error);
  const std::string* since_seq = target.parameter("since_seq");
  const std::string* last = target.parameter("last");
  if (since_seq != nullptr && last != nullptr) return json_error(400, "give since_seq or last, not both");
  HistoryColumns columns;
  if (since_seq != nullptr) {
    std::uint64_t seq = 0;
    const auto [end, error] = std::from_chars(since_seq->data(), since_seq->data() + since_seq->size(), seq);
    if (since_seq->empty() || error != std::errc() || end != since_seq->data() + since_seq->size()) {
      return json_error(400, "since_seq: expected a non-negative integer, got '" + *since_seq + "'");
    }
    columns = sources_.history.since_seq(seq, ids);
  } else if (last != nullptr) {
    std::chrono::milliseconds window{};
    status = parse_duration(*last, window);
    if (!status.ok()) return json_error(400, "last: " + status.error);
    if (window.count() == 0) return json_error(400, "last: must be longer than 0s");
    columns = sources_.history.since_time(wall_clock_ms() - window.count(), ids);
  } else {
    // Refuse before copying: the whole history is asked for.
    status = check_history_reply_size(sources_.history.size(), ids.size(), sources_.max_history_values);
    if (!status.ok()) return json_error(400, status.error);
    columns = sources_.history.since_seq(0, ids);
  }
  status = check_history_reply_size(columns.points(), ids.size(), sources_.max_history_values);
  if (!status.ok()) return json_error(400, status.error);
  return json_response(columns_json(*schema, columns));
}

HttpResponse RestApi::login(const HttpRequest& request) const {
  if (sources_.access == nullptr || !sources_.access->token_required()) {
    return json_error(404, "no token is configured: nothing to log in to");
  }
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return json_error(400, "expected a JSON body {\"token\": \"...\"}");
  }
  const auto session = sources_.access->login(body["token"].get<std::string>());
  if (!session) return json_error(401, "wrong token");
  HttpResponse response = json_response(json{{"ok", true}});
  response.headers.emplace_back("Set-Cookie", std::string(kSessionCookieName) + "=" + *session +
                                                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                                  std::to_string(AccessControl::kSessionLifetime.count() * 3600));
  return response;
}

HttpResponse RestApi::silences(const HttpRequest& request, const std::string& path) const {
  if (sources_.silences == nullptr) return json_error(404, "silences are not available");
  const auto now = wall_clock_ms();
  const auto silence_json = [](const Silence& s) {
    return json{{"id", s.id}, {"rule", s.rule}, {"instance", s.instance}, {"until", s.until_ms}, {"comment", s.comment}};
  };
  if (path == "/api/v1/silences") {
    if (request.method == "GET" || request.method == "HEAD") {
      json list = json::array();
      for (const Silence& s : sources_.silences->list(now)) list.push_back(silence_json(s));
      return json_response(json{{"silences", std::move(list)}});
    }
    if (request.method != "POST") return method_not_allowed(request.method, path, "GET, HEAD, POST");
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return json_error(400, "expected a JSON object {\"rule\": \"cpu_busy\", \"instance\": \"*\", \"duration\": \"1h\"}");
    }
    Silence silence;
    silence.rule = "*";
    silence.instance = "*";
    for (const auto& [key, value] : body.items()) {
      if (key == "rule" || key == "instance" || key == "comment" || key == "duration") {
        if (!value.is_string()) return json_error(400, key + ": expected a string");
        const std::string& text = value.get_ref<const std::string&>();
        if (text.size() > 256) return json_error(400, key + ": longer than 256 characters");
        if (key == "rule") silence.rule = text;
        if (key == "instance") silence.instance = text;
        if (key == "comment") silence.comment = text;
      } else {
        return json_error(400, "unknown field '" + key + "' (allowed: rule, instance, duration, comment)");
      }
    }
    if (!body.contains("duration")) return json_error(400, "duration: required, e.g. \"1h\"");
    std::chrono::milliseconds duration{};
    const Status status = parse_duration(body["duration"].get<std::string>(), duration);
    if (!status.ok()) return json_error(400, "duration: " + status.error);
    if (duration.count() == 0 || duration > std::chrono::hours(24 * 30)) {
      return json_error(400, "duration: must be between 1ms and 30d");
    }
    if (silence.rule.empty() || silence.instance.empty()) return json_error(400, "rule and instance must not be empty");
    silence.until_ms = now + duration.count();
    Silence added;
    const Status stored = sources_.silences->add(silence, added);
    if (!stored.ok()) return json_error(409, stored.error);
    return json_response(silence_json(added), 201);
  }
  const std::string id = path.substr(std::string_view("/api/v1/silences/").size());
  if (request.method != "DELETE") return method_not_allowed(request.method, path, "DELETE");
  if (!sources_.silences->remove(id)) return json_error(404, "no silence with id '" + id + "'");
  return json_response(json{{"deleted", id}});
}

HttpResponse RestApi::alerts() const {
  json active = json::array();
  json events = json::array();
  std::size_t rules = 0;
  if (sources_.alerts != nullptr) {
    for (const ActiveAlert& alert : sources_.alerts->active()) active.push_back(active_alert_json(alert));
    for (const AlertEvent& event : sources_.alerts->recent_events()) events.push_back(alert_event_json(event));
    rules = sources_.alerts->rule_count();
  }
  return json_response(json{{"rules", rules}, {"active", std::move(active)}, {"events", std::move(events)}});
}

HttpResponse RestApi::health() const {
  const SamplerStats stats = sources_.sampler_stats ? sources_.sampler_stats() : SamplerStats{};
  // Staleness comes from the last completed tick against the clock here, on
  // the HTTP thread: a sampler stuck inside a tick updates nothing, so every
  // counter it keeps would still look fine.
  const auto now = SteadyClock::now();
  const bool stalled = is_stalled(stats, now, sources_.interval);
  bool healthy = !stalled;
  json collectors = json::array();
  for (const CollectorStats& c : stats.collectors) {
    healthy = healthy && (c.last_ok || !c.available);
    collectors.push_back(json{{"name", c.name},
                              {"ok", c.last_ok},
                              {"available", c.available},
                              {"unavailable_reason", c.available ? json(nullptr) : json(c.unavailable_reason)},
                              {"successes", c.successes},
                              {"failures", c.failures},
                              {"last_error", c.last_error.empty() ? json(nullptr) : json(c.last_error)},
                              {"last_error_t", c.last_error_t_ms == 0 ? json(nullptr) : json(c.last_error_t_ms)},
                              {"last_duration_us", c.last_duration_us},
                              {"max_duration_us", c.max_duration_us}});
  }
  const SeriesRegistryStats series = sources_.series_stats ? sources_.series_stats() : SeriesRegistryStats{};
  // At the cap, entities go without series: something users must hear of.
  healthy = healthy && !series.at_cap;
  json body{
      {"status", healthy ? "ok" : "degraded"},
      {"version", sources_.identity.version},
      {"uptime_s", (wall_clock_ms() - sources_.identity.started_t_ms) / 1000},
      {"sampler",
       {{"interval_ms", sources_.interval.count()},
        {"ticks", stats.ticks},
        {"missed_ticks", stats.missed_ticks},
        {"last_tick_t", stats.last_tick_t_ms == 0 ? json(nullptr) : json(stats.last_tick_t_ms)},
        {"last_tick_duration_us", stats.last_tick_duration_us},
        {"stalled", stalled},
        {"since_last_tick_ms", time_since_progress(stats, now).count()},
        {"stall_after_ms", stall_after(sources_.interval).count()},
        {"busy_collector", stats.busy_collector && *stats.busy_collector < stats.collectors.size()
                               ? json(stats.collectors[*stats.busy_collector].name)
                               : json(nullptr)}}},
      {"collectors", std::move(collectors)},
      {"series",
       {{"live", series.live_series},
        {"ids", series.series_ids},
        {"max_live", sources_.max_series},
        {"at_cap", series.at_cap},
        {"refused_entities", series.entities_refused}}},
      {"history",
       {{"capacity", sources_.history.capacity()},
        {"size", sources_.history.size()},
        {"first_seq", sources_.history.first_seq()},
        {"last_seq", sources_.history.last_seq()},
        {"series", sources_.history.column_count()},
        {"memory_bytes", sources_.history.memory_bytes()}}},
  };
  if (sources_.server_stats) {
    const HttpServerStats s = sources_.server_stats();
    body["http"] = json{{"connections_total", s.connections_total},
                        {"connections_active", s.connections_active},
                        {"connections_rejected", s.connections_rejected},
                        {"connections_shed", s.connections_shed},
                        {"requests", s.requests},
                        {"bad_requests", s.bad_requests},
                        {"timeouts", s.timeouts}};
  }
  if (sources_.alerts != nullptr) {
    json alerts{{"rules", sources_.alerts->rule_count()},
                {"instances", sources_.alerts->instance_count()},
                {"active", sources_.alerts->active().size()}};
    if (sources_.webhooks != nullptr) {
      const WebhookStats w = sources_.webhooks->stats();
      alerts["webhooks"] = json{{"sent", w.sent}, {"failed_attempts", w.failed_attempts}, {"dropped", w.dropped},
                                {"queued", w.queued}};
    }
    body["alerts"] = std::move(alerts);
  }
  if (sources_.stream != nullptr) {
    StreamStats& s = sources_.stream->stats();
    const HubStats hub = sources_.stream->hub_stats();
    json closes = json::object();
    for (std::size_t i = 0; i < StreamStats::kTrackedCloseCodes.size(); ++i) {
      closes[std::to_string(StreamStats::kTrackedCloseCodes[i])] = s.closes[i].load();
    }
    closes["other"] = s.closes.back().load();
    body["stream"] = json{{"sessions_active", s.sessions_active.load()},
                          {"sessions_total", s.sessions_total.load()},
                          {"sessions_rejected", s.sessions_rejected.load()},
                          {"subscriptions", hub.subscriptions},
                          {"groups", hub.groups},
                          {"frames_encoded", hub.frames_encoded},
                          {"bytes_encoded", hub.bytes_encoded},
                          {"frames_sent", s.frames_sent.load()},
                          {"bytes_sent", s.bytes_sent.load()},
                          {"frames_dropped", s.frames_dropped.load()},
                          {"messages_received", s.messages_received.load()},
                          {"protocol_errors", s.protocol_errors.load()},
                          {"queue_bytes", s.queue_bytes.load()},
                          {"queue_bytes_max", s.queue_bytes_max.load()},
                          {"closes", std::move(closes)}};
  }
  return json_response(body);
}

}  // namespace hostpulse
