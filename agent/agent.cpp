#include "agent/agent.hpp"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fmt/ranges.h>
#include <utility>

#include <nlohmann/json.hpp>

#include "agent/alerts/alert_json.hpp"
#include "agent/alerts/alertmanager_alert.hpp"
#include "agent/alerts/webhook_plugin.hpp"
#include "agent/api/embedded_assets.hpp"
#include "agent/config/command_line.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"
#include "base/version.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {
namespace {

AgentIdentity identify() {
  AgentIdentity identity;
  identity.version = std::string(kVersion);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) identity.host = host;
  struct utsname names {};
  if (uname(&names) == 0) identity.kernel = std::string(names.sysname) + " " + names.release;
  identity.started_t_ms = wall_clock_ms();
  return identity;
}

// Every stream client is a file descriptor; the soft limit is often 1024.
void raise_open_file_limit(const Config& config) {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  const auto wanted = config.stream.max_connections + config.http.max_connections + 64;
  if (limit.rlim_cur < wanted) {
    spdlog::warn("open file limit is {}: fewer than the {} connections configured can be served (raise LimitNOFILE)",
                 limit.rlim_cur, wanted);
  }
}

SourceSettings source_settings(const Config& config) {
  return SourceSettings{.paths = {.proc = config.procfs, .sys = config.sysfs, .rootfs = config.rootfs},
                        .disks = config.disks};
}

SeriesRegistryOptions series_registry_options(const Config& config) {
  SeriesRegistryOptions options;
  options.max_series = config.series.max_series;
  // In reads of the source: the grace period is time, sources read once a tick.
  const auto interval = std::max<std::int64_t>(1, config.interval.count());
  options.retire_after_reads = static_cast<std::uint64_t>(
      std::max<std::int64_t>(1, (config.series.retire_after.count() + interval - 1) / interval));
  return options;
}

bool prime(CollectorSet& collectors, SeriesRegistry& registry, History& history) {
  prime_sources(collectors, registry, history);
  return true;
}

std::string alert_json_text(const AlertEvent& event) {
  return alert_event_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<const char*> argument_pointers(const std::vector<std::string>& arguments) {
  std::vector<const char*> pointers;
  for (const std::string& argument : arguments) pointers.push_back(argument.c_str());
  return pointers;
}

}  // namespace

std::unique_ptr<AgentSetup> prepare_agent(const Config& config, std::vector<std::string> arguments,
                                          std::string& error) {
  auto setup = std::make_unique<AgentSetup>();
  if (Status status = check_startup_requirements(config, setup->token); !status.ok()) {
    error = status.error;
    return nullptr;
  }
  // The webhook HTTP client (cpp-httplib, OpenSSL) is a plugin, loaded only
  // when webhooks or Alertmanagers are configured: an agent without them
  // never maps it.
  if (config.needs_http_client()) {
    WebhookPluginLoad plugin = load_webhook_plugin();
    if (!plugin.transport) {
      std::vector<std::string> users;
      if (!config.webhooks.empty()) users.push_back(std::to_string(config.webhooks.size()) + " webhooks");
      if (!config.alertmanagers.empty()) users.push_back(std::to_string(config.alertmanagers.size()) + " Alertmanagers");
      error = plugin.error + fmt::format(" (needed for the configured {})", fmt::join(users, " and "));
      return nullptr;
    }
    spdlog::info("webhook HTTP client loaded from {}", plugin.path);
    setup->webhook_transport = std::move(plugin.transport);
  }
  setup->config = config;
  setup->arguments = std::move(arguments);
  return setup;
}

