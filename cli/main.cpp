// hostpulse-cli: the live stream and the REST API of a hostpulse agent from a
// terminal or a script. `watch` prints the stream (JSON lines for pipes, a
// refreshing table for terminals); snapshot, history, alerts and silence call
// the REST API. Exit codes: 0 ok, 1 failure (agent unreachable, server error),
// 2 bad usage or a request the agent rejected (bad URL, unknown series),
// 3 unauthorized (token missing or wrong).

#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/version.hpp"
#include "hostpulse/client.hpp"

namespace {

using json = nlohmann::json;
namespace hc = hostpulse::client;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnauthorized = 3;

struct Global {
  std::string url = "http://127.0.0.1:9870";
  std::string token_file;
  double timeout_s = 5;
  bool compact = false;
};

// The agent's base URL (scheme://host:port) for REST, and its stream URL.
struct Urls {
  std::string rest;    // http://host:port
  std::string stream;  // ws://host:port/api/v1/stream
};

[[noreturn]] void die(int code, const std::string& message) {
  std::cerr << "hostpulse-cli: " << message << "\n";
  std::exit(code);
}

Urls split_url(const std::string& url) {
  std::string scheme, rest;
  const auto separator = url.find("://");
  if (separator == std::string::npos) die(kExitUsage, "--url '" + url + "': expected http://HOST:PORT or ws://HOST:PORT");
  scheme = url.substr(0, separator);
  rest = url.substr(separator + 3);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.empty()) die(kExitUsage, "--url '" + url + "': no host");
  if (path != "" && path != "/" && path != "/api/v1/stream") {
    die(kExitUsage, "--url '" + url + "': give the agent's address without a path, e.g. http://127.0.0.1:9870");
  }
  const std::string with_port = authority.find(':') == std::string::npos || authority.back() == ']' ? authority + ":9870" : authority;
  if (scheme == "http" || scheme == "ws") return Urls{"http://" + with_port, "ws://" + with_port + "/api/v1/stream"};
  if (scheme == "https" || scheme == "wss") return Urls{"https://" + with_port, "wss://" + with_port + "/api/v1/stream"};
  die(kExitUsage, "--url '" + url + "': the scheme must be http, https, ws or wss");
}

std::string read_token(const Global& global) {
  std::string token;
  if (!global.token_file.empty()) {
    std::ifstream file(global.token_file);
    if (!file) die(kExitUsage, "--token-file '" + global.token_file + "': cannot read it");
    std::getline(file, token);
  } else if (const char* from_env = std::getenv("HOSTPULSE_TOKEN")) {
    token = from_env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) die(kExitUsage, "the token contains spaces or control characters");
  }
  return token;
}

void print_json(const json& value, bool compact) {
  std::cout << (compact ? value.dump() : value.dump(2)) << "\n";
}

// ---------------------------------------------------------------------------
// REST

class Rest {
 public:
  Rest(const Global& global, const Urls& urls) : base_(urls.rest), client_(urls.rest) {
    const auto seconds = static_cast<time_t>(global.timeout_s);
    const auto micros = static_cast<time_t>((global.timeout_s - static_cast<double>(seconds)) * 1e6);
    client_.set_connection_timeout(seconds, micros);
    client_.set_read_timeout(seconds, micros);
    client_.set_write_timeout(seconds, micros);
    const std::string token = read_token(global);
    if (!token.empty()) headers_.emplace("Authorization", "Bearer " + token);
  }

  json get(const std::string& path) { return check("GET", path, client_.Get(path, headers_)); }
  json post(const std::string& path, const json& body) {
    return check("POST", path, client_.Post(path, headers_, body.dump(), "application/json"));
  }
  json del(const std::string& path) { return check("DELETE", path, client_.Delete(path, headers_)); }

 private:
  json check(const char* method, const std::string& path, const httplib::Result& result) {
    if (!result) {
      const httplib::Error error = result.error();
      const std::string why = error == httplib::Error::Connection       ? "connection failed (is the agent running there?)"
                              : error == httplib::Error::Read || error == httplib::Error::Write ? "no answer within --timeout"
                                                                                              : httplib::to_string(error);
      die(kExitFailure, fmt::format("cannot reach the agent at {}: {}", base_, why));
    }
    json body = json::parse(result->body, nullptr, false);
    const std::string message = body.is_object() && body.contains("error") && body["error"].is_object()
                                    ? body["error"].value("message", result->body)
                                    : result->body;
    if (result->status == 401 || result->status == 403) {
      die(kExitUnauthorized, fmt::format("{} {}: unauthorized (HTTP {}): pass the agent's token with --token-file "
                                         "or HOSTPULSE_TOKEN", method, path, result->status));
    }
    if (result->status >= 400 && result->status < 500) {
      die(kExitUsage, fmt::format("{} {}: HTTP {}: {}", method, path, result->status, message));
    }
    if (result->status >= 300) die(kExitFailure, fmt::format("{} {}: HTTP {}: {}", method, path, result->status, message));
    if (body.is_discarded()) die(kExitFailure, fmt::format("{} {}: the answer is not JSON", method, path));
    return body;
  }

