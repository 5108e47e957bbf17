#include "agent/config/command_line.hpp"

#include <sstream>

#include <CLI/CLI.hpp>

#include "agent/alerts/webhook_plugin.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"
#include "base/version.hpp"

namespace hostpulse {

std::string version_string() { return std::string("hostpulse ") + std::string(kVersion); }

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine result;
  CLI::App app{
      "hostpulse — live system-metrics agent.\n"
      "Samples CPU, memory, swap and load from procfs and serves a dashboard, a REST API\n"
      "(/api/v1/info, /snapshot, /history, /health) and a live stream on one HTTP port.\n",
      "hostpulse"};
  app.footer(
      "Flags override the config file. Examples:\n"
      "  hostpulse                                   # dashboard on http://127.0.0.1:9870/\n"
      "  hostpulse --interval 250 --log-level debug\n"
      "  hostpulse --config /etc/hostpulse/hostpulse.toml --check-config\n"
      "Exit codes: 0 ok, 1 bad configuration or start-up failure, 2 bad usage.");
  app.get_formatter()->column_width(28);

  std::string config_path, listen, interval, procfs, sysfs, rootfs, log_level;
  bool version = false;
  app.add_option("-c,--config", config_path, "TOML config file (see docs/configuration.md)")->type_name("FILE");
  app.add_option("-l,--listen", listen, "Address and port to serve on [default: 127.0.0.1:9870]")->type_name("ADDR:PORT");
  app.add_option("-i,--interval", interval, "Sampling interval in ms (100-60000), or a duration like 1s [default: 1000]")
      ->type_name("MS");
  app.add_option("--procfs", procfs, "Where procfs is mounted [default: /proc]")->type_name("DIR");
  app.add_option("--sysfs", sysfs, "Where sysfs is mounted [default: /sys]")->type_name("DIR");
  app.add_option("--rootfs", rootfs,
                 "The host's root filesystem, when a container watches its host (e.g. /host/root) [default: /]")
      ->type_name("DIR");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off [default: info]")->type_name("LEVEL");
  bool allow_unauthenticated = false;
  app.add_flag("--allow-unauthenticated", allow_unauthenticated,
               "Serve a non-loopback address without a token (anyone who can reach the port reads the metrics)");
  app.add_flag("--check-config", result.check_config, "Validate the configuration, print the outcome and exit 0 (valid) or 1");
  app.add_flag("-V,--version", version, "Print the version and exit");

  std::ostringstream out, err;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    result.out = out.str();
    result.err = err.str();
    result.exit_code = code == 0 ? kExitOk : kExitUsage;
    return result;
  }
  if (version) {
    result.out = version_string() + "\n";
    result.exit_code = kExitOk;
    return result;
  }

  const auto fail = [&](int code, const std::string& message) {
    result.err = "hostpulse: " + message + "\n";
    // --check-config promises 0 (valid) or 1 (not), whatever was wrong.
    result.exit_code = result.check_config ? kExitConfigError : code;
    return result;
  };

  if (!config_path.empty()) {
    result.config_path = config_path;
    Status status = load_config_file(config_path, result.config);
    if (!status.ok()) return fail(kExitConfigError, status.error);
  }
  if (!listen.empty()) {
    Status status = parse_listen_address(listen, result.config.listen);
    if (!status.ok()) return fail(kExitUsage, "--listen: " + status.error);
  }
  if (!interval.empty()) {
    std::chrono::milliseconds parsed{};
    // A bare number is milliseconds; anything else is a duration.
    const bool digits_only = interval.find_first_not_of("0123456789") == std::string::npos;
    Status status = parse_duration(digits_only ? interval + "ms" : interval, parsed);
    if (status.ok()) status = validate_interval(parsed);
    if (!status.ok()) return fail(kExitUsage, "--interval: " + status.error);
    result.config.interval = parsed;
  }
  if (!procfs.empty()) result.config.procfs = procfs;
  if (!sysfs.empty()) result.config.sysfs = sysfs;
  if (!rootfs.empty()) {
    if (rootfs.front() != '/') return fail(kExitUsage, "--rootfs: must be an absolute path, got '" + rootfs + "'");
    result.config.rootfs = rootfs;
  }
  if (allow_unauthenticated) result.config.allow_unauthenticated = true;
  if (!log_level.empty()) {
    const auto level = parse_log_level(log_level);
    if (!level) return fail(kExitUsage, "--log-level: unknown level '" + log_level + "' (use " + std::string(kLogLevelNames) + ")");
    result.config.log_level = *level;
  }

  if (result.check_config) {
    std::string token;
    Status status = check_startup_requirements(result.config, token);
    if (!status.ok()) return fail(kExitConfigError, status.error);
    // Webhooks and Alertmanagers need the HTTP client plugin: check that it loads, as start-up would.
    if (result.config.needs_http_client()) {
      const WebhookPluginLoad plugin = load_webhook_plugin();
      if (!plugin.transport) return fail(kExitConfigError, plugin.error);
    }
    result.out = "hostpulse: configuration OK" +
                 (result.config_path ? " (" + *result.config_path + ")" : std::string(" (defaults and flags)")) +
                 "; listen " + result.config.listen.to_string() + ", interval " +
                 format_duration(result.config.interval) + ", " + std::to_string(result.config.alerts.size()) +
                 " alert rules\n";
    result.exit_code = kExitOk;
  }
  return result;
}

}  // namespace hostpulse