Agent::Agent(AgentSetup setup)
    : config_(std::move(setup.config)),
      arguments_(std::move(setup.arguments)),
      token_(std::move(setup.token)),
      systemd_(SystemdNotifier::from_environment()),
      identity_(identify()),
      collectors_(source_settings(config_), platform_sources()),
      registry_(collectors_.definitions(), series_registry_options(config_)),
      history_(0, config_.history_points),
      metrics_(collectors_.definitions()),
      primed_(prime(collectors_, registry_, history_)),
      alerts_(*registry_.schema(), config_.alerts),
      http_client_(std::move(setup.webhook_transport)),
      webhooks_(config_.webhooks,
                [host = identity_.host](const AlertEvent& event) {
                  auto body = alert_event_json(event);
                  body["host"] = host;
                  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                },
                http_client_, std::chrono::seconds(1), identity_.host),
      alertmanagers_(config_.alertmanagers, identity_.host, http_client_),
      access_(std::make_shared<AccessControl>(token_, config_.allowed_origins, config_.allowed_hosts)),
      signals_(io_, SIGINT, SIGTERM),
      hangup_(io_, SIGHUP),
      shutdown_timer_(io_),
      stream_(std::make_shared<StreamService>(io_, registry_.schema(), history_,
                                              HelloInfo{identity_.version, identity_.host, config_.interval, 0},
                                              identity_.started_t_ms, config_.stream)),
      // The sampler hands each point to the stream without waiting for it,
      // and evaluates the alert rules on it.
      sampler_(collectors_, registry_, history_, config_.interval,
               [this](const SampledPoint& point) {
                 stream_->publish(point);
                 // Series that appeared get their instances before their first values.
                 if (point.change != nullptr && point.schema) {
                   alerts_.apply_schema(*point.schema, *point.change, point.t_ms);
                 }
                 alerts_.observe(point.t_ms, point.values);
                 // A stuck sampler stops the pings and systemd restarts us.
                 systemd_.watchdog();
               }),
      api_(RestApiSources{
          [this] { return registry_.schema(); },
          history_,
          identity_,
          config_.interval,
          [this] { return sampler_.stats(); },
          [this] { return server_.stats(); },
          embedded_assets(),
          access_.get(),
          stream_.get(),
          &alerts_,
          &silences_,
          &webhooks_,
          config_.stream.max_history_values,
          config_.series.max_series,
          [this] { return registry_.stats(); },
          config_.metrics.enabled ? &metrics_ : nullptr,
          config_.metrics.public_access,
          &alertmanagers_,
      }),
      server_(io_, config_.listen, config_.http, [this](const HttpRequest& request) { return api_.handle(request); }) {
  sampler_.primed_already();
  if (config_.metrics.enabled) sampler_.expose_to(&metrics_);
  for (const std::string& warning : alerts_.warnings()) spdlog::warn("{}", warning);
  // Every event goes to the stream; notifications skip silenced ones, except
  // that an Alertmanager always hears of a resolve (else it would keep an
  // alert that fired before the silence until its endsAt).
  alerts_.set_sink([this](const AlertEvent& event) {
    stream_->publish_alert(alert_json_text(event));
    const bool silenced = silences_.silenced(event.rule, event.instance, event.t_ms);
    if (!silenced) webhooks_.notify(event);
    if (!silenced || alertmanager_resolve(event)) alertmanagers_.notify(event);
  });
  stream_->set_active_alerts_source([this] { return encode_active_alerts_message(alerts_.active()); });
  server_.enable_stream(stream_, access_);
}

Agent::~Agent() = default;

int Agent::run() {
  raise_open_file_limit(config_);
  if (Status status = server_.start(); !status.ok()) {
    spdlog::error("{}", status.error);
    return kExitConfigError;
  }
  ListenAddress bound = config_.listen;
  bound.port = server_.port();
  spdlog::info("hostpulse {} listening on http://{}/ ({} series, interval {}, history {} points in blocks of {}{})",
               kVersion, bound.to_string(), registry_.schema()->live_count(), format_duration(config_.interval),
               history_.capacity(), history_.block_points(), token_.empty() ? ", no token" : ", token required");
  spdlog::info("{} alert rules, {} instances", config_.alerts.size(), alerts_.instance_count());
  if (token_.empty() && !is_loopback_address(config_.listen.host)) {
    spdlog::warn("serving {} without a token (--allow-unauthenticated): anyone who can reach it reads this host's metrics",
                 bound.to_string());
  }
  sampler_.start();
  if (systemd_.enabled() && !systemd_.ready("listening on " + bound.to_string())) {
    spdlog::warn("could not notify systemd: {}", systemd_.last_error());
  }
  if (systemd_.watchdog_period().count() > 0 && systemd_.watchdog_period() < 2 * config_.interval) {
    spdlog::warn("WatchdogSec ({} ms) is less than twice the interval: systemd may kill the agent between samples",
                 systemd_.watchdog_period().count() / 1000);
  }
  wait_for_hangup();
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    shut_down();
  });
  io_.run();
  stop_sampler();
  // Clients that did not finish their close handshake in time are dropped;
  // their sessions end when the io_context destroys their last handlers.
  stream_->abort_all();
  webhooks_.stop();
  alertmanagers_.stop();
  if (sampler_stuck_) {
    // The stuck thread still uses the sampler, collectors and history that
    // returning would destroy, so the process ends here, skipping destructors
    // and atexit handlers (nothing after this point needs them).
    spdlog::error("stopped with the sampler thread stuck (exit code {})", kExitSamplerStuck);
    spdlog::default_logger()->flush();
    std::_Exit(kExitSamplerStuck);
  }
  spdlog::info("stopped");
  return kExitOk;
}