  std::string base_;
  httplib::Client client_;
  httplib::Headers headers_;
};

std::string join_series(const std::vector<std::string>& series) {
  std::string joined;
  for (const std::string& s : series) joined += (joined.empty() ? "" : ",") + httplib::detail::encode_query_param(s);
  return joined;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  if (value == std::floor(value) && std::fabs(value) < 9e15) return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

json number_or_null(double value) {
  if (std::isnan(value)) return nullptr;
  if (value == std::floor(value) && std::fabs(value) < 9e15) return static_cast<long long>(value);
  return value;
}

void print_history_csv(const json& history) {
  std::cout << "t";
  for (const json& name : history.at("series")) std::cout << "," << name.get<std::string>();
  std::cout << "\n";
  const json& t = history.at("t");
  const json& values = history.at("values");
  for (std::size_t k = 0; k < t.size(); ++k) {
    std::cout << t[k].get<long long>();
    for (const json& column : values) std::cout << "," << (column[k].is_number() ? format_number(column[k].get<double>()) : "");
    std::cout << "\n";
  }
}

// ---------------------------------------------------------------------------
// watch

struct WatchOptions {
  std::vector<std::string> series;
  std::string format = "json";
  std::string output;  // lines | frames | table; default: table on a terminal, lines otherwise
  std::uint32_t batch = 1;
  std::uint32_t max_delay_ms = 0;
  std::uint32_t every = 1;
  std::uint64_t count = 0;
  bool alerts = false;
  bool no_reconnect = false;
  bool quiet = false;
};

hc::Client* g_client = nullptr;

void stop_on_signals() {
  // A thread that waits for SIGINT/SIGTERM and stops the client cleanly
  // (blocked in every other thread, so it is the one that receives them).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int received = 0;
    sigwait(&signals, &received);
    if (g_client != nullptr) g_client->stop();
  }).detach();
}

