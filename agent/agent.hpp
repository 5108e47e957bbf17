#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/alerts/alert_manager.hpp"
#include "agent/alerts/silences.hpp"
#include "agent/alerts/webhook_notifier.hpp"
#include "agent/api/access_control.hpp"
#include "agent/api/rest_api.hpp"
#include "agent/config/config.hpp"
#include "agent/net/http_server.hpp"
#include "agent/pipeline/history.hpp"
#include "agent/pipeline/sampler.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/pipeline/series_registry.hpp"
#include "agent/stream/stream_service.hpp"
#include "base/systemd_notify.hpp"
#include "collectors/collector_table.hpp"

namespace hostpulse {

// What the agent needs that can fail before it starts: checked by
// prepare_agent() so that constructing the Agent cannot.
struct AgentSetup {
  Config config;
  std::vector<std::string> arguments;  // the command line, read again on SIGHUP
  std::string token;                   // empty: no token required
  std::shared_ptr<WebhookTransport> webhook_transport;  // null without webhooks
};

// Validates the configuration and loads the webhook plugin when webhooks are
// configured; on failure, error says why (exit with kExitConfigError).
std::unique_ptr<AgentSetup> prepare_agent(const Config& config, std::vector<std::string> arguments,
                                          std::string& error);

// The running agent. Its members, in order, are its parts: each is built
// from the ones above it and destroyed before them. The io_context comes
// after everything a network handler may touch and before what needs an
// executor; sessions share ownership of the stream service and access
// control, so a session whose last handler dies with the io_context still
// finds what its destructor uses.
class Agent {
 public:
  explicit Agent(AgentSetup setup);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  ~Agent();

  // Binds, samples and serves until SIGINT or SIGTERM; returns the exit code.
  int run();

 private:
  void reload();
  void wait_for_hangup();
  void shut_down();
  void wait_for_clients();
  void stop_sampler();

  const Config config_;
  const std::vector<std::string> arguments_;
  const std::string token_;
  // Type=notify under systemd (READY, RELOADING, STOPPING, WATCHDOG); inert elsewhere.
  SystemdNotifier systemd_;
  const AgentIdentity identity_;
  CollectorSet collectors_;
  SeriesRegistry registry_;
  History history_;
  // The sources' Prometheus samples of the newest tick, for /metrics.
  MetricsStore metrics_;
  // The first read, so the schema knows every entity before anyone asks.
  const bool primed_;
  AlertManager alerts_;
  Silences silences_;
  WebhookNotifier webhooks_;
  std::shared_ptr<AccessControl> access_;
  boost::asio::io_context io_{1};
  // Registered before anything announces itself: a signal that arrives while
  // starting up waits for the handlers instead of killing the process.
  boost::asio::signal_set signals_;
  boost::asio::signal_set hangup_;
  boost::asio::steady_timer shutdown_timer_;
  SteadyClock::time_point shutdown_deadline_{};
  std::shared_ptr<StreamService> stream_;
  // Publishes to the stream and the alerts: destroyed (stopped) before them.
  Sampler sampler_;
  bool sampler_stuck_ = false;
  RestApi api_;
  HttpServer server_;
};

}  // namespace hostpulse