// SIGHUP: read the configuration again (same flags). Alert rules, webhooks
// and the log level change in place; other settings need a restart, and an
// invalid new configuration changes nothing. Clients stay connected either way.
void Agent::reload() {
  const std::vector<const char*> argv = argument_pointers(arguments_);
  const CommandLine fresh = parse_command_line(static_cast<int>(argv.size()), argv.data());
  if (fresh.exit_code) {
    std::string why = fresh.err;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.rfind("hostpulse: ", 0) == 0) why.erase(0, 11);
    spdlog::error("reload rejected, keeping the running configuration: {}", why);
    return;
  }
  const Config& next = fresh.config;
  std::string token;
  if (Status status = check_startup_requirements(next, token); !status.ok()) {
    spdlog::error("reload rejected, keeping the running configuration: {}", status.error);
    return;
  }
  // The first webhooks or Alertmanagers load the HTTP client plugin; without
  // it the reload is rejected rather than accepting notifiers that could
  // never send.
  std::shared_ptr<WebhookTransport> transport;
  if (next.needs_http_client() && !http_client_) {
    WebhookPluginLoad plugin = load_webhook_plugin();
    if (!plugin.transport) {
      spdlog::error("reload rejected, keeping the running configuration: {}", plugin.error);
      return;
    }
    spdlog::info("webhook HTTP client loaded from {}", plugin.path);
    http_client_ = plugin.transport;
    transport = std::move(plugin.transport);
  }
  // The current schema; if the sampler applies a newer one between taking it
  // and the swap, take that one (each retry follows a new tick's schema, so
  // this ends within a tick or two).
  while (!alerts_.replace_rules(*registry_.schema(), next.alerts)) {
  }
  webhooks_.replace_webhooks(next.webhooks, transport);
  alertmanagers_.replace_alertmanagers(next.alertmanagers, std::move(transport));
  for (const std::string& warning : alerts_.warnings()) spdlog::warn("{}", warning);
  spdlog::set_level(next.log_level);
  std::vector<std::string> need_restart;
  if (next.listen.to_string() != config_.listen.to_string()) need_restart.emplace_back("listen");
  if (next.interval != config_.interval) need_restart.emplace_back("interval");
  if (next.procfs != config_.procfs || next.sysfs != config_.sysfs || next.rootfs != config_.rootfs) {
    need_restart.emplace_back("procfs/sysfs/rootfs");
  }
  if (next.history_points != config_.history_points) need_restart.emplace_back("history_points");
  if (next.token_file != config_.token_file || next.allowed_origins != config_.allowed_origins ||
      next.allowed_hosts != config_.allowed_hosts) {
    need_restart.emplace_back("token_file/allowed_origins/allowed_hosts");
  }
  spdlog::info("reloaded: {} alert rules, {} instances, {} webhooks, {} alertmanagers{}", alerts_.rule_count(),
               alerts_.instance_count(), webhooks_.webhook_count(), alertmanagers_.alertmanager_count(),
               need_restart.empty() ? std::string()
                                    : "; changed settings that take effect after a restart: " +
                                          fmt::format("{}", fmt::join(need_restart, ", ")));
}

void Agent::wait_for_hangup() {
  hangup_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("received SIGHUP, reloading the configuration");
    systemd_.reloading();
    reload();
    systemd_.ready();
    wait_for_hangup();
  });
}

// Shutdown: stop sampling, stop accepting, flush the stream and close every
// client with 1001, then leave once they are gone or 600 ms have passed.
void Agent::shut_down() {
  systemd_.stopping();
  stop_sampler();
  server_.stop();
  hangup_.cancel();
  stream_->shutdown();
  shutdown_deadline_ = SteadyClock::now() + std::chrono::milliseconds(600);
  wait_for_clients();
}

void Agent::wait_for_clients() {
  if (stream_->stats().sessions_active == 0 || SteadyClock::now() >= shutdown_deadline_) {
    io_.stop();
    return;
  }
  shutdown_timer_.expires_after(std::chrono::milliseconds(10));
  shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) wait_for_clients();
  });
}

// A sampler thread stuck in a read() that never returns (a hung network or
// FUSE filesystem under --procfs) cannot be joined; after
// Sampler::kStopTimeout the agent finishes shutting down without it.
void Agent::stop_sampler() {
  if (sampler_stuck_ || sampler_.stop(Sampler::kStopTimeout)) return;
  sampler_stuck_ = true;
  const SamplerStats stuck = sampler_.stats();
  spdlog::error("the sampler thread did not stop within {} ms (stuck in {}); exiting without it",
                Sampler::kStopTimeout.count(),
                stuck.busy_collector ? "collector " + stuck.collectors[*stuck.busy_collector].name
                                     : std::string("a tick"));
}

}  // namespace hostpulse
