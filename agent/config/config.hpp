#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

#include "agent/alerts/alert_rule.hpp"
#include "agent/api/http_options.hpp"
#include "agent/alerts/alertmanager_notifier.hpp"
#include "agent/alerts/webhook_notifier.hpp"
#include "agent/stream/stream_options.hpp"
#include "base/status.hpp"
#include "collectors/source_settings.hpp"

namespace hostpulse {

// The dynamic schema ([series] in the config file).
struct SeriesOptions {
  // Live series at most; new entities past it get no series (health turns
  // degraded). A 256-CPU host has 2,856 series; each costs about 4 KiB of
  // compressed history at the default hour (at most ~30 KiB for values
  // without any pattern), so 10,000 is typically ~40 MiB, at most ~300 MiB.
  std::size_t max_series = 10'000;
  // A CPU, interface, disk or mount absent this long has its series retired:
  // long enough that a flapping interface does not churn ids.
  std::chrono::milliseconds retire_after{60'000};
};

// GET /metrics for Prometheus ([metrics] in the config file).
struct MetricsOptions {
  // On by default: keeping the samples costs about 10 ns each per tick and
  // a scrape reads nothing from /proc.
  bool enabled = true;
  // Off by default: /metrics shows as much of the host as the API does, so
  // it needs the same token; true serves it without one (a Prometheus that
  // cannot send a bearer token), the rest of the API still needing it.
  bool public_access = false;
};

struct Config {
  ListenAddress listen;
  // 1 s is what people read on a dashboard; 100 ms is the fastest the
  // kernel's jiffy counters (USER_HZ 100) still resolve per CPU.
  std::chrono::milliseconds interval{1000};
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  // The host's root filesystem, for filesystem usage; another path (with
  // procfs and sysfs under it too) when a container watches its host.
  std::string rootfs = "/";
  spdlog::level::level_enum log_level = spdlog::level::info;
  // One hour at the default 1 s interval.
  std::size_t history_points = 3600;
  HttpOptions http;
  StreamOptions stream;
  SeriesOptions series;
  MetricsOptions metrics;
  // [sources.disks]: which block devices the disks source reports.
  DiskOptions disks;
  // Access: a bearer token for the API and stream (empty: none). Binding a
  // non-loopback address without one is refused unless allow_unauthenticated.
  std::string token_file;
  std::vector<std::string> allowed_origins;  // empty: same host only
  // Host names the agent answers to besides IP literals and localhost (DNS
  // rebinding protection); "*" accepts any Host.
  std::vector<std::string> allowed_hosts;
  bool allow_unauthenticated = false;
  // Alert rules: [[alert]] tables of the config file, then every *.toml file
  // of rules_dir (in name order), each holding only [[alert]] tables.
  std::string rules_dir;
  std::vector<AlertRule> alerts;
  // [[webhook]] tables: where alert notifications are POSTed.
  std::vector<WebhookOptions> webhooks;
  // [[alertmanager]] tables: Prometheus Alertmanagers that get firing and
  // resolved alerts (POST /api/v2/alerts).
  std::vector<AlertmanagerOptions> alertmanagers;

  // Whether a notifier needs the HTTP client plugin.
  [[nodiscard]] bool needs_http_client() const { return !webhooks.empty() || !alertmanagers.empty(); }
};

// Limits shared by the config file and the flags, so both report the same way.
inline constexpr std::chrono::milliseconds kMinInterval{100};
inline constexpr std::chrono::milliseconds kMaxInterval{60'000};
inline constexpr std::size_t kMinHistoryPoints = 10;
inline constexpr std::size_t kMaxHistoryPoints = 1'000'000;

Status validate_interval(std::chrono::milliseconds interval);

// What a config may make the agent read (the token file's limit is
// kMaxTokenFileBytes, next to read_token_file), bounded so a hostile or mistaken
// file can neither exhaust memory nor keep start-up (or a reload) busy.
// A config or rules file is a few KiB; 1 MiB is clearly not one.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;
// Thousands of rule files would be a generator gone wrong, and each is parsed
// (and its rules matched against the schema) on every reload.
inline constexpr std::size_t kMaxRulesFiles = 1000;
// All rules files together: some 40,000 rules, far more than one host
// evaluates, and toml11 needs about 2 s per MiB on the thread that also
// serves HTTP during a reload.
inline constexpr std::size_t kMaxRulesDirBytes = 4 << 20;

// Reads a TOML config file over `config` (keys absent from the file keep their
// current values). Errors name the file, line and key:
//   "/etc/hostpulse/hostpulse.toml:4: interval: must be between 100ms and 1m (got 10ms)"
// The file, like every file a config names, must be a regular file (see
// read_bounded_file) of at most kMaxConfigFileBytes.
Status load_config_file(const std::string& path, Config& config);
// load_config_file without the reading: parses text, then reads the files of
// rules_dir if the text sets it.
Status load_config_text(std::string_view text, const std::string& source_name, Config& config);

// The pure part of loading a config: checks the text (prescan_toml: UTF-8,
// nesting depth), parses it and applies it over `config`. Touches no
// filesystem: rules_dir is resolved against file_name but neither checked nor
// read (load_config_text does both). On error `config` is unchanged.
Status parse_config_text(std::string_view text, std::string_view file_name, Config& config);

// The pure part of reading one rules file: appends its [[alert]] tables (the
// only key a rules file may hold) to rules. On error rules is unchanged.
Status parse_rules_text(std::string_view text, std::string_view file_name, std::vector<AlertRule>& rules);

// Appends the [[alert]] tables of every *.toml file in directory (name order).
// Every *.toml entry must be a regular file (or a link to one): a directory,
// FIFO or device named *.toml is an error, not skipped, so a rule file that
// is not what it seems cannot silently drop its rules. At most kMaxRulesFiles
// files of kMaxRulesDirBytes in all.
Status load_rules_dir(const std::string& directory, std::vector<AlertRule>& rules);

// Reads token_file (if set) into token and refuses a non-loopback listen
// address without a token unless allow_unauthenticated is set.
Status load_access_token(const Config& config, std::string& token);

// Everything about the configuration that a start checks before it serves
// (the token file, the listen address without a token, procfs being a
// directory), so --check-config, a start and a reload refuse the same things
// with the same messages. Sets token on success.
Status check_startup_requirements(const Config& config, std::string& token);

}  // namespace hostpulse
