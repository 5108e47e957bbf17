#pragma once

// hostpulse::client — subscribe to a hostpulse agent's live stream from C++.
//
//   hostpulse::client::Options options;
//   options.url = "ws://127.0.0.1:9870/api/v1/stream";
//   options.series = {"cpu.busy_pct", "load.*"};
//   hostpulse::client::Client client(options);
//   client.on_batch([](const hostpulse::client::Batch& batch) { ... });
//   hostpulse::client::Result result = client.run();  // blocks until stop() or a fatal error
//
// The client connects, subscribes, decodes JSON or MessagePack frames and
// hands each batch to a callback. When the connection drops it reconnects
// with exponential backoff and full jitter (1 s doubling to 30 s by default)
// and resumes from the last seq it saw, so no point is lost or repeated after
// a short outage; if the agent restarted meanwhile it resumes from the start
// of the new agent's history (Hello::restarted tells). Callbacks run on the
// thread that called run(). The protocol is documented in docs/protocol.md.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostpulse::client {

enum class Format { json, msgpack };

struct Options {
  // ws://HOST[:PORT][/PATH]; http:// is accepted as a synonym. The path
  // defaults to /api/v1/stream, the port to 9870. (wss:// is not supported:
  // reach a TLS proxy through an SSH tunnel, or use the JS client.)
  std::string url = "ws://127.0.0.1:9870/api/v1/stream";
  std::string token;                  // sent as "Authorization: Bearer <token>" when not empty
  std::vector<std::string> series;    // names and * globs; empty: every series
  Format format = Format::json;
  std::uint32_t batch_max_samples = 1;  // 1-1000
  std::uint32_t batch_max_delay_ms = 0; // 0-60000
  std::uint32_t every = 1;              // decimation, 1-3600
  bool alerts = true;                   // receive alert messages
  bool reconnect = true;
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds connect_timeout{5000};
  // The client pings after half of this without traffic and gives the
  // connection up (and reconnects) after all of it.
  std::chrono::milliseconds liveness_timeout{10'000};
  // Consecutive failed connection attempts before run() gives up; 0: never.
  std::uint32_t max_attempts = 0;
};

struct SeriesInfo {
  std::uint32_t id = 0;
  std::string name;    // canonical, e.g. "cpu.3.busy_pct"
  std::string family;  // e.g. "cpu.busy_pct"
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. {{"cpu", "3"}}; empty for host-wide series
  std::string unit;
  std::string kind;
};

struct Hello {
  int protocol = 0;
  std::string version;
  std::string host;
  std::int64_t interval_ms = 0;
  std::int64_t started_t = 0;
  std::uint64_t seq = 0;
  std::uint64_t schema_version = 0;
  std::vector<SeriesInfo> schema;  // the live series, flattened from the hello's families
  bool restarted = false;  // a reconnect found a different agent process (its seqs started again)
};

// One samples frame, columnar: values[i][k] is names[i] at t[k]; NaN where
// the agent had no value (null on the wire).
struct Batch {
  std::uint64_t seq_first = 0;
  std::uint64_t seq_last = 0;
  std::vector<std::int64_t> t;
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  // Points missing right before this batch: the agent dropped frames because
  // this client read too slowly (see "Flow control" in docs/protocol.md).
  std::uint64_t missed = 0;
  const nlohmann::json* frame = nullptr;  // the decoded frame, valid during the callback
};

enum class State { connecting, connected, reconnecting, stopped };

struct StateChange {
  State state = State::connecting;
  std::string reason;                        // why the previous connection ended (reconnecting)
  std::chrono::milliseconds retry_in{0};     // reconnecting: the wait before the next attempt
  std::uint32_t attempt = 0;                 // consecutive failed attempts so far
};

// Why run() returned.
enum class Outcome {
  stopped,       // stop() was called
  usage,         // bad URL or options
  unauthorized,  // token missing or wrong (close 4001, HTTP 401/403)
  refused,       // the agent refused the subscription (unknown series, bad field) or speaks another protocol
  gave_up,       // max_attempts consecutive failures
};

struct Result {
  Outcome outcome = Outcome::stopped;
  std::string message;
  [[nodiscard]] bool ok() const { return outcome == Outcome::stopped; }
};

std::string_view outcome_name(Outcome outcome);
std::string_view state_name(State state);

// Splits a stream URL; false (and a message naming the problem) when it is not usable.
struct Endpoint {
  std::string host;
  std::string port;
  std::string target;
};
bool parse_stream_url(const std::string& url, Endpoint& endpoint, std::string& error);

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void on_hello(std::function<void(const Hello&)> callback);
  void on_batch(std::function<void(const Batch&)> callback);
  // The {"type":"alerts"} snapshot after each hello and every {"type":"alert"} event.
  void on_alert(std::function<void(const nlohmann::json&)> callback);
  void on_state(std::function<void(const StateChange&)> callback);

  // Connects and streams until stop() or a fatal error; reconnects otherwise.
  Result run();
  // Thread-safe (also from a callback); run() returns soon after.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hostpulse::client