int watch(const Global& global, const Urls& urls, const WatchOptions& watch) {
  if (urls.stream.rfind("wss://", 0) == 0) {
    die(kExitUsage, "watch over TLS (https/wss) is not supported yet; run it on the agent's host or through an SSH "
                    "tunnel (ssh -L 9870:127.0.0.1:9870 HOST)");
  }
  hc::Options options;
  options.url = urls.stream;
  options.token = read_token(global);
  options.series = watch.series;
  options.format = watch.format == "msgpack" ? hc::Format::msgpack : hc::Format::json;
  options.batch_max_samples = watch.batch;
  options.batch_max_delay_ms = watch.max_delay_ms;
  options.every = watch.every;
  options.alerts = watch.alerts;
  options.reconnect = !watch.no_reconnect;
  options.connect_timeout = std::chrono::milliseconds(static_cast<long long>(global.timeout_s * 1000));

  const std::string output = !watch.output.empty() ? watch.output : (isatty(STDOUT_FILENO) ? "table" : "lines");
  hc::Client client(options);
  g_client = &client;
  stop_on_signals();

  std::uint64_t printed = 0;
  std::map<std::string, std::string> units;
  std::string host;
  client.on_hello([&](const hc::Hello& hello) {
    host = hello.host;
    for (const hc::SeriesInfo& s : hello.schema) units[s.name] = s.unit;
    if (!watch.quiet) {
      std::cerr << "hostpulse-cli: " << (hello.restarted ? "the agent restarted; " : "") << "connected to " << hello.host
                << " (hostpulse " << hello.version << ", every " << hello.interval_ms << " ms)\n";
    }
  });
  client.on_state([&](const hc::StateChange& change) {
    if (watch.quiet) return;
    if (change.state == hc::State::reconnecting) {
      std::cerr << fmt::format("hostpulse-cli: {}; reconnecting in {:.1f} s\n", change.reason,
                               static_cast<double>(change.retry_in.count()) / 1000.0);
    }
  });
  client.on_alert([&](const json& message) {
    // The active-alerts snapshot arrives before the subscription turns alerts off.
    if (!watch.alerts || output == "table") return;
    std::cout << message.dump() << "\n" << std::flush;
  });
  client.on_batch([&](const hc::Batch& batch) {
    if (batch.missed > 0 && !watch.quiet) {
      std::cerr << "hostpulse-cli: " << batch.missed << " points missed (this client read too slowly)\n";
    }
    if (output == "frames") {
      std::cout << batch.frame->dump() << "\n" << std::flush;
      if (watch.count > 0 && ++printed >= watch.count) client.stop();
      return;
    }
    for (std::size_t k = 0; k < batch.t.size(); ++k) {
      if (output == "lines") {
        json line = json::object();
        const std::uint64_t seq = batch.seq_first + k * watch.every;
        line["seq"] = seq;
        line["t"] = batch.t[k];
        for (std::size_t i = 0; i < batch.names.size(); ++i) line[batch.names[i]] = number_or_null(batch.values[i][k]);
        std::cout << line.dump() << "\n";
      } else if (k + 1 == batch.t.size()) {  // table: the newest point
        std::string text = "\x1b[H\x1b[2J";
        text += fmt::format("{}  seq {}  (Ctrl-C to quit)\n\n", host, batch.seq_last);
        for (std::size_t i = 0; i < batch.names.size(); ++i) {
          text += fmt::format("  {:<32} {:>18}  {}\n", batch.names[i], format_number(batch.values[i][k]),
                              units[batch.names[i]]);
        }
        std::cout << text;
      }
      if (watch.count > 0 && ++printed >= watch.count) {
        client.stop();
        break;
      }
    }
    std::cout << std::flush;
  });
  const hc::Result result = client.run();
  g_client = nullptr;
  std::cout << std::flush;
  switch (result.outcome) {
    case hc::Outcome::stopped: return kExitOk;
    case hc::Outcome::usage:
    case hc::Outcome::refused: die(kExitUsage, result.message);
    case hc::Outcome::unauthorized:
      die(kExitUnauthorized, result.message + ": pass the agent's token with --token-file or HOSTPULSE_TOKEN");
    case hc::Outcome::gave_up: die(kExitFailure, result.message);
  }
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hostpulse-cli — read a hostpulse agent's live stream and REST API.", "hostpulse-cli"};
  app.footer(
      "Examples:\n"
      "  hostpulse-cli watch -s cpu.busy_pct -s 'load.*'        # table in a terminal, JSON lines in a pipe\n"
      "  hostpulse-cli watch -s mem.used_pct -n 5 | jq .        # five samples, then exit\n"
      "  hostpulse-cli snapshot -s 'cpu.*_pct'\n"
      "  hostpulse-cli history -s load.1m --last 10m --output csv\n"
      "  hostpulse-cli silence add --rule cpu_busy --duration 2h --comment 'batch job'\n"
      "Environment: HOSTPULSE_URL (default for --url), HOSTPULSE_TOKEN (when no --token-file).\n"
      "Exit codes: 0 ok, 1 agent unreachable or failed, 2 bad usage or rejected request, 3 unauthorized.");
  app.require_subcommand(1);
  Global global;
  if (const char* url = std::getenv("HOSTPULSE_URL")) global.url = url;
  app.set_version_flag("-V,--version", std::string("hostpulse-cli ") + std::string(hostpulse::kVersion));
  // Global options are also accepted after the command (hostpulse-cli snapshot --url ...).
  app.fallthrough();
  app.add_option("-u,--url", global.url, "The agent, e.g. http://127.0.0.1:9870 (ws:// also accepted)")
      ->type_name("URL")
      ->capture_default_str();
  app.add_option("--token-file", global.token_file, "File whose first line is the agent's token")->type_name("FILE");
  app.add_option("--timeout", global.timeout_s, "Seconds to wait for a connection or an answer")
      ->check(CLI::Range(0.1, 300.0))
      ->capture_default_str();
  app.add_flag("--compact", global.compact, "One-line JSON (REST commands)");
  app.get_formatter()->column_width(30);

  WatchOptions watch_options;
  CLI::App* watch_cmd = app.add_subcommand("watch", "Print the live stream (reconnects and resumes without gaps)");
  watch_cmd->add_option("-s,--series", watch_options.series, "Series name or * glob (repeatable; default: all)")
      ->type_name("GLOB");
  watch_cmd->add_option("-o,--output", watch_options.output,
                        "lines: one JSON object per sample; frames: one per frame; table: refreshing table "
                        "[default: table on a terminal, lines otherwise]")
      ->check(CLI::IsMember({"lines", "frames", "table"}));
  watch_cmd->add_option("-f,--format", watch_options.format, "Wire format")
      ->check(CLI::IsMember({"json", "msgpack"}))
      ->capture_default_str();
  watch_cmd->add_option("-b,--batch", watch_options.batch, "Samples per frame (1-1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  watch_cmd->add_option("--max-delay", watch_options.max_delay_ms, "Send a partial batch after this many ms (0-60000)")
      ->check(CLI::Range(0, 60000))
      ->type_name("MS");
  watch_cmd->add_option("-e,--every", watch_options.every, "Only every Nth sample (1-3600)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  watch_cmd->add_option("-n,--count", watch_options.count, "Exit after this many samples (frames with -o frames)")
      ->type_name("N");
  watch_cmd->add_flag("--alerts", watch_options.alerts, "Also print alert messages (as JSON lines)");
  watch_cmd->add_flag("--no-reconnect", watch_options.no_reconnect, "Exit 1 when the connection drops");
  watch_cmd->add_flag("-q,--quiet", watch_options.quiet, "No connection messages on stderr");

  std::vector<std::string> snapshot_series;
  CLI::App* snapshot_cmd = app.add_subcommand("snapshot", "Print the newest point (GET /api/v1/snapshot)");
  snapshot_cmd->add_option("-s,--series", snapshot_series, "Series name or * glob (repeatable; default: all)")
      ->type_name("GLOB");

  std::vector<std::string> history_series;
  std::string history_last, history_output = "json";
  std::uint64_t since_seq = 0;
  CLI::App* history_cmd = app.add_subcommand("history", "Print retained points (GET /api/v1/history)");
  history_cmd->add_option("-s,--series", history_series, "Series name or * glob (repeatable; default: all)")
      ->type_name("GLOB");
  auto* last_option = history_cmd->add_option("--last", history_last, "Only the last DURATION, e.g. 90s, 5m, 1h")
                          ->type_name("DURATION");
  history_cmd->add_option("--since-seq", since_seq, "Only points after this seq")->excludes(last_option);
  history_cmd->add_option("-o,--output", history_output, "json or csv")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();

  app.add_subcommand("alerts", "Print active alerts and recent events (GET /api/v1/alerts)");

  CLI::App* silence_cmd = app.add_subcommand("silence", "Manage silences (no notifications for matching alerts)");
  silence_cmd->require_subcommand(1);
  silence_cmd->fallthrough();
  std::string silence_rule = "*", silence_instance = "*", silence_duration, silence_comment, silence_id;
  CLI::App* silence_add = silence_cmd->add_subcommand("add", "Silence alerts for a while (POST /api/v1/silences)");
  silence_add->add_option("--rule", silence_rule, "Rule name or glob")->capture_default_str();
  silence_add->add_option("--instance", silence_instance, "Instance (series) name or glob")->capture_default_str();
  silence_add->add_option("-d,--duration", silence_duration, "How long, e.g. 30m, 2h (up to 30 days)")
      ->required()
      ->type_name("DURATION");
  silence_add->add_option("--comment", silence_comment, "Why");
  silence_cmd->add_subcommand("list", "List silences (GET /api/v1/silences)");
  CLI::App* silence_delete = silence_cmd->add_subcommand("delete", "End a silence (DELETE /api/v1/silences/ID)");
  silence_delete->add_option("id", silence_id, "The silence's id")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  const Urls urls = split_url(global.url);
  if (watch_cmd->parsed()) return watch(global, urls, watch_options);

  Rest rest(global, urls);
  if (snapshot_cmd->parsed()) {
    print_json(rest.get("/api/v1/snapshot" + (snapshot_series.empty() ? "" : "?series=" + join_series(snapshot_series))),
               global.compact);
  } else if (history_cmd->parsed()) {
    std::string query;
    if (!history_series.empty()) query += "&series=" + join_series(history_series);
    if (!history_last.empty()) query += "&last=" + httplib::detail::encode_query_param(history_last);
    if (since_seq > 0) query += "&since_seq=" + std::to_string(since_seq);
    if (!query.empty()) query[0] = '?';
    const json history = rest.get("/api/v1/history" + query);
    if (history_output == "csv") {
      print_history_csv(history);
    } else {
      print_json(history, global.compact);
    }
  } else if (app.got_subcommand("alerts")) {
    print_json(rest.get("/api/v1/alerts"), global.compact);
  } else if (silence_add->parsed()) {
    json body{{"rule", silence_rule}, {"instance", silence_instance}, {"duration", silence_duration}};
    if (!silence_comment.empty()) body["comment"] = silence_comment;
    print_json(rest.post("/api/v1/silences", body), global.compact);
  } else if (silence_cmd->got_subcommand("list")) {
    print_json(rest.get("/api/v1/silences"), global.compact);
  } else if (silence_delete->parsed()) {
    if (silence_id.empty() || silence_id.find_first_not_of("0123456789") != std::string::npos) {
      die(kExitUsage, "silence delete: the id is a number, as printed by 'silence list'");
    }
    print_json(rest.del("/api/v1/silences/" + silence_id), global.compact);
  }
  return kExitOk;
}
