// hostpulse: the agent. Wires collectors -> sampler -> history -> REST API on
// one io_context; everything testable lives in hostpulse::core.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fmt/ranges.h>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/alerts/alert_json.hpp"
#include "agent/alerts/alert_manager.hpp"
#include "agent/alerts/webhook_notifier.hpp"
#include "agent/alerts/webhook_plugin.hpp"
#include "agent/api/rest_api.hpp"
#include "agent/command_line.hpp"
#include "agent/duration.hpp"
#include "agent/log.hpp"
#include "agent/net/embedded_assets.hpp"
#include "agent/net/access_control.hpp"
#include "agent/net/http_server.hpp"
#include "agent/stream/stream_service.hpp"
#include "agent/sampler.hpp"
#include "agent/systemd_notify.hpp"
#include "agent/version.hpp"
#include "agent/wall_clock.hpp"
#include "collectors/collector_table.hpp"

namespace {

using namespace hostpulse;

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

// SIGHUP: read the configuration again (same flags). Alert rules, webhooks
// and the log level change in place; other settings need a restart, and an
// invalid new configuration changes nothing. Clients stay connected either way.
void reload(int argc, const char* const* argv, const Config& running, const Schema& schema, AlertManager& alerts,
            WebhookNotifier& webhooks) {
  const CommandLine fresh = parse_command_line(argc, argv);
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
  // The first webhooks load the HTTP client plugin; without it the reload
  // is rejected rather than accepting webhooks that could never be sent.
  std::shared_ptr<WebhookTransport> transport;
  if (!next.webhooks.empty() && !webhooks.has_transport()) {
    WebhookPluginLoad plugin = load_webhook_plugin();
    if (!plugin.transport) {
      spdlog::error("reload rejected, keeping the running configuration: {}", plugin.error);
      return;
    }
    spdlog::info("webhook HTTP client loaded from {}", plugin.path);
    transport = std::move(plugin.transport);
  }
  alerts.replace_rules(schema, next.alerts);
  webhooks.replace_webhooks(next.webhooks, std::move(transport));
  for (const std::string& warning : alerts.warnings()) spdlog::warn("{}", warning);
  spdlog::set_level(next.log_level);
  std::vector<std::string> need_restart;
  if (next.listen.to_string() != running.listen.to_string()) need_restart.emplace_back("listen");
  if (next.interval != running.interval) need_restart.emplace_back("interval");
  if (next.procfs != running.procfs || next.sysfs != running.sysfs) need_restart.emplace_back("procfs/sysfs");
  if (next.history_points != running.history_points) need_restart.emplace_back("history_points");
  if (next.token_file != running.token_file || next.allowed_origins != running.allowed_origins ||
      next.allowed_hosts != running.allowed_hosts) {
    need_restart.emplace_back("token_file/allowed_origins/allowed_hosts");
  }
  spdlog::info("reloaded: {} alert rules, {} instances, {} webhooks{}", alerts.rule_count(), alerts.instance_count(),
               webhooks.webhook_count(),
               need_restart.empty() ? std::string()
                                    : "; changed settings that take effect after a restart: " +
                                          fmt::format("{}", fmt::join(need_restart, ", ")));
}

int run(const Config& config, int argc, const char* const* argv) {
  std::string token;
  if (Status status = check_startup_requirements(config, token); !status.ok()) {
    spdlog::error("{}", status.error);
    return kExitConfigError;
  }
  raise_open_file_limit(config);
  // The webhook HTTP client (cpp-httplib, OpenSSL) is a plugin, loaded only
  // when webhooks are configured: an agent without them never maps it.
  std::shared_ptr<WebhookTransport> webhook_transport;
  if (!config.webhooks.empty()) {
    WebhookPluginLoad plugin = load_webhook_plugin();
    if (!plugin.transport) {
      spdlog::error("{} (needed for the {} configured webhooks)", plugin.error, config.webhooks.size());
      return kExitConfigError;
    }
    spdlog::info("webhook HTTP client loaded from {}", plugin.path);
    webhook_transport = std::move(plugin.transport);
  }
  const HostPaths paths{config.procfs, config.sysfs};
  CollectorSet collectors(paths);

  // The schema needs the CPUs online at start, so read everything once first.
  std::vector<std::uint32_t> cpu_ids;
  Schema schema;
  {
    RawSample probe;
    collectors.collect_all(probe);
    if (probe.stat_ok) {
      for (const CpuLine& line : probe.stat.cpus) cpu_ids.push_back(line.cpu);
    }
    schema = Schema::canonical(cpu_ids);
  }
  History history(schema.size(), config.history_points);
  boost::asio::io_context io{1};
  // Registered before anything announces itself: a signal that arrives while
  // starting up waits for the handlers below instead of killing the process.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::signal_set hangup(io, SIGHUP);
  // Type=notify under systemd (READY, RELOADING, STOPPING, WATCHDOG); inert elsewhere.
  SystemdNotifier systemd = SystemdNotifier::from_environment();
  const AgentIdentity identity = identify();
  AccessControl access(token, config.allowed_origins, config.allowed_hosts);
  StreamService stream(io, schema, history, HelloInfo{identity.version, identity.host, config.interval, 0},
                       identity.started_t_ms, config.stream);
  AlertManager alerts(schema, config.alerts);
  for (const std::string& warning : alerts.warnings()) spdlog::warn("{}", warning);
  Silences silences;
  const auto host = identity.host;
  WebhookNotifier webhooks(config.webhooks, [host](const AlertEvent& event) {
    auto body = alert_event_json(event);
    body["host"] = host;
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }, std::move(webhook_transport));
  // Every event goes to the stream; notifications (webhooks) skip silenced ones.
  alerts.set_sink([&stream, &webhooks, &silences](const AlertEvent& event) {
    stream.publish_alert(alert_event_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!silences.silenced(event.rule, event.instance, event.t_ms)) webhooks.notify(event);
  });
  stream.set_active_alerts_source([&alerts] { return encode_active_alerts_message(alerts.active()); });
  // The sampler hands each point to the stream without waiting for it, and
  // evaluates the alert rules on it.
  Sampler sampler(collectors, schema, history, config.interval,
                  [&stream, &alerts, &systemd](std::uint64_t seq, std::int64_t t_ms, std::span<const double> values) {
                    stream.publish(seq, t_ms, values);
                    alerts.observe(t_ms, values);
                    // A stuck sampler stops the pings and systemd restarts us.
                    systemd.watchdog();
                  });

  HttpServer* server_pointer = nullptr;
  RestApi api(RestApiSources{
      schema,
      history,
      identity,
      config.interval,
      [&sampler] { return sampler.stats(); },
      [&server_pointer] { return server_pointer ? server_pointer->stats() : HttpServerStats{}; },
      embedded_assets(),
      &access,
      &stream,
      &alerts,
      &silences,
      &webhooks,
      config.stream.max_history_values,
  });
  HttpServer server(io, config.listen, config.http, [&api](const HttpRequest& request) { return api.handle(request); });
  server.enable_stream(stream, access);
  server_pointer = &server;
  if (Status status = server.start(); !status.ok()) {
    spdlog::error("{}", status.error);
    return kExitConfigError;
  }

  ListenAddress bound = config.listen;
  bound.port = server.port();
  spdlog::info("hostpulse {} listening on http://{}/ ({} series, {} CPUs, interval {}, history {} points = {} KiB{})",
               kVersion, bound.to_string(), schema.size(), cpu_ids.size(), format_duration(config.interval),
               history.capacity(), history.memory_bytes() / 1024, token.empty() ? ", no token" : ", token required");
  spdlog::info("{} alert rules, {} instances", config.alerts.size(), alerts.instance_count());
  if (token.empty() && !is_loopback_address(config.listen.host)) {
    spdlog::warn("serving {} without a token (--allow-unauthenticated): anyone who can reach it reads this host's metrics",
                 bound.to_string());
  }
  sampler.start();
  if (systemd.enabled() && !systemd.ready("listening on " + bound.to_string())) {
    spdlog::warn("could not notify systemd: {}", systemd.last_error());
  }
  if (systemd.watchdog_period().count() > 0 && systemd.watchdog_period() < 2 * config.interval) {
    spdlog::warn("WatchdogSec ({} ms) is less than twice the interval: systemd may kill the agent between samples",
                 systemd.watchdog_period().count() / 1000);
  }

  // Shutdown: stop sampling, stop accepting, flush the stream and close every
  // client with 1001, then leave once they are gone or 600 ms have passed.
  std::function<void()> wait_for_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("received SIGHUP, reloading the configuration");
      systemd.reloading();
      reload(argc, argv, config, schema, alerts, webhooks);
      systemd.ready();
      wait_for_hangup();
    });
  };
  wait_for_hangup();
  boost::asio::steady_timer shutdown_timer(io);
  const auto shutdown_deadline = std::make_shared<SteadyClock::time_point>();
  std::function<void()> wait_for_clients = [&] {
    if (stream.stats().sessions_active == 0 || SteadyClock::now() >= *shutdown_deadline) {
      io.stop();
      return;
    }
    shutdown_timer.expires_after(std::chrono::milliseconds(10));
    shutdown_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) wait_for_clients();
    });
  };
  // A sampler thread stuck in a read() that never returns (a hung network or
  // FUSE filesystem under --procfs) cannot be joined; after
  // Sampler::kStopTimeout the agent finishes shutting down without it.
  bool sampler_stuck = false;
  const auto stop_sampler = [&] {
    if (sampler_stuck || sampler.stop(Sampler::kStopTimeout)) return;
    sampler_stuck = true;
    const SamplerStats stuck = sampler.stats();
    spdlog::error("the sampler thread did not stop within {} ms (stuck in {}); exiting without it",
                  Sampler::kStopTimeout.count(),
                  stuck.busy_collector ? "collector " + stuck.collectors[*stuck.busy_collector].name
                                       : std::string("a tick"));
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    systemd.stopping();
    stop_sampler();
    server.stop();
    hangup.cancel();
    stream.shutdown();
    *shutdown_deadline = SteadyClock::now() + std::chrono::milliseconds(600);
    wait_for_clients();
  });
  io.run();
  stop_sampler();
  // Clients that did not finish their close handshake in time are dropped;
  // running the loop once more lets every session end before the objects
  // its handlers use are destroyed.
  stream.abort_all();
  io.restart();
  io.run_for(std::chrono::milliseconds(250));
  webhooks.stop();
  if (sampler_stuck) {
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

}  // namespace

int main(int argc, char** argv) {
  const CommandLine command_line = parse_command_line(argc, argv);
  if (command_line.exit_code) {
    std::fputs(command_line.out.c_str(), stdout);
    std::fputs(command_line.err.c_str(), stderr);
    return *command_line.exit_code;
  }
  configure_logging(command_line.config.log_level);
  try {
    return run(command_line.config, argc, argv);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return kExitConfigError;
  }
}
