// hostpulse: the agent. Wires collectors -> sampler -> history -> REST API on
// one io_context; everything testable lives in hostpulse::core.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent/api/rest_api.hpp"
#include "agent/command_line.hpp"
#include "agent/duration.hpp"
#include "agent/log.hpp"
#include "agent/net/embedded_assets.hpp"
#include "agent/net/http_server.hpp"
#include "agent/sampler.hpp"
#include "agent/version.hpp"
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
  identity.started_t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  return identity;
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

int run(const Config& config) {
  if (!is_directory(config.procfs)) {
    spdlog::error("procfs: '{}' is not a directory (set --procfs or procfs in the config)", config.procfs);
    return kExitConfigError;
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
  Sampler sampler(collectors, schema, history, config.interval);
  sampler.prime();

  boost::asio::io_context io{1};
  HttpServer* server_pointer = nullptr;
  RestApi api(RestApiSources{
      schema,
      history,
      identify(),
      config.interval,
      [&sampler] { return sampler.stats(); },
      [&server_pointer] { return server_pointer ? server_pointer->stats() : HttpServerStats{}; },
      embedded_assets(),
  });
  HttpServer server(io, config.listen, config.http, [&api](const HttpRequest& request) { return api.handle(request); });
  server_pointer = &server;
  if (Status status = server.start(); !status.ok()) {
    spdlog::error("{}", status.error);
    return kExitConfigError;
  }

  ListenAddress bound = config.listen;
  bound.port = server.port();
  spdlog::info("hostpulse {} listening on http://{}/ ({} series, {} CPUs, interval {}, history {} points = {} KiB)",
               kVersion, bound.to_string(), schema.size(), cpu_ids.size(), format_duration(config.interval),
               history.capacity(), history.memory_bytes() / 1024);
  sampler.start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    io.stop();
  });
  io.run();
  sampler.stop();
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
    return run(command_line.config);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return kExitConfigError;
  }
}
