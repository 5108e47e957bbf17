// End-to-end tests of the live WebSocket stream (docs/protocol.md): the
// built hostpulse binary runs as a separate process against a fixture procfs
// copied to a temporary directory (or the real /proc where real values
// matter) at --interval 100, and is observed only through its public
// surface: the WebSocket protocol, close codes, HTTP and /api/v1/health.
//
// Every wait is bounded. Timing assertions are tolerant but meaningful; a
// build with sanitizers (slower agent) gets more slack where it matters.

#include <sys/types.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "stream/ws_test_client.hpp"
#include "support/agent_process.hpp"
#include "support/temp_dir.hpp"

namespace hostpulse::testing_support {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
// Slack factor for latencies measured against a sanitized (slower) agent.
constexpr int kSlack = kSanitized ? 2 : 1;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Fields of /api/v1/health's "stream" object (0 if absent: never UB on a bad reply).
std::uint64_t counter(const json& stream, std::string_view name) {
  const auto it = stream.find(name);
  return it != stream.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}
std::uint64_t closes_in(const json& stream, std::string_view code) {
  const auto it = stream.find("closes");
  return it != stream.end() && it->is_object() ? counter(*it, code) : 0;
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// '*' matches any run of characters (dots included), as the protocol says.
bool glob(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return name.empty();
  if (pattern.front() == '*') {
    for (std::size_t skip = 0; skip <= name.size(); ++skip) {
      if (glob(pattern.substr(1), name.substr(skip))) return true;
    }
    return false;
  }
  return !name.empty() && pattern.front() == name.front() && glob(pattern.substr(1), name.substr(1));
}

// The agent's resident set size, from /proc/PID/status (kB -> bytes).
std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// The agent under test

struct AgentSetup {
  std::string fixture = "linux6_2cpu";  // under tests/fixtures/proc; "" = the real /proc
  std::string config;                   // TOML; "@DIR@" becomes the temp dir; "" = no --config
  std::vector<std::string> extra_args;
  std::string listen = "127.0.0.1:0";
  std::string bearer;  // token for the agent's own REST calls
  std::vector<std::pair<std::string, std::string>> files;  // written to the temp dir first
};

class StreamAgent {
 public:
  explicit StreamAgent(const AgentSetup& setup) : bearer_(setup.bearer) {
    std::vector<std::string> args = {"--listen", setup.listen, "--interval", "100", "--log-level", "info"};
    for (const auto& [name, contents] : setup.files) dir_.write(name, contents);
    if (!setup.fixture.empty()) {
      // A private copy: the agent reads it like /proc.
      const std::string procfs = dir_.file("proc");
      std::filesystem::copy(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/" + setup.fixture, procfs,
                            std::filesystem::copy_options::recursive);
      args.insert(args.end(), {"--procfs", procfs});
    }
    if (!setup.config.empty()) {
      std::string text = setup.config;
      for (auto at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@")) {
        text.replace(at, 5, dir_.path());
      }
      args.insert(args.end(), {"--config", dir_.write("hostpulse.toml", text)});
    }
    args.insert(args.end(), setup.extra_args.begin(), setup.extra_args.end());
    process_ = std::make_unique<AgentProcess>(args);
    listening_ = process_->wait_until_listening(15s);
  }

  [[nodiscard]] bool listening() const { return listening_; }
  [[nodiscard]] std::uint16_t port() const { return process_->port(); }
  [[nodiscard]] AgentProcess& process() { return *process_; }
  [[nodiscard]] const TempDir& dir() const { return dir_; }

  std::unique_ptr<httplib::Client> http() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port());
    client->set_connection_timeout(3, 0);
    client->set_read_timeout(5, 0);
    client->set_write_timeout(3, 0);
    if (!bearer_.empty()) client->set_bearer_token_auth(bearer_);
    return client;
  }

  json get_json(const std::string& path, int expected_status = 200) const {
    const auto client = http();
    const httplib::Result result = client->Get(path);
    if (!result) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(result.error());
      return json();
    }
    EXPECT_EQ(result->status, expected_status) << "GET " << path << " -> " << result->body;
    json body = json::parse(result->body, nullptr, false);
    return body.is_discarded() ? json() : body;
  }

  json health() const { return get_json("/api/v1/health"); }
  json stream_health() const {
    json h = health();
    return h.contains("stream") ? h["stream"] : json::object();
  }
  std::uint64_t closes(std::string_view code) const {
    const json s = stream_health();
    return s.contains("closes") ? s["closes"].value(std::string(code), std::uint64_t{0}) : 0;
  }
  std::uint64_t stream_counter(std::string_view name) const {
    return stream_health().value(std::string(name), std::uint64_t{0});
  }

  // Waits until the newest point's seq reaches seq.
  bool wait_for_seq(std::uint64_t seq, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const json h = health();
      if (h.contains("history") && h["history"].value("last_seq", std::uint64_t{0}) >= seq) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Polls the stream health until predicate holds; the time it took, or nullopt.
  std::optional<std::chrono::milliseconds> wait_for_stream(const std::function<bool(const json&)>& predicate,
                                                           std::chrono::milliseconds timeout,
                                                           std::chrono::milliseconds period = 50ms) const {
    const auto start = Clock::now();
    while (since(start) < timeout) {
      if (predicate(stream_health())) return since(start);
      std::this_thread::sleep_for(period);
    }
    return std::nullopt;
  }

 private:
  TempDir dir_;
  std::string bearer_;
  std::unique_ptr<AgentProcess> process_;
  bool listening_ = false;
};

// (Designated initializers would be nicer, but GCC 12 warns about the members left out.)
AgentSetup with_config(std::string config, std::string fixture = "linux6_2cpu") {
  AgentSetup setup;
  setup.config = std::move(config);
  setup.fixture = std::move(fixture);
  return setup;
}
AgentSetup real_proc() { return with_config("", ""); }

WsConnectOptions with_header(std::string name, std::string value) {
  WsConnectOptions options;
  options.headers.emplace_back(std::move(name), std::move(value));
  return options;
}
WsConnectOptions with_target(std::string target) {
  WsConnectOptions options;
  options.target = std::move(target);
  return options;
}
// For big hellos (10 s) and small receive buffers.
WsConnectOptions slow_reader(int receive_buffer_bytes = 0) {
  WsConnectOptions options;
  options.receive_buffer_bytes = receive_buffer_bytes;
  options.timeout = 10s;
  return options;
}

#define START_AGENT(name, ...)                                  \
  StreamAgent name(__VA_ARGS__);                                \
  ASSERT_TRUE(name.listening()) << "the agent did not start:\n" \
                                << name.process().output()

// ---------------------------------------------------------------------------
// Frames

struct Samples {
  std::uint32_t sub = 0;
  std::uint64_t seq_first = 0;
  std::uint64_t seq_last = 0;
  std::vector<std::int64_t> t;
  std::vector<std::uint32_t> series;
  json values;
  bool binary = false;
  std::int64_t arrived_wall_ms = 0;
  Clock::time_point arrived;
};

// A samples frame, its shape checked against the protocol; nullopt for
// other messages (and a failure for a malformed samples frame).
std::optional<Samples> as_samples(const WsMessage& message) {
  if (!message.is("samples")) return std::nullopt;
  const json& b = message.body;
  std::set<std::string> keys;
  for (const auto& [key, value] : b.items()) keys.insert(key);
  const std::set<std::string> expected_keys = {"type", "sub", "seq_first", "seq_last", "t", "series", "values"};
  if (keys != expected_keys || !b["sub"].is_number_unsigned() || !b["seq_first"].is_number_unsigned() ||
      !b["seq_last"].is_number_unsigned() || !b["t"].is_array() || !b["series"].is_array() || !b["values"].is_array()) {
    ADD_FAILURE() << "malformed samples frame: " << b.dump().substr(0, 500);
    return std::nullopt;
  }
  Samples s;
  s.sub = b["sub"].get<std::uint32_t>();
  s.seq_first = b["seq_first"].get<std::uint64_t>();
  s.seq_last = b["seq_last"].get<std::uint64_t>();
  for (const json& t : b["t"]) {
    if (!t.is_number_integer()) ADD_FAILURE() << "t is not an integer: " << t;
    s.t.push_back(t.get<std::int64_t>());
  }
  for (const json& id : b["series"]) s.series.push_back(id.get<std::uint32_t>());
  s.values = b["values"];
  s.binary = message.binary;
  s.arrived_wall_ms = to_ms(message.arrived_wall);
  s.arrived = message.arrived;
  EXPECT_FALSE(s.t.empty()) << "empty samples frame";
  EXPECT_LE(s.seq_first, s.seq_last);
  EXPECT_EQ(s.values.size(), s.series.size()) << "one values column per series";
  for (const json& column : s.values) {
    EXPECT_TRUE(column.is_array() && column.size() == s.t.size()) << "values column of the wrong length";
    if (!column.is_array()) continue;
    for (const json& v : column) EXPECT_TRUE(v.is_number() || v.is_null()) << "value " << v;
  }
  for (std::size_t k = 1; k < s.t.size(); ++k) EXPECT_LT(s.t[k - 1], s.t[k]) << "t not increasing within a frame";
  return s;
}

// The samples frames among messages, in order (optionally of one sub).
std::vector<Samples> samples_of(const std::vector<WsMessage>& messages, std::optional<std::uint32_t> sub = {}) {
  std::vector<Samples> out;
  for (const WsMessage& m : messages) {
    if (auto s = as_samples(m); s && (!sub || s->sub == *sub)) out.push_back(std::move(*s));
  }
  return out;
}

// Seqs of every point in the frames (a frame of n points with decimation
// `every` covers seq_first, seq_first + every, ..., seq_last).
std::vector<std::uint64_t> point_seqs(const std::vector<Samples>& frames, std::uint64_t every = 1) {
  std::vector<std::uint64_t> seqs;
  for (const Samples& s : frames) {
    EXPECT_EQ(s.seq_last - s.seq_first, (s.t.size() - 1) * every)
        << "frame " << s.seq_first << ".." << s.seq_last << " holds " << s.t.size() << " points";
    for (std::size_t k = 0; k < s.t.size(); ++k) seqs.push_back(s.seq_first + k * every);
  }
  return seqs;
}

// "exactly consecutive": each seq is the previous one plus `step`.
::testing::AssertionResult consecutive(const std::vector<std::uint64_t>& seqs, std::uint64_t step = 1) {
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + step) {
      return ::testing::AssertionFailure() << "seq " << seqs[i - 1] << " is followed by " << seqs[i] << " (expected "
                                           << seqs[i - 1] + step << ") at index " << i << " of " << seqs.size();
    }
  }
  return ::testing::AssertionSuccess();
}

// Reads until `done` holds for the messages read so far (or the timeout).
std::vector<WsMessage> read_while(WsClient& client, const std::function<bool(const std::vector<WsMessage>&)>& done,
                                  std::chrono::milliseconds timeout) {
  std::vector<WsMessage> messages;
  const auto deadline = Clock::now() + timeout;
  while (!done(messages)) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      ADD_FAILURE() << "timed out after " << timeout.count() << " ms; " << messages.size() << " messages read";
      break;
    }
    auto message = client.read(remaining);
    if (!message) {
      ADD_FAILURE() << "connection ended: " << client.error() << " close code " << client.close_code().value_or(0);
      break;
    }
    messages.push_back(std::move(*message));
  }
  return messages;
}

// Reads until `count` samples frames of sub (any sub if 0) have arrived.
std::vector<Samples> read_samples(WsClient& client, std::uint32_t sub, std::size_t count,
                                  std::chrono::milliseconds timeout) {
  const auto messages = read_while(
      client,
      [&](const std::vector<WsMessage>& so_far) {
        std::size_t n = 0;
        for (const WsMessage& m : so_far) {
          if (m.is("samples") && (sub == 0 || m.body.value("sub", 0u) == sub)) ++n;
        }
        return n >= count;
      },
      timeout);
  return samples_of(messages, sub == 0 ? std::optional<std::uint32_t>{} : std::optional<std::uint32_t>{sub});
}

// Reads for `duration` (frames must keep coming: a read waits at most
// duration + 3 s), returning everything read.
std::vector<WsMessage> read_for(WsClient& client, std::chrono::milliseconds duration) {
  const auto end = Clock::now() + duration;
  std::vector<WsMessage> messages;
  while (Clock::now() < end) {
    auto message = client.read(duration + 3s);
    if (!message) {
      ADD_FAILURE() << "connection ended: " << client.error() << " close code " << client.close_code().value_or(0);
      break;
    }
    messages.push_back(std::move(*message));
  }
  return messages;
}

json subscribe(WsClient& client, json request, std::vector<WsMessage>* skipped = nullptr) {
  request["type"] = "subscribe";
  static int next_id = 0;
  if (!request.contains("id")) request["id"] = "sub-" + std::to_string(++next_id);
  auto reply = client.request(request, {"subscribed", "error"}, 10s, skipped);
  if (!reply) {
    ADD_FAILURE() << "no reply to " << request.dump() << ": " << client.error();
    return json::object();
  }
  EXPECT_EQ(reply->value("type", ""), "subscribed") << "subscribe " << request.dump() << " -> " << reply->dump();
  return *reply;
}

std::uint32_t sub_of(const json& subscribed) { return subscribed.value("sub", 0u); }
std::uint64_t seq_of(const json& message) { return message.value("seq", std::uint64_t{0}); }

// Expects an error reply with this code (and id, when the request had one).
void expect_error(WsClient& client, const std::string& text, std::string_view code, const json& id = nullptr) {
  SCOPED_TRACE("request: " + text.substr(0, 200));
  ASSERT_TRUE(client.send_text(text)) << client.error();
  auto reply = client.read_until([](const WsMessage& m) { return m.is("error") || m.is("pong"); }, 5s);
  ASSERT_TRUE(reply) << "no reply: " << client.error() << " close code " << client.close_code().value_or(0);
  const json& body = reply->body;
  EXPECT_EQ(body.value("type", ""), "error") << body.dump();
  EXPECT_EQ(body.value("code", ""), code) << body.dump();
  EXPECT_TRUE(body.contains("message") && body["message"].is_string() && !body["message"].get<std::string>().empty())
      << body.dump();
  if (id.is_null()) {
    EXPECT_FALSE(body.contains("id")) << body.dump();
  } else {
    EXPECT_EQ(body.value("id", json()), id) << body.dump();
  }
  EXPECT_FALSE(reply->binary) << "errors are text frames";
}

// The connection still works: a ping is answered.
void expect_alive(WsClient& client, const std::string& id = "alive") {
  auto pong = client.request(json{{"type", "ping"}, {"id", id}}, {"pong"}, 10s);
  ASSERT_TRUE(pong) << "ping not answered: " << client.error() << " close code " << client.close_code().value_or(0);
  EXPECT_EQ((*pong)["id"], id);
}

std::vector<std::string> names_matching(const json& schema, const std::vector<std::string>& patterns) {
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const std::string& pattern : patterns) {
    for (const json& s : schema) {
      const std::string name = s["name"].get<std::string>();
      if (glob(pattern, name) && taken.insert(name).second) names.push_back(name);
    }
  }
  return names;
}

// The hello's families as one entry per series, in id order (the order the
// agent resolves globs in), each with its family's unit and kind.
json series_of(const json& hello) {
  std::vector<json> flat;
  for (const json& family : hello["families"]) {
    for (const json& series : family["series"]) {
      json entry = series;
      entry["family"] = family["family"];
      entry["unit"] = family["unit"];
      entry["kind"] = family["kind"];
      if (!entry.contains("labels")) entry["labels"] = json::object();
      flat.push_back(std::move(entry));
    }
  }
  std::sort(flat.begin(), flat.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
  return json(flat);
}

std::uint32_t id_of(const json& schema, std::string_view name) {
  for (const json& s : schema) {
    if (s["name"] == name) return s["id"].get<std::uint32_t>();
  }
  ADD_FAILURE() << "no series " << name << " in the schema";
  return 0;
}

// ===========================================================================
// hello, 426

TEST(Stream, HelloMatchesInfoAndPlainGetIs426) {
  START_AGENT(agent, AgentSetup{});
  WsClient client(agent.port());
  auto hello = client.connect_and_hello();
  ASSERT_TRUE(hello);
  json info = agent.get_json("/api/v1/info");

  std::set<std::string> keys;
  for (const auto& [key, value] : hello->items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"type", "protocol", "version", "host", "interval_ms", "seq", "started_t",
                                         "schema_version", "families"}));
  EXPECT_EQ((*hello)["protocol"], 2);
  EXPECT_EQ((*hello)["version"], info["version"]);
  EXPECT_EQ((*hello)["host"], info["host"]);
  EXPECT_EQ((*hello)["interval_ms"], 100);
  EXPECT_EQ((*hello)["started_t"], info["started_t"]);
  ASSERT_TRUE((*hello)["seq"].is_number_unsigned());
  EXPECT_LE(seq_of(*hello), seq_of(info)) << "hello came before info";
  EXPECT_FALSE(client.response_header("Server").empty());

  const json schema = series_of(*hello);
  ASSERT_TRUE(schema.is_array());
  ASSERT_EQ(schema.size(), info["schema"].size());
  // The fixture's two CPUs have per-CPU series; there is no third.
  EXPECT_EQ(names_matching(schema, {"cpu.0.*"}).size(), 11u);
  EXPECT_EQ(names_matching(schema, {"cpu.1.*"}).size(), 11u);
  EXPECT_TRUE(names_matching(schema, {"cpu.2.*"}).empty());
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const json& s = schema[i];
    const json& r = info["schema"][i];
    EXPECT_EQ(s["id"], i);
    EXPECT_EQ(s["family"], r["family"]);
    EXPECT_EQ(s["labels"], r["labels"]);
    EXPECT_EQ(s["id"], r["id"]);
    EXPECT_EQ(s["name"], r["name"]);
    EXPECT_EQ(s["unit"], r["unit"]);
    EXPECT_EQ(s["kind"], r["kind"]);
  }

  // seq moves on, started_t does not.
  std::this_thread::sleep_for(350ms);
  WsClient second(agent.port());
  auto hello2 = second.connect_and_hello();
  ASSERT_TRUE(hello2);
  EXPECT_GT(seq_of(*hello2), seq_of(*hello));
  EXPECT_EQ((*hello2)["started_t"], (*hello)["started_t"]);

  // A plain GET (no Upgrade) gets 426.
  const auto http = agent.http();
  const httplib::Result result = http->Get("/api/v1/stream");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 426) << result->body;
  EXPECT_EQ(result->get_header_value("Upgrade"), "websocket");
  json body = json::parse(result->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << result->body;
  EXPECT_EQ(body["error"]["status"], 426);
}

// ===========================================================================
// subscribe, samples

TEST(Stream, SubscribeGlobsColumnarSamplesWithoutGaps) {
  START_AGENT(agent, real_proc());  // the real /proc: real, moving values
  WsClient client(agent.port());
  auto hello = client.connect_and_hello();
  ASSERT_TRUE(hello);
  const json schema = series_of(*hello);
  const std::vector<std::string> patterns = {"cpu.*", "mem.used_bytes"};
  const std::vector<std::string> names = names_matching(schema, patterns);
  std::vector<std::uint32_t> ids;
  for (const std::string& name : names) ids.push_back(id_of(schema, name));

  json subscribed = subscribe(client, {{"id", "cpu-chart"}, {"series", patterns}});
  EXPECT_EQ(subscribed["id"], "cpu-chart");
  ASSERT_TRUE(subscribed["sub"].is_number_unsigned());
  EXPECT_GE(sub_of(subscribed), 1u);
  EXPECT_EQ(subscribed["series"], json(ids));
  EXPECT_EQ(subscribed["names"], json(names));
  EXPECT_EQ(subscribed["format"], "json");
  EXPECT_EQ(subscribed["batch"], (json{{"max_samples", 1}, {"max_delay_ms", 0}}));
  EXPECT_EQ(subscribed["every"], 1);
  ASSERT_TRUE(subscribed["seq"].is_number_unsigned());
  ASSERT_GT(names.size(), 11u);
  EXPECT_EQ(names.front(), "cpu.busy_pct");
  EXPECT_EQ(names.back(), "mem.used_bytes");

  // ~2 s at 100 ms.
  const std::vector<Samples> frames = read_samples(client, sub_of(subscribed), 20, 2s + 5s);
  ASSERT_EQ(frames.size(), 20u);
  EXPECT_EQ(frames.front().seq_first, seq_of(subscribed) + 1) << "live frames start right after subscribed.seq";
  EXPECT_TRUE(consecutive(point_seqs(frames)));
  std::size_t busy_measured = 0;
  std::int64_t max_delay = 0;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const Samples& s = frames[f];
    EXPECT_FALSE(s.binary) << "json subscriptions get text frames";
    EXPECT_EQ(s.t.size(), 1u) << "max_samples 1: one point per frame";
    EXPECT_EQ(s.series, ids);
    if (f > 0) {
      const std::int64_t step = s.t.front() - frames[f - 1].t.back();
      EXPECT_GT(step, 0) << "t must increase";
      EXPECT_LT(step, 1000) << "one tick is 100 ms";
    }
    max_delay = std::max(max_delay, s.arrived_wall_ms - s.t.back());
    EXPECT_NEAR(static_cast<double>(s.t.back()), static_cast<double>(s.arrived_wall_ms), 1000.0 * kSlack);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const json& v = s.values[i][0];
      if (names[i].rfind("cpu.", 0) == 0) {
        EXPECT_TRUE(v.is_null() || (v.get<double>() >= 0.0 && v.get<double>() <= 100.0)) << names[i] << " = " << v;
        if (i == 0 && !v.is_null()) ++busy_measured;
      } else {
        ASSERT_TRUE(v.is_number()) << names[i] << " = " << v;
        EXPECT_GT(v.get<double>(), 0.0);
        EXPECT_EQ(v.get<double>(), std::trunc(v.get<double>())) << "byte counts are whole numbers";
      }
    }
  }
  const double mean_step =
      static_cast<double>(frames.back().t.back() - frames.front().t.front()) / static_cast<double>(frames.size() - 1);
  EXPECT_GT(mean_step, 80.0);
  EXPECT_LT(mean_step, 150.0);
  EXPECT_GT(busy_measured, 0u) << "cpu.busy_pct was null in every frame";
  std::cout << "[ measure  ] 20 frames, mean t step " << mean_step << " ms, max arrival delay " << max_delay
            << " ms\n";
}

TEST(Stream, JsonAndMsgpackCarryIdenticalData) {
  START_AGENT(agent, real_proc());
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  const json series = {"cpu.*", "mem.*", "swap.*", "load.*", "procs.*", "system.*"};
  std::vector<WsMessage> early;
  json as_json = subscribe(client, {{"id", "j"}, {"series", series}, {"format", "json"}}, &early);
  json as_msgpack = subscribe(client, {{"id", "m"}, {"series", series}, {"format", "msgpack"}}, &early);
  EXPECT_EQ(as_json["format"], "json");
  EXPECT_EQ(as_msgpack["format"], "msgpack");
  EXPECT_EQ(as_json["series"], as_msgpack["series"]);
  EXPECT_NE(sub_of(as_json), sub_of(as_msgpack)) << "different formats are different subscriptions";

  std::map<std::uint64_t, Samples> by_json, by_msgpack;
  std::size_t common = 0;
  auto messages = read_while(
      client,
      [&](const std::vector<WsMessage>& so_far) {
        if (so_far.empty()) return false;
        if (auto s = as_samples(so_far.back())) {
          if (s->sub == sub_of(as_json)) by_json[s->seq_first] = *s;
          if (s->sub == sub_of(as_msgpack)) by_msgpack[s->seq_first] = *s;
          if (by_json.count(s->seq_first) != 0 && by_msgpack.count(s->seq_first) != 0) ++common;
        }
        return common >= 15;
      },
      8s);
  messages.insert(messages.begin(), early.begin(), early.end());
  ASSERT_GE(common, 15u);
  for (const WsMessage& m : messages) {
    if (!m.is("samples")) continue;
    EXPECT_EQ(m.binary, m.body.value("sub", 0u) == sub_of(as_msgpack))
        << "msgpack samples are binary frames, json ones text";
  }
  std::size_t compared_values = 0, fractional = 0;
  for (const auto& [seq, j] : by_json) {
    const auto it = by_msgpack.find(seq);
    if (it == by_msgpack.end()) continue;
    const Samples& m = it->second;
    SCOPED_TRACE("seq " + std::to_string(seq));
    EXPECT_EQ(j.seq_last, m.seq_last);
    EXPECT_EQ(j.t, m.t);
    EXPECT_EQ(j.series, m.series);
    ASSERT_EQ(j.values.size(), m.values.size());
    for (std::size_t i = 0; i < j.values.size(); ++i) {
      for (std::size_t k = 0; k < j.values[i].size(); ++k) {
        const json& a = j.values[i][k];
        const json& b = m.values[i][k];
        if (a.is_null() || b.is_null()) {
          EXPECT_TRUE(a.is_null() && b.is_null()) << "series " << j.series[i] << ": " << a << " vs " << b;
          continue;
        }
        const double x = a.get<double>();
        const double y = b.get<double>();
        ++compared_values;
        if (x != std::trunc(x)) ++fractional;
        // Protocol 2's scaled integers give back the JSON number's double exactly.
        EXPECT_EQ(std::bit_cast<std::uint64_t>(x), std::bit_cast<std::uint64_t>(y))
            << "series " << j.series[i] << ": " << a << " vs " << b;
      }
    }
  }
  EXPECT_GT(compared_values, 15u * 40u);
  EXPECT_GT(fractional, 0u) << "no fractional value was compared";
}

// ===========================================================================
// batching, decimation

TEST(Stream, BatchingByCountAndByDelay) {
  START_AGENT(agent, AgentSetup{});
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  std::vector<WsMessage> messages;
  json by_count = subscribe(client, {{"series", {"load.*"}}, {"batch", {{"max_samples", 5}}}}, &messages);
  json by_delay = subscribe(
      client, {{"series", {"load.*"}}, {"batch", {{"max_samples", 1000}, {"max_delay_ms", 300}}}}, &messages);
  json count_first = subscribe(
      client, {{"series", {"load.*"}}, {"batch", {{"max_samples", 2}, {"max_delay_ms", 1000}}}}, &messages);
  json delay_first = subscribe(
      client, {{"series", {"load.*"}}, {"batch", {{"max_samples", 10}, {"max_delay_ms", 250}}}}, &messages);
  EXPECT_EQ(by_count["batch"], (json{{"max_samples", 5}, {"max_delay_ms", 0}}));
  EXPECT_EQ(by_delay["batch"], (json{{"max_samples", 1000}, {"max_delay_ms", 300}}));
  EXPECT_EQ(count_first["batch"], (json{{"max_samples", 2}, {"max_delay_ms", 1000}}));
  EXPECT_EQ(delay_first["batch"], (json{{"max_samples", 10}, {"max_delay_ms", 250}}));
  const std::set<std::uint32_t> subs = {sub_of(by_count), sub_of(by_delay), sub_of(count_first), sub_of(delay_first)};
  EXPECT_EQ(subs.size(), 4u) << "different batch settings are different subscriptions";

  const auto more = read_for(client, 3200ms);
  messages.insert(messages.end(), more.begin(), more.end());

  {
    SCOPED_TRACE("max_samples 5, no time limit");
    const auto frames = samples_of(messages, sub_of(by_count));
    ASSERT_GE(frames.size(), 4u);
    for (const Samples& s : frames) EXPECT_EQ(s.t.size(), 5u) << "seq " << s.seq_first;
    EXPECT_EQ(frames.front().seq_first, seq_of(by_count) + 1);
    EXPECT_TRUE(consecutive(point_seqs(frames)));
  }
  {
    SCOPED_TRACE("max_samples 1000, max_delay 300 ms");
    const auto frames = samples_of(messages, sub_of(by_delay));
    ASSERT_GE(frames.size(), 6u);
    EXPECT_EQ(frames.front().seq_first, seq_of(by_delay) + 1);
    EXPECT_TRUE(consecutive(point_seqs(frames)));
    std::size_t points = 0;
    for (const Samples& s : frames) {
      EXPECT_GE(s.t.size(), 2u);
      EXPECT_LE(s.t.size(), 5u);
      points += s.t.size();
      // The oldest point waited about max_delay.
      EXPECT_GE(s.arrived_wall_ms - s.t.front(), 200);
      EXPECT_LE(s.arrived_wall_ms - s.t.front(), 300 + 300 * kSlack);
    }
    const double mean_points = static_cast<double>(points) / static_cast<double>(frames.size());
    const double mean_gap_ms =
        static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(frames.back().arrived -
                                                                                  frames.front().arrived)
                                .count()) /
        static_cast<double>(frames.size() - 1);
    EXPECT_GE(mean_points, 2.5);
    EXPECT_LE(mean_points, 4.2);
    EXPECT_GE(mean_gap_ms, 250.0);
    EXPECT_LE(mean_gap_ms, 450.0);
    std::cout << "[ measure  ] max_delay_ms 300: " << frames.size() << " frames, " << mean_points
              << " points/frame, one every " << mean_gap_ms << " ms\n";
  }
  {
    SCOPED_TRACE("max_samples 2 fires before max_delay 1000 ms");
    const auto frames = samples_of(messages, sub_of(count_first));
    ASSERT_GE(frames.size(), 10u);
    for (const Samples& s : frames) EXPECT_EQ(s.t.size(), 2u) << "seq " << s.seq_first;
    EXPECT_TRUE(consecutive(point_seqs(frames)));
  }
  {
    SCOPED_TRACE("max_delay 250 ms fires before max_samples 10");
    const auto frames = samples_of(messages, sub_of(delay_first));
    ASSERT_GE(frames.size(), 7u);
    for (const Samples& s : frames) {
      EXPECT_GE(s.t.size(), 1u);
      EXPECT_LE(s.t.size(), 4u) << "seq " << s.seq_first;
    }
    EXPECT_TRUE(consecutive(point_seqs(frames)));
  }
}

TEST(Stream, DecimationKeepsMultiplesOfEvery) {
  START_AGENT(agent, AgentSetup{});
  WsClient client(agent.port());
  auto hello = client.connect_and_hello();
  ASSERT_TRUE(hello);
  std::vector<WsMessage> messages;
  // A single string is a one-element list.
  json single = subscribe(client, {{"series", "load.1m"}, {"every", 3}}, &messages);
  const json batched =
      subscribe(client, {{"series", {"load.1m"}}, {"every", 3}, {"batch", {{"max_samples", 2}}}}, &messages);
  EXPECT_EQ(single["every"], 3);
  EXPECT_EQ(single["names"], json({"load.1m"}));
  EXPECT_EQ(single["series"], json({id_of(series_of(*hello), "load.1m")}));
  const auto more = read_while(
      client,
      [&](const std::vector<WsMessage>& so_far) {
        return samples_of(so_far, sub_of(single)).size() >= 6 && samples_of(so_far, sub_of(batched)).size() >= 2;
      },
      8s);
  messages.insert(messages.end(), more.begin(), more.end());

  const auto frames = samples_of(messages, sub_of(single));
  ASSERT_GE(frames.size(), 6u);
  for (const Samples& s : frames) {
    EXPECT_EQ(s.seq_first % 3, 0u) << s.seq_first;
    EXPECT_EQ(s.seq_first, s.seq_last);
  }
  EXPECT_EQ(frames.front().seq_first, (seq_of(single) / 3 + 1) * 3) << "the first multiple of 3 after subscribed.seq";
  EXPECT_TRUE(consecutive(point_seqs(frames, 3), 3));
  for (std::size_t f = 1; f < frames.size(); ++f) {
    EXPECT_GT(frames[f].t.front() - frames[f - 1].t.front(), 200) << "three ticks apart";
  }

  const auto pairs = samples_of(messages, sub_of(batched));
  ASSERT_GE(pairs.size(), 2u);
  for (const Samples& s : pairs) {
    EXPECT_EQ(s.t.size(), 2u);
    EXPECT_EQ(s.seq_first % 3, 0u);
    EXPECT_EQ(s.seq_last, s.seq_first + 3);
  }
  EXPECT_TRUE(consecutive(point_seqs(pairs, 3), 3));
}

// ===========================================================================
// resume

TEST(Stream, ResumeAfterDroppedConnectionHasNoGapNoDuplicate) {
  START_AGENT(agent, AgentSetup{});
  const json request = {{"series", {"load.*", "mem.used_bytes"}}, {"id", "r"}};
  std::vector<Samples> first_frames;
  {
    WsClient first(agent.port());
    ASSERT_TRUE(first.connect_and_hello());
    json subscribed = subscribe(first, request);
    first_frames = read_samples(first, sub_of(subscribed), 5, 5s);
    ASSERT_EQ(first_frames.size(), 5u);
    first.drop();  // no close frame: the network went away
  }
  const std::uint64_t last_seen = first_frames.back().seq_last;
  std::this_thread::sleep_for(500ms);

  WsClient second(agent.port());
  auto hello = second.connect_and_hello();
  ASSERT_TRUE(hello);
  json resume = request;
  resume["resume_from"] = last_seen;
  json subscribed = subscribe(second, resume);
  const std::uint64_t covered = seq_of(subscribed);
  EXPECT_GE(covered, last_seen + 3) << "half a second passed";
  const auto second_frames = samples_of(
      read_while(
          second,
          [&](const std::vector<WsMessage>& so_far) {
            const auto frames = samples_of(so_far, sub_of(subscribed));
            return !frames.empty() && frames.back().seq_last >= covered + 5;
          },
          5s),
      sub_of(subscribed));
  ASSERT_FALSE(second_frames.empty());
  EXPECT_EQ(second_frames.front().seq_first, last_seen + 1) << "catch-up starts right after resume_from";
  EXPECT_EQ(second_frames.front().seq_last, covered) << "one catch-up frame covers (resume_from, subscribed.seq]";

  std::vector<Samples> all = first_frames;
  all.insert(all.end(), second_frames.begin(), second_frames.end());
  const auto seqs = point_seqs(all);
  EXPECT_TRUE(consecutive(seqs)) << "across the reconnect";
  std::vector<std::int64_t> times;
  for (const Samples& s : all) times.insert(times.end(), s.t.begin(), s.t.end());
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()) &&
              std::adjacent_find(times.begin(), times.end()) == times.end())
      << "t strictly increasing across the reconnect";

  // The catch-up is the retained history for those seqs.
  const json history =
      agent.get_json("/api/v1/history?series=load.1m&since_seq=" + std::to_string(last_seen));
  ASSERT_TRUE(history.contains("t")) << history.dump();
  EXPECT_EQ(history["seq_first"], last_seen + 1);
  const Samples& catch_up = second_frames.front();
  for (std::size_t k = 0; k < catch_up.t.size() && k < history["t"].size(); ++k) {
    EXPECT_EQ(catch_up.t[k], history["t"][k].get<std::int64_t>()) << "seq " << last_seen + 1 + k;
  }
}

TEST(Stream, ResumeFromBeforeHistoryStartsAtOldestRetained) {
  START_AGENT(agent, with_config("history_points = 10\n"));
  ASSERT_TRUE(agent.wait_for_seq(25, 10s));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  json subscribed = subscribe(client, {{"series", {"load.1m"}}, {"resume_from", 1}});
  const std::uint64_t covered = seq_of(subscribed);
  const auto frames = read_samples(client, sub_of(subscribed), 4, 5s);
  ASSERT_GE(frames.size(), 2u);
  const Samples& catch_up = frames.front();
  EXPECT_GT(catch_up.seq_first, 2u) << "points 2.. were evicted long ago";
  EXPECT_EQ(catch_up.seq_last, covered);
  EXPECT_GE(catch_up.seq_first + 9, covered) << "at most 10 points are retained";
  EXPECT_LE(catch_up.seq_first + 8, covered) << "the catch-up starts at the oldest retained point";
  EXPECT_TRUE(consecutive(point_seqs(frames)));
  json h = agent.health()["history"];
  EXPECT_EQ(h["capacity"], 10);
  EXPECT_EQ(h["size"], 10);
}

TEST(Stream, LargeResumeCatchUpIsNotMistakenForASlowClient) {
  // 256 CPUs: ~15 KB of JSON per point. With max_queue_bytes = 256 KiB a
  // catch-up of 20 points (~300 KB) is over the queue limit at once -- as,
  // with the default 8 MiB, two 300-point catch-up chunks (~4.4 MB each) are
  // on such a host after a disconnect of ~10 minutes at 1 s. Everything
  // queued counts toward the limit, so the catch-up keeps the newest points
  // that fit in half of it (the client sees where it starts) and is never a
  // reason to close the client.
  START_AGENT(agent, with_config("[stream]\nmax_queue_bytes = 262144\n", "linux6_256cpu"));
  ASSERT_TRUE(agent.wait_for_seq(20, 10s));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello(slow_reader()));
  json subscribed = subscribe(client, {{"id", "all"}, {"resume_from", 0}});
  std::vector<Samples> frames;
  std::size_t catch_up_bytes = 0;
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && (frames.empty() || frames.back().seq_last <= seq_of(subscribed) + 2)) {
    auto message = client.read(10s);
    if (!message) break;
    if (auto s = as_samples(*message)) {
      if (s->seq_last <= seq_of(subscribed)) catch_up_bytes += message->data.size();
      frames.push_back(std::move(*s));
    }
  }
  ASSERT_NE(client.close_code(), 1013)
      << "a resuming client whose catch-up is larger than [stream] max_queue_bytes was closed as \"too slow\" "
         "before it could read anything (it would loop reconnecting)";
  ASSERT_FALSE(frames.empty()) << client.error() << " close " << client.close_code().value_or(0);
  EXPECT_GT(frames.front().seq_first, 1u) << "20 wide points do not fit in half of a 256 KiB queue";
  EXPECT_LE(frames.front().seq_first, seq_of(subscribed)) << "no catch-up at all";
  EXPECT_LE(catch_up_bytes, 262144u / 2);
  // The catch-up and the live frames meet without a gap. The reader is slow
  // on purpose, so on a loaded machine (ASan) a waiting live frame may be
  // replaced by a newer one -- the protocol's newest-wins for slow clients,
  // counted as dropped; only then may a gap appear.
  const auto seqs = point_seqs(frames);
  if (!consecutive(seqs)) {
    EXPECT_GT(agent.health()["stream"]["frames_dropped"].get<std::uint64_t>(), 0u)
        << "a gap without a dropped frame: " << consecutive(seqs).message();
  }
}

// ===========================================================================
// history, ping, unsubscribe

TEST(Stream, HistoryPingAndUnsubscribe) {
  START_AGENT(agent, AgentSetup{});
  ASSERT_TRUE(agent.wait_for_seq(15, 10s));
  WsClient client(agent.port());
  auto hello = client.connect_and_hello();
  ASSERT_TRUE(hello);
  const json schema = series_of(*hello);

  // history, last
  const std::int64_t asked_at = wall_ms();
  auto reply = client.request(
      {{"type", "history"}, {"id", "h1"}, {"series", {"load.1m", "load.5m", "load.15m"}}, {"last", "1s"}},
      {"history", "error"});
  ASSERT_TRUE(reply) << client.error();
  ASSERT_EQ((*reply)["type"], "history") << reply->dump();
  EXPECT_EQ((*reply)["id"], "h1");
  EXPECT_EQ((*reply)["names"], json({"load.1m", "load.5m", "load.15m"}));
  EXPECT_EQ((*reply)["series"], json({id_of(schema, "load.1m"), id_of(schema, "load.5m"), id_of(schema, "load.15m")}));
  const json& t = (*reply)["t"];
  ASSERT_TRUE(t.is_array());
  EXPECT_GE(t.size(), 7u);
  EXPECT_LE(t.size(), 13u);
  EXPECT_EQ((*reply)["seq_last"].get<std::uint64_t>() - (*reply)["seq_first"].get<std::uint64_t>() + 1, t.size());
  for (std::size_t k = 0; k < t.size(); ++k) {
    EXPECT_GE(t[k].get<std::int64_t>(), asked_at - 1000 - 50);
    if (k > 0) {
      EXPECT_LT(t[k - 1], t[k]);
    }
  }
  ASSERT_EQ((*reply)["values"].size(), 3u);
  for (const json& column : (*reply)["values"]) EXPECT_EQ(column.size(), t.size());
  // The fixture's loadavg: "0.00 0.03 0.00".
  EXPECT_EQ((*reply)["values"][1][0], 0.03);
  EXPECT_EQ((*reply)["values"][0][0], 0);

  // history, since_seq (and an integer id)
  const std::uint64_t since = (*reply)["seq_last"].get<std::uint64_t>() - 3;
  reply = client.request({{"type", "history"}, {"id", 2}, {"series", "load.1m"}, {"since_seq", since}}, {"history", "error"});
  ASSERT_TRUE(reply);
  ASSERT_EQ((*reply)["type"], "history") << reply->dump();
  EXPECT_EQ((*reply)["id"], 2);
  EXPECT_EQ((*reply)["seq_first"], since + 1);
  EXPECT_GE((*reply)["seq_last"].get<std::uint64_t>(), since + 3);
  EXPECT_EQ((*reply)["values"][0].size(), (*reply)["t"].size());

  // history, everything retained (the history is not full yet), with a glob
  reply = client.request({{"type", "history"}, {"id", 3}, {"series", "load.*"}}, {"history", "error"});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["names"], json(names_matching(schema, {"load.*"})));
  EXPECT_EQ((*reply)["values"].size(), names_matching(schema, {"load.*"}).size());
  EXPECT_EQ((*reply)["seq_first"], 1);
  EXPECT_GE((*reply)["seq_last"].get<std::uint64_t>(), 15u);

  // ping / pong with the id echoed (integer, string, none)
  const std::int64_t before = wall_ms();
  reply = client.request({{"type", "ping"}, {"id", 42}}, {"pong"});
  const std::int64_t after = wall_ms();
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, (json{{"type", "pong"}, {"id", 42}, {"t", (*reply)["t"]}}));
  EXPECT_GE((*reply)["t"].get<std::int64_t>(), before - 5);
  EXPECT_LE((*reply)["t"].get<std::int64_t>(), after + 5);
  reply = client.request({{"type", "ping"}, {"id", "abc"}}, {"pong"});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["id"], "abc");
  reply = client.request({{"type", "ping"}}, {"pong"});
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->contains("id"));

  // unsubscribe stops the frames
  json subscribed = subscribe(client, {{"series", {"load.*"}}});
  const std::uint32_t sub = sub_of(subscribed);
  ASSERT_EQ(read_samples(client, sub, 2, 5s).size(), 2u);
  reply = client.request({{"type", "unsubscribe"}, {"id", 5}, {"sub", sub}}, {"unsubscribed", "error"});
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, (json{{"type", "unsubscribed"}, {"id", 5}, {"sub", sub}}));
  std::this_thread::sleep_for(500ms);  // five ticks
  std::vector<WsMessage> after_unsubscribe;
  ASSERT_TRUE(client.request({{"type", "ping"}, {"id", "barrier"}}, {"pong"}, 5s, &after_unsubscribe));
  EXPECT_TRUE(samples_of(after_unsubscribe, sub).empty()) << "frames after unsubscribed";
  EXPECT_EQ(agent.stream_counter("subscriptions"), 0u);

  // unknown_subscription: the sub is gone (and 999999 never existed)
  expect_error(client, json{{"type", "unsubscribe"}, {"id", 6}, {"sub", sub}}.dump(), "unknown_subscription", 6);
  expect_error(client, json{{"type", "unsubscribe"}, {"id", "x"}, {"sub", 999999}}.dump(), "unknown_subscription",
               "x");
}

// ===========================================================================
// bad input

const std::string kStrictConfig =
    "[stream]\n"
    "max_subscriptions = 2\n"
    "max_messages_per_second = 5\n"
    "max_errors = 25\n";

TEST(Stream, BadInputGetsErrorCodesWithoutClosing) {
  START_AGENT(agent, with_config(kStrictConfig));
  // At 5 requests per second (bursts of 10) each connection gets at most 9.
  {
    SCOPED_TRACE("parse errors");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello());
    expect_error(client, "this is not json", "bad_json");
    expect_error(client, std::string(9, '[') + std::string(9, ']'), "bad_json");  // nested deeper than 8
    expect_error(client, "[1,2,3]", "bad_message");
    expect_error(client, R"({"id":"x"})", "bad_message", "x");
    expect_error(client, R"({"type":"dance","id":7})", "unknown_type", 7);
    expect_error(client, R"({"type":"ping","id":"p","extra":1})", "bad_field", "p");
    expect_error(client, R"({"type":"subscribe","id":"s","series":["load.*"],"colour":"red"})", "bad_field", "s");
    expect_error(client, R"({"type":"ping","id":{"nested":1}})", "bad_field");
    expect_alive(client);
  }
  {
    SCOPED_TRACE("field values");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello());
    expect_error(client, R"({"type":"subscribe","id":1,"batch":{"max_samples":0}})", "bad_field", 1);
    expect_error(client, R"({"type":"subscribe","id":2,"batch":{"max_samples":1001}})", "bad_field", 2);
    expect_error(client, R"({"type":"subscribe","id":3,"batch":{"max_delay_ms":60001}})", "bad_field", 3);
    expect_error(client, R"({"type":"subscribe","id":4,"batch":{"max_sample":5}})", "bad_field", 4);
    expect_error(client, R"({"type":"subscribe","id":5,"format":"xml"})", "bad_field", 5);
    expect_error(client, R"({"type":"subscribe","id":6,"every":0})", "bad_field", 6);
    expect_error(client, R"({"type":"subscribe","id":7,"series":["cpu.bussy_pct"]})", "unknown_series", 7);
    expect_error(client, R"({"type":"history","id":8})", "bad_field", 8);
    expect_alive(client);
  }
  {
    SCOPED_TRACE("subscriptions");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello());
    json first = subscribe(client, {{"id", "a"}, {"series", {"load.*"}}});
    expect_error(client, R"({"type":"subscribe","id":"b","series":["load.*"]})", "duplicate_subscription", "b");
    json second = subscribe(client, {{"id", "c"}, {"series", {"mem.*"}}});
    EXPECT_NE(sub_of(first), sub_of(second));
    expect_error(client, R"({"type":"subscribe","id":"d","series":["swap.*"]})", "too_many_subscriptions", "d");
    ASSERT_TRUE(client.send_binary(R"({"type":"ping","id":"bin"})"));
    auto reply = client.read_until([](const WsMessage& m) { return m.is("error") || m.is("pong"); }, 5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body.value("code", ""), "binary_not_accepted") << reply->body.dump();
    expect_alive(client);
    // The subscriptions survived all that.
    EXPECT_GE(read_samples(client, sub_of(second), 2, 5s).size(), 2u);
  }
  // 16 of those errors come from the session; unknown_series,
  // duplicate_subscription and too_many_subscriptions come from the hub and
  // are not counted (see HubErrorsCountTowardMaxErrors).
  EXPECT_GE(agent.stream_counter("protocol_errors"), 16u);
  EXPECT_EQ(agent.closes("1008"), 0u);
}

TEST(Stream, HubErrorsCountTowardMaxErrors) {
  // docs/protocol.md: "After more than max_errors errors the connection is
  // closed with 1008" -- for every error code in the table.
  START_AGENT(agent, with_config("[stream]\nmax_errors = 3\n"));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(client.send_json({{"type", "subscribe"}, {"id", i}, {"series", {"no.such.series"}}}));
  }
  std::vector<WsMessage> received;
  ASSERT_TRUE(client.send_json({{"type", "ping"}, {"id", "after"}}));
  auto reply = client.read_until([](const WsMessage& m) { return m.is("pong"); }, 3s, &received);
  std::erase_if(received, [](const WsMessage& m) { return !m.is("error"); });
  EXPECT_FALSE(received.empty());
  for (const WsMessage& m : received) EXPECT_EQ(m.body.value("code", ""), "unknown_series") << m.data;
  EXPECT_FALSE(reply) << "6 hub errors (unknown_series) with max_errors = 3 and the connection is still open";
  EXPECT_EQ(client.close_code(), 1008);
  EXPECT_GE(agent.stream_counter("protocol_errors"), 4u) << "hub errors count in health stream.protocol_errors";
}

TEST(Stream, RateLimitedRequestsAreIgnored) {
  START_AGENT(agent, with_config(kStrictConfig));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client.send_json({{"type", "ping"}, {"id", i}}));
  std::size_t pongs = 0, limited = 0;
  // Other message types (e.g. "alerts") may come too: clients ignore what they do not know.
  const auto is_reply = [](const WsMessage& m) { return m.is("pong") || m.is("error"); };
  const auto replies = read_while(
      client,
      [&](const std::vector<WsMessage>& so_far) {
        return static_cast<std::size_t>(std::count_if(so_far.begin(), so_far.end(), is_reply)) >= 30;
      },
      5s);
  for (const WsMessage& m : replies) {
    if (m.is("pong")) ++pongs;
    if (m.is("error")) {
      EXPECT_EQ(m.body.value("code", ""), "rate_limited") << m.body.dump();
      ++limited;
    }
  }
  std::cout << "[ measure  ] 30 pings at 5/s (burst 10): " << pongs << " pongs, " << limited << " rate_limited\n";
  EXPECT_EQ(pongs + limited, 30u);
  EXPECT_GE(pongs, 10u) << "a burst of twice the rate is allowed";
  EXPECT_LE(pongs, 13u);
  std::this_thread::sleep_for(1s);  // tokens come back
  expect_alive(client);
}

TEST(Stream, RepeatedAbuseClosesWith1008) {
  START_AGENT(agent, with_config(kStrictConfig));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client.send_text("not json")) << client.error();
  std::vector<WsMessage> received;
  EXPECT_EQ(client.wait_for_close(5s, &received), 1008) << client.error();
  std::erase_if(received, [](const WsMessage& m) { return !m.is("error"); });
  EXPECT_GE(received.size(), 10u);
  for (const WsMessage& m : received) {
    const std::string code = m.body.value("code", "");
    EXPECT_TRUE(code == "bad_json" || code == "rate_limited") << m.data;
  }
  EXPECT_TRUE(agent.wait_for_stream([](const json& s) { return closes_in(s, "1008") == 1; }, 3s));
}

// The errors that explain a 1008 close reach the client before the close.
TEST(Stream, ErrorsQueuedBeforeA1008CloseAreAllSent) {
  START_AGENT(agent, with_config("[stream]\nmax_messages_per_second = 1000\nmax_errors = 5\n"));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  // Sent at once: several errors are still queued when the 6th decides the close.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.send_text("not json")) << client.error();
  std::vector<WsMessage> received;
  EXPECT_EQ(client.wait_for_close(5s, &received), 1008) << client.error();
  const auto errors = std::count_if(received.begin(), received.end(), [](const WsMessage& m) { return m.is("error"); });
  EXPECT_EQ(errors, 6) << "errors queued before the close were dropped";
}

// A client that sends requests and never reads cannot grow its queue:
// everything queued counts toward max_queue_bytes, history replies that do
// not fit are refused with "busy", and a client that keeps asking is closed.
// Each kind of request, and all of them mixed, at 15 per second (under the
// rate limit) for 4 s.
TEST(Stream, ANeverReadingClientFloodingRequestsStaysBounded) {
  constexpr std::uint64_t kMaxQueueBytes = 64 * 1024;
  START_AGENT(agent, with_config("[stream]\nmax_queue_bytes = 65536\nsocket_send_buffer_bytes = 4096\n"));
  ASSERT_TRUE(agent.wait_for_seq(20, 10s));
  const pid_t pid = agent.process().pid();
  const std::vector<std::string> history = {R"({"type":"history","id":1})"};
  const std::vector<std::string> resubscribe = {R"({"type":"subscribe","id":"a","resume_from":0})",
                                                R"({"type":"unsubscribe","id":"b","sub":1})"};
  const std::vector<std::string> ping = {R"({"type":"ping","id":7})"};
  const std::vector<std::string> mixed = {history[0], resubscribe[0], ping[0], resubscribe[1], "not json"};
  struct Flood {
    const char* name;
    const std::vector<std::string>& requests;
    bool closes;  // whether the queue fills up in 4 s
  };
  for (const Flood& flood : {Flood{"history", history, true}, Flood{"subscribe with resume", resubscribe, true},
                             Flood{"ping", ping, false}, Flood{"mixed", mixed, true}}) {
    SCOPED_TRACE(flood.name);
    const std::uint64_t closes_before = closes_in(agent.stream_health(), "1008") + closes_in(agent.stream_health(), "1013");
    const std::uint64_t rss_before = rss_bytes(pid);
    RawWsClient flooder;
    std::string error;
    ASSERT_TRUE(flooder.connect(agent.port(), 4096, 5s, &error)) << error;
    bool closed = false;
    for (int i = 0; i < 60 && !closed; ++i) {
      closed = !flooder.send_text(flood.requests[static_cast<std::size_t>(i) % flood.requests.size()]);
      std::this_thread::sleep_for(66ms);
    }
    json stream = agent.stream_health();
    // The bound holds: at most the limit plus the frame that found it full.
    EXPECT_LE(counter(stream, "queue_bytes_max"), kMaxQueueBytes + 4096) << stream.dump();
    const std::uint64_t rss_after = rss_bytes(pid);
    EXPECT_LT(rss_after, rss_before + (16u << 20)) << "RSS " << (rss_before >> 10) << " -> " << (rss_after >> 10) << " KiB";
    if (flood.closes) {
      const auto ended = agent.wait_for_stream([](const json& s) { return counter(s, "sessions_active") == 0; }, 10s);
      stream = agent.stream_health();
      EXPECT_TRUE(ended) << "a client that never reads is still connected: " << stream.dump();
      EXPECT_EQ(closes_in(stream, "1008") + closes_in(stream, "1013"), closes_before + 1) << stream.dump();
    }
    flooder.close();
    ASSERT_TRUE(agent.wait_for_stream([](const json& s) { return counter(s, "sessions_active") == 0; }, 10s));
  }
}

// Connections that come and go leave nothing behind: 20,000 cycles of
// connect, subscribe and disconnect (most dropped without a close
// handshake, every 20th a full hello/subscribe/frame/close), with the
// agent's descriptors and RSS flat.
TEST(Stream, TwentyThousandConnectSubscribeDisconnectCyclesLeaveNothingBehind) {
  const int cycles = kSanitized ? 2'000 : 20'000;
  START_AGENT(agent, AgentSetup{});
  const pid_t pid = agent.process().pid();
  const auto open_descriptors = [pid] {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++count;
    return count;
  };
  const auto run_cycles = [&](int count) {
    for (int i = 0; i < count; ++i) {
      if (i % 20 == 0) {
        WsClient client(agent.port());
        ASSERT_TRUE(client.connect_and_hello()) << "cycle " << i << ": " << client.error();
        ASSERT_TRUE(client.request(json{{"type", "subscribe"}, {"id", i}, {"series", {"load.*"}}}, {"subscribed"}));
        client.close();
      } else {
        RawWsClient raw;
        std::string error;
        ASSERT_TRUE(raw.connect(agent.port(), 0, 5s, &error)) << "cycle " << i << ": " << error;
        ASSERT_TRUE(raw.send_text(R"({"type":"subscribe","id":1,"series":["cpu.*"]})"));
      }
    }
  };
  const auto settled = [&] {
    return agent.wait_for_stream(
        [](const json& s) { return counter(s, "sessions_active") == 0 && counter(s, "subscriptions") == 0; }, 10s);
  };
  run_cycles(cycles / 10);  // warm up: allocator arenas, first subscriptions
  ASSERT_TRUE(settled());
  const std::size_t fds_before = open_descriptors();
  const std::uint64_t rss_before = rss_bytes(pid);
  const auto start = Clock::now();
  run_cycles(cycles);
  ASSERT_TRUE(settled()) << agent.stream_health().dump();
  const std::size_t fds_after = open_descriptors();
  const std::uint64_t rss_after = rss_bytes(pid);
  std::cout << "[ measure  ] " << cycles << " cycles in " << since(start).count() << " ms; fds " << fds_before << " -> "
            << fds_after << "; RSS " << (rss_before >> 10) << " -> " << (rss_after >> 10) << " KiB\n";
  EXPECT_LE(fds_after, fds_before + 2);
  // ASan keeps freed memory in quarantine (256 MiB), so RSS means nothing there.
  if (!kSanitized) {
    EXPECT_LT(rss_after, rss_before + (8u << 20));
  }
  EXPECT_GE(agent.stream_counter("sessions_total"), static_cast<std::uint64_t>(cycles + cycles / 10));
}

// DNS rebinding on the stream: a page on evil.example rebinding its name to
// 127.0.0.1 connects with Host and Origin evil.example, which match each
// other; the Host check refuses it.
TEST(Stream, RebindingHostIsClosedWith1008) {
  START_AGENT(agent, with_config("allowed_hosts = [\"metrics.example.com\"]\n"));
  const std::string port = std::to_string(agent.port());
  {
    WsClient client(agent.port());
    WsConnectOptions options = with_header("Origin", "http://evil.example:" + port);
    options.host = "evil.example:" + port;
    ASSERT_TRUE(client.connect(options)) << client.error();
    EXPECT_EQ(client.wait_for_close(5s), 1008);
  }
  WsClient listed(agent.port());
  WsConnectOptions options = with_header("Origin", "http://metrics.example.com:" + port);
  options.host = "metrics.example.com:" + port;
  EXPECT_TRUE(listed.connect_and_hello(options));
}

TEST(Stream, OversizedMessageClosesWith1009) {
  START_AGENT(agent, AgentSetup{});
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect_and_hello());
  const std::string big = R"({"type":"ping","id":")" + std::string(70 * 1024, 'x') + R"("})";
  ASSERT_TRUE(client.send_text(big)) << client.error();
  EXPECT_EQ(client.wait_for_close(5s), 1009) << client.error();
  EXPECT_TRUE(agent.wait_for_stream([](const json& s) { return closes_in(s, "1009") == 1; }, 3s));
  // Just under the limit is fine (and answered with a bad_field: the id is too long).
  WsClient other(agent.port());
  ASSERT_TRUE(other.connect_and_hello());
  expect_error(other, R"({"type":"ping","id":")" + std::string(60 * 1024, 'x') + R"("})", "bad_field");
}

// ===========================================================================
// authentication and origins

constexpr std::string_view kToken = "0123456789abcdefghijklmnopqrstuv";  // 32 characters

TEST(Stream, TokenAuthentication) {
  AgentSetup setup = with_config("token_file = \"@DIR@/token\"\n");
  setup.bearer = std::string(kToken);
  setup.files = {{"token", std::string(kToken) + "\n"}};
  START_AGENT(agent, setup);
  EXPECT_TRUE(contains(agent.process().output(), "token required"));
  const std::string bearer = "Bearer " + std::string(kToken);

  {
    SCOPED_TRACE("no token: 4001 right after the handshake");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect()) << client.error();
    std::vector<WsMessage> received;
    EXPECT_EQ(client.wait_for_close(5s, &received), 4001) << client.error();
    EXPECT_TRUE(received.empty()) << "no hello for the unauthorized";
  }
  {
    SCOPED_TRACE("wrong token: 4001");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect(with_header("Authorization", "Bearer " + std::string(kToken.size(), 'z'))));
    EXPECT_EQ(client.wait_for_close(5s), 4001);
  }
  {
    SCOPED_TRACE("the token in the URL is not accepted");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect(with_target("/api/v1/stream?token=" + std::string(kToken))));
    EXPECT_EQ(client.wait_for_close(5s), 4001);
  }
  {
    SCOPED_TRACE("Authorization: Bearer");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello(with_header("Authorization", bearer)));
    expect_alive(client);
  }
  {
    SCOPED_TRACE("subprotocols hostpulse.v1, bearer.<token>");
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello(
        with_header("Sec-WebSocket-Protocol", "hostpulse.v1, bearer." + std::string(kToken))));
    EXPECT_EQ(client.response_header("Sec-WebSocket-Protocol"), "hostpulse.v1") << "the server selects hostpulse.v1";
    expect_alive(client);
  }
  {
    SCOPED_TRACE("REST: 401 without the token, 200 with it");
    httplib::Client http("127.0.0.1", agent.port());
    http.set_connection_timeout(3, 0);
    http.set_read_timeout(5, 0);
    for (const std::string path : {"/api/v1/info", "/api/v1/health", "/api/v1/snapshot"}) {
      const auto result = http.Get(path);
      ASSERT_TRUE(result);
      EXPECT_EQ(result->status, 401) << path;
      EXPECT_FALSE(result->get_header_value("WWW-Authenticate").empty());
    }
    const auto ok = http.Get("/api/v1/info", httplib::Headers{{"Authorization", bearer}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  }
  {
    SCOPED_TRACE("the login cookie");
    httplib::Client http("127.0.0.1", agent.port());
    http.set_connection_timeout(3, 0);
    http.set_read_timeout(5, 0);
    const auto wrong = http.Post("/api/v1/login", R"({"token":"not-the-token-at-all!"})", "application/json");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    const auto login =
        http.Post("/api/v1/login", json{{"token", std::string(kToken)}}.dump(), "application/json");
    ASSERT_TRUE(login);
    ASSERT_EQ(login->status, 200) << login->body;
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    ASSERT_EQ(set_cookie.rfind("hostpulse_session=", 0), 0u) << set_cookie;
    EXPECT_TRUE(contains(set_cookie, "HttpOnly"));
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello(with_header("Cookie", "theme=dark; " + cookie)));
    expect_alive(client);
    WsClient forged(agent.port());
    ASSERT_TRUE(forged.connect(with_header("Cookie", "hostpulse_session=" + std::string(64, '0'))));
    EXPECT_EQ(forged.wait_for_close(5s), 4001);
  }
  EXPECT_GE(agent.closes("4001"), 4u);
}

TEST(Stream, OriginMustBeTheAgentsOwn) {
  START_AGENT(agent, AgentSetup{});
  const std::string own = "http://127.0.0.1:" + std::to_string(agent.port());
  {
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect(with_header("Origin", "http://evil.example.com")));
    std::vector<WsMessage> received;
    EXPECT_EQ(client.wait_for_close(5s, &received), 1008);
    EXPECT_TRUE(received.empty());
  }
  {
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect(with_header("Origin", "http://127.0.0.1:1")));
    EXPECT_EQ(client.wait_for_close(5s), 1008) << "another port is another origin";
  }
  {
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello(with_header("Origin", own)));
    expect_alive(client);
  }
  EXPECT_EQ(agent.closes("1008"), 2u);
}

TEST(Stream, AllowedOriginsAreHonoured) {
  START_AGENT(agent, with_config("allowed_origins = [\"https://ops.example.com\"]\n"));
  {
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello(with_header("Origin", "https://ops.example.com")));
    expect_alive(client);
  }
  {
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect(with_header("Origin", "https://evil.example.com")));
    EXPECT_EQ(client.wait_for_close(5s), 1008);
  }
  {
    // Programs send no Origin and are not affected.
    WsClient client(agent.port());
    ASSERT_TRUE(client.connect_and_hello());
  }
}

TEST(Stream, AllowedOriginsKeepTheAgentsOwnOrigin) {
  // docs/configuration.md: allowed_origins are origins "besides the agent's
  // own": the dashboard the agent serves must keep working.
  START_AGENT(agent, with_config("allowed_origins = [\"https://ops.example.com\"]\n"));
  WsClient client(agent.port());
  ASSERT_TRUE(client.connect(with_header("Origin", "http://127.0.0.1:" + std::to_string(agent.port()))));
  auto first = client.read(5s);
  ASSERT_TRUE(first) << "the agent's own origin was refused (close code " << client.close_code().value_or(0)
                     << "): its own dashboard could not open the stream";
  EXPECT_TRUE(first->is("hello"));
}

TEST(Stream, NonLoopbackBindNeedsTokenOrExplicitFlag) {
  TempDir dir;
  const std::string procfs = dir.file("proc");
  std::filesystem::copy(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu", procfs,
                        std::filesystem::copy_options::recursive);
  const RunResult refused =
      run_to_completion({"--listen", "0.0.0.0:0", "--interval", "100", "--procfs", procfs}, 10s);
  ASSERT_TRUE(refused.exit_code) << "the agent kept running on 0.0.0.0 without a token";
  EXPECT_EQ(*refused.exit_code, 1);
  const std::string said = refused.out + refused.err;
  EXPECT_TRUE(contains(said, "no token_file is set")) << said;
  EXPECT_TRUE(contains(said, "--allow-unauthenticated")) << said;
  EXPECT_FALSE(contains(said, "listening on")) << said;

  // With the flag it starts (and is stopped at once; nobody connects).
  AgentProcess agent({"--listen", "0.0.0.0:0", "--interval", "100", "--procfs", procfs, "--allow-unauthenticated"});
  ASSERT_TRUE(agent.wait_until_listening(10s)) << agent.output();
  EXPECT_TRUE(agent.wait_for_output("without a token", 2s)) << agent.output();
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(5s), 0) << agent.output();
}

TEST(Stream, SigtermRightAfterStartIsACleanShutdown) {
  // A service manager may stop the agent the moment it is up.
  TempDir dir;
  const std::string procfs = dir.file("proc");
  std::filesystem::copy(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu", procfs,
                        std::filesystem::copy_options::recursive);
  int killed = 0;
  constexpr int kRuns = 5;
  for (int run = 0; run < kRuns; ++run) {
    AgentProcess agent({"--listen", "127.0.0.1:0", "--interval", "100", "--procfs", procfs});
    ASSERT_TRUE(agent.wait_until_listening(10s)) << agent.output();
    agent.signal(SIGTERM);
    const auto code = agent.wait_exit(5s);
    ASSERT_TRUE(code) << "still running 5 s after SIGTERM";
    if (*code == 128 + SIGTERM) {
      ++killed;
    } else {
      EXPECT_EQ(*code, 0) << agent.output();
    }
  }
  EXPECT_EQ(killed, 0) << "SIGTERM right after \"listening on\" killed the agent with the default action (exit "
                          "143: signal handlers not yet installed) in "
                       << killed << " of " << kRuns << " runs";
}

// ===========================================================================
// flow control

// Reads frames on its own thread until stopped, recording every samples frame.
class BackgroundReader {
 public:
  BackgroundReader(WsClient& client, std::uint32_t sub) : client_(client), sub_(sub) {
    thread_ = std::thread([this] { run(); });
  }
  ~BackgroundReader() { stop(); }
  BackgroundReader(const BackgroundReader&) = delete;
  BackgroundReader& operator=(const BackgroundReader&) = delete;

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Samples> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  [[nodiscard]] std::string failure() {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  void run() {
    while (!stopping_) {
      auto message = client_.read(5s);
      if (!message) {
        std::lock_guard lock(mutex_);
        failure_ = "reader: " + client_.error() + " close " + std::to_string(client_.close_code().value_or(0));
        return;
      }
      if (!message->is("samples") || message->body.value("sub", 0u) != sub_) continue;
      // Shape checks happen on the main thread (gtest assertions are fine
      // from threads, but keep this loop lean).
      Samples s;
      s.seq_first = message->body["seq_first"].get<std::uint64_t>();
      s.seq_last = message->body["seq_last"].get<std::uint64_t>();
      for (const json& t : message->body["t"]) s.t.push_back(t.get<std::int64_t>());
      s.arrived_wall_ms = to_ms(message->arrived_wall);
      s.arrived = message->arrived;
      std::lock_guard lock(mutex_);
      frames_.push_back(std::move(s));
    }
  }

  WsClient& client_;
  std::uint32_t sub_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<Samples> frames_;
  std::string failure_;
  std::thread thread_;
};

TEST(Stream, StalledClientIsClosedWith1013WhileOthersKeepUp) {
  START_AGENT(agent, with_config("[stream]\nsocket_send_buffer_bytes = 4096\nmax_lag_bytes = 65536\n", "linux6_256cpu"));
  WsClient reader(agent.port());
  ASSERT_TRUE(reader.connect_and_hello(slow_reader()));  // a 200 KB hello
  json all = subscribe(reader, {{"id", "all"}});
  ASSERT_GT(all["series"].size(), 2800u);
  BackgroundReader background(reader, sub_of(all));

  WsClient stalled(agent.port());
  ASSERT_TRUE(stalled.connect_and_hello(slow_reader(4096)));
  json stalled_sub = subscribe(stalled, {{"id", "all"}});
  EXPECT_EQ(sub_of(stalled_sub), sub_of(all)) << "identical settings share one group";
  // ...and now it never reads again.
  const auto stalled_at = Clock::now();
  const auto closed_after = agent.wait_for_stream(
      [](const json& s) { return closes_in(s, "1013") >= 1; }, 15s, 100ms);
  std::this_thread::sleep_for(1s);  // the reader keeps going after the close too
  background.stop();
  const auto covered = since(stalled_at);
  ASSERT_TRUE(closed_after) << "the stalled client was not closed with 1013 within 15 s";
  EXPECT_TRUE(background.failure().empty()) << background.failure();

  const auto frames = background.frames();
  std::vector<std::uint64_t> seqs;
  std::int64_t max_delay = 0;
  double total_delay = 0;
  for (const Samples& s : frames) {
    seqs.push_back(s.seq_first);
    EXPECT_EQ(s.seq_first, s.seq_last);
    const std::int64_t delay = s.arrived_wall_ms - s.t.back();
    max_delay = std::max(max_delay, delay);
    total_delay += static_cast<double>(delay);
  }
  // A reading client keeps up; on a loaded CI machine (sanitizers, parallel
  // builds) it may itself be briefly slow and lose a frame to "newest wins",
  // so a couple of missing seqs are tolerated, a stream of them is not.
  std::uint64_t missing = 0;
  for (std::size_t i = 1; i < seqs.size(); ++i) missing += seqs[i] > seqs[i - 1] + 1 ? seqs[i] - seqs[i - 1] - 1 : 0;
  EXPECT_LE(missing, 2u) << "the reading client lost frames";
  EXPECT_GE(static_cast<double>(frames.size()), 0.7 * static_cast<double>(covered.count()) / 100.0)
      << "frames of the reading client over " << covered.count() << " ms";
  EXPECT_LT(max_delay, 500 * kSlack) << "a stalled client delayed another one";
  std::cout << "[ measure  ] stalled client closed with 1013 after " << closed_after->count()
            << " ms; reader got " << frames.size() << " frames in " << covered.count()
            << " ms, " << missing << " missing seqs, delay mean " << (frames.empty() ? 0.0 : total_delay / static_cast<double>(frames.size()))
            << " ms max " << max_delay << " ms\n";
  const json s = agent.stream_health();
  EXPECT_GT(counter(s, "frames_dropped"), 0u);
  EXPECT_TRUE(agent.wait_for_stream([](const json& h) { return counter(h, "sessions_active") == 1; }, 5s))
      << "the stalled session is still there";
}

TEST(Stream, SlowClientSeesGapsButStaysConnected) {
  START_AGENT(agent, with_config("[stream]\nsocket_send_buffer_bytes = 4096\n", "linux6_64cpu"));
  WsClient slow(agent.port());
  ASSERT_TRUE(slow.connect_and_hello(slow_reader(4096)));
  json subscribed = subscribe(slow, {});
  std::vector<Samples> frames;
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(1s);
    auto message = slow.read_until(
        [&](const WsMessage& m) { return m.is("samples") && m.body.value("sub", 0u) == sub_of(subscribed); }, 5s);
    ASSERT_TRUE(message) << slow.error() << " close " << slow.close_code().value_or(0);
    auto samples = as_samples(*message);
    ASSERT_TRUE(samples);
    frames.push_back(std::move(*samples));
  }
  bool gap = false;
  for (std::size_t f = 1; f < frames.size(); ++f) {
    EXPECT_GT(frames[f].seq_first, frames[f - 1].seq_last);
    gap = gap || frames[f].seq_first > frames[f - 1].seq_last + 1;
  }
  EXPECT_TRUE(gap) << "a client reading once a second should miss frames";
  const json s = agent.stream_health();
  EXPECT_GT(counter(s, "frames_dropped"), 0u);
  EXPECT_EQ(closes_in(s, "1013"), 0u);
  // Still connected: everything queued arrives, then the pong.
  expect_alive(slow);
  std::cout << "[ measure  ] slow client: seqs";
  for (const Samples& f : frames) std::cout << ' ' << f.seq_first;
  std::cout << ", frames_dropped " << counter(s, "frames_dropped") << "\n";
}

TEST(Stream, ManyStalledClientsUseBoundedMemory) {
  // The issue asks about 1,000 stalled clients: that many connect and sit
  // for 3 s well within this test's budget here, so use 1,000.
  constexpr std::size_t kClients = 1000;
  constexpr std::uint64_t kMaxQueueBytes = 64 * 1024;
  // A small SO_SNDBUF so the stalled clients' frames wait in the agent's
  // own (bounded) queues rather than in the kernel.
  START_AGENT(agent, with_config("[http]\nmax_connections = 5000\n"
                                 "[stream]\nmax_connections_per_ip = 5000\nmax_queue_bytes = 65536\n"
                                 "socket_send_buffer_bytes = 4096\n"));
  // Warm up (first connection, first subscription), then measure.
  {
    WsClient warm(agent.port());
    ASSERT_TRUE(warm.connect_and_hello());
    ASSERT_EQ(read_samples(warm, sub_of(subscribe(warm, {})), 2, 5s).size(), 2u);
    warm.close();
  }
  ASSERT_TRUE(agent.wait_for_stream([](const json& s) { return counter(s, "sessions_active") == 0; }, 5s));
  const pid_t pid = agent.process().pid();
  const std::uint64_t rss_before = rss_bytes(pid);

  WsClient reader(agent.port());
  ASSERT_TRUE(reader.connect_and_hello());
  json reader_sub = subscribe(reader, {{"series", {"load.1m"}}});
  BackgroundReader background(reader, sub_of(reader_sub));

  const auto connect_start = Clock::now();
  std::vector<RawWsClient> clients(kClients);
  for (std::size_t i = 0; i < kClients; ++i) {
    std::string error;
    ASSERT_TRUE(clients[i].connect(agent.port(), 4096, 5s, &error)) << "client " << i << ": " << error;
    ASSERT_TRUE(clients[i].send_text(R"({"type":"subscribe","id":1})")) << "client " << i;
  }
  const auto connect_time = since(connect_start);
  ASSERT_TRUE(agent.wait_for_stream(
      [&](const json& s) { return counter(s, "sessions_active") == kClients + 1 && counter(s, "subscriptions") == kClients + 1; }, 10s))
      << agent.stream_health().dump();

  std::uint64_t rss_peak = 0, queue_peak = 0;
  const auto hold_start = Clock::now();
  while (since(hold_start) < 3s) {
    rss_peak = std::max(rss_peak, rss_bytes(pid));
    const json s = agent.stream_health();
    queue_peak = std::max(queue_peak, counter(s, "queue_bytes"));
    EXPECT_EQ(counter(s, "sessions_active"), kClients + 1);
    std::this_thread::sleep_for(250ms);
  }
  const auto cleanup_start = Clock::now();
  clients.clear();  // close every socket
  const auto gone = agent.wait_for_stream([](const json& s) { return counter(s, "sessions_active") == 1; }, 10s);
  background.stop();
  EXPECT_TRUE(gone) << "stalled sessions not cleaned up: " << agent.stream_health().dump();
  EXPECT_TRUE(agent.wait_for_stream([](const json& s) { return counter(s, "subscriptions") == 1; }, 5s));

  const std::uint64_t growth = rss_peak > rss_before ? rss_peak - rss_before : 0;
  const std::uint64_t bound = (kSanitized ? 256u : 64u) << 20;
  EXPECT_LT(growth, bound) << "RSS grew by " << (growth >> 20) << " MiB";
  EXPECT_LT(queue_peak, kClients * kMaxQueueBytes);
  EXPECT_TRUE(background.failure().empty()) << background.failure();
  const auto frames = background.frames();
  std::vector<std::uint64_t> seqs;
  for (const Samples& s : frames) seqs.push_back(s.seq_first);
  EXPECT_TRUE(consecutive(seqs)) << "the reading client lost frames among the stalled ones";
  EXPECT_GE(frames.size(), 25u);
  std::cout << "[ measure  ] " << kClients << " stalled clients connected in " << connect_time.count()
            << " ms; RSS " << (rss_before >> 10) << " KiB -> peak " << (rss_peak >> 10) << " KiB (+"
            << (growth >> 10) << " KiB, " << (growth / kClients) << " B/client); queue_bytes peak " << queue_peak
            << "; cleaned up in " << (gone ? gone->count() : -1) << " ms (" << since(cleanup_start).count()
            << " ms)\n";
}

// ===========================================================================
// liveness, shutdown

TEST(Stream, SilentPeerIsDroppedByLivenessPings) {
  START_AGENT(agent, with_config("[stream]\nping_interval = \"300ms\"\n"));
  // A client that answers pings (Beast does while reading) stays.
  WsClient alive(agent.port());
  ASSERT_TRUE(alive.connect_and_hello());
  json sub = subscribe(alive, {{"series", "load.1m"}});
  BackgroundReader background(alive, sub_of(sub));

  RawWsClient silent;
  std::string error;
  const auto connected_at = Clock::now();
  ASSERT_TRUE(silent.connect(agent.port(), 0, 5s, &error)) << error;
  ASSERT_TRUE(agent.wait_for_stream([](const json& s) { return counter(s, "sessions_active") == 2; }, 2s));
  const auto dropped = agent.wait_for_stream(
      [](const json& s) { return counter(s, "sessions_active") == 1 && closes_in(s, "1006") == 1; }, 3s, 20ms);
  const auto elapsed = since(connected_at);
  ASSERT_TRUE(dropped) << agent.stream_health().dump();
  EXPECT_LT(elapsed, 2s) << "two ping intervals (600 ms) plus slack";
  EXPECT_GE(elapsed, 500ms) << "dropped before it had a chance to answer a ping";
  std::this_thread::sleep_for(700ms);  // longer than two intervals for the live one
  background.stop();
  EXPECT_TRUE(background.failure().empty()) << background.failure();
  EXPECT_TRUE(alive.open());
  expect_alive(alive);
  EXPECT_EQ(agent.stream_counter("sessions_active"), 1u);
  std::cout << "[ measure  ] silent peer dropped " << elapsed.count() << " ms after connecting (ping_interval 300 ms)\n";
}

TEST(Stream, SigtermClosesEveryClientWith1001AfterAFinalFlush) {
  START_AGENT(agent, AgentSetup{});
  WsClient live(agent.port());
  ASSERT_TRUE(live.connect_and_hello());
  json live_sub = subscribe(live, {{"series", {"load.*"}}});
  WsClient batched(agent.port());
  ASSERT_TRUE(batched.connect_and_hello());
  json batched_sub = subscribe(
      batched, {{"series", {"mem.*"}}, {"format", "msgpack"}, {"batch", {{"max_samples", 1000}, {"max_delay_ms", 60000}}}});
  ASSERT_GE(read_samples(live, sub_of(live_sub), 3, 5s).size(), 3u);
  std::this_thread::sleep_for(500ms);  // the batched subscription collects ~5 points

  std::vector<WsMessage> live_tail, batched_tail;
  std::optional<std::uint16_t> live_code, batched_code;
  std::thread live_thread([&] { live_code = live.wait_for_close(5s, &live_tail); });
  std::thread batched_thread([&] { batched_code = batched.wait_for_close(5s, &batched_tail); });
  const auto signalled = Clock::now();
  agent.process().signal(SIGTERM);
  const auto exit_code = agent.process().wait_exit(5s);
  const auto exit_time = since(signalled);
  live_thread.join();
  batched_thread.join();

  EXPECT_EQ(live_code, 1001) << live.error();
  EXPECT_EQ(batched_code, 1001) << batched.error();
  ASSERT_TRUE(exit_code) << "the agent did not exit";
  EXPECT_EQ(*exit_code, 0) << agent.process().output();
  EXPECT_LT(exit_time, std::chrono::milliseconds(1000 * kSlack));
  EXPECT_TRUE(contains(agent.process().output(), "received SIGTERM"));

  // The batch waiting for its 60 s delay was flushed before the close.
  const auto flushed = samples_of(batched_tail, sub_of(batched_sub));
  ASSERT_EQ(flushed.size(), 1u) << "the pending batch must be sent before 1001";
  EXPECT_TRUE(flushed.front().binary);
  EXPECT_EQ(flushed.front().seq_first, seq_of(batched_sub) + 1);
  EXPECT_GE(flushed.front().t.size(), 4u);
  EXPECT_TRUE(consecutive(point_seqs(flushed)));
  EXPECT_TRUE(consecutive(point_seqs(samples_of(live_tail, sub_of(live_sub)))));
  std::cout << "[ measure  ] SIGTERM -> exit 0 in " << exit_time.count() << " ms; final batch of "
            << flushed.front().t.size() << " points before 1001\n";
}

// ===========================================================================
// Series that come and go: a CPU comes online and another goes offline in
// the agent's procfs while it runs.

// Rewrites the stat file of the agent's procfs with the CPU lines `cpus`
// (copies of cpu0's line, renamed), as the kernel shows CPUs coming and going.
void set_online_cpus(const StreamAgent& agent, const std::vector<int>& cpus, std::uint64_t bump) {
  const std::string path = agent.dir().file("proc") + "/stat";
  std::ifstream in(std::string(HOSTPULSE_FIXTURES_DIR) + "/proc/linux6_2cpu/stat");
  std::vector<std::string> lines;
  std::string cpu0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpu0 ", 0) == 0) cpu0 = line.substr(5);
    lines.push_back(line);
  }
  std::string out;
  for (const std::string& line : lines) {
    if (line.rfind("cpu", 0) == 0 && line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) continue;
    if (line.rfind("cpu ", 0) == 0) {
      // Busy time moves on, so CPU shares have values.
      std::istringstream fields(line.substr(4));
      std::uint64_t user = 0;
      fields >> user;
      std::string rest;
      std::getline(fields, rest);
      out += "cpu  " + std::to_string(user + bump) + rest + "\n";
      for (const int cpu : cpus) {
        std::istringstream own(cpu0);
        std::uint64_t own_user = 0;
        own >> own_user;
        std::string own_rest;
        std::getline(own, own_rest);
        out += "cpu" + std::to_string(cpu) + " " + std::to_string(own_user + bump) + own_rest + "\n";
      }
      continue;
    }
    out += line + "\n";
  }
  write_file_atomically(path, out);
}

std::set<std::string> names_of(const std::map<std::uint32_t, std::string>& names, const std::vector<std::uint32_t>& ids) {
  std::set<std::string> out;
  for (const std::uint32_t id : ids) out.insert(names.count(id) ? names.at(id) : "#" + std::to_string(id));
  return out;
}

TEST(Stream, AGlobSubscriptionFollowsCpusThatComeAndGoWithSchemaMessagesAndNoGap) {
  START_AGENT(agent, with_config("[series]\nretire_after = \"1s\"\n"));
  set_online_cpus(agent, {0, 1}, 1);
  WsClient client(agent.port());
  auto hello = client.connect_and_hello();
  ASSERT_TRUE(hello);
  std::map<std::uint32_t, std::string> names;
  for (const json& s : series_of(*hello)) names[s["id"].get<std::uint32_t>()] = s["name"].get<std::string>();
  json subscribed = subscribe(client, {{"id", "cores"}, {"series", {"cpu.*.busy_pct"}}});
  EXPECT_EQ(names_of(names, subscribed["series"].get<std::vector<std::uint32_t>>()),
            (std::set<std::string>{"cpu.0.busy_pct", "cpu.1.busy_pct"}));

  // cpu2 comes online; then cpu1 goes offline for longer than retire_after.
  std::vector<WsMessage> messages = read_for(client, 500ms);
  set_online_cpus(agent, {0, 1, 2}, 2);
  auto more = read_for(client, 800ms);
  messages.insert(messages.end(), more.begin(), more.end());
  set_online_cpus(agent, {0, 2}, 3);
  more = read_for(client, 2500ms);
  messages.insert(messages.end(), more.begin(), more.end());

  // Schema messages name what changed, each before the first frame using it.
  std::set<std::uint32_t> announced;
  for (const auto& [id, name] : names) announced.insert(id);
  std::set<std::uint32_t> retired;
  bool saw_cpu2 = false;
  bool saw_cpu1_retired = false;
  std::vector<Samples> frames;
  for (const WsMessage& m : messages) {
    if (m.is("schema")) {
      EXPECT_GT(m.body["version"].get<std::uint64_t>(), (*hello)["schema_version"].get<std::uint64_t>());
      for (const json& family : m.body["added"]) {
        for (const json& s : family["series"]) {
          announced.insert(s["id"].get<std::uint32_t>());
          names[s["id"].get<std::uint32_t>()] = s["name"].get<std::string>();
          saw_cpu2 = saw_cpu2 || s["name"] == "cpu.2.busy_pct";
        }
      }
      for (const json& id : m.body["retired"]) {
        retired.insert(id.get<std::uint32_t>());
        saw_cpu1_retired = saw_cpu1_retired || names[id.get<std::uint32_t>()] == "cpu.1.busy_pct";
      }
    }
    if (auto s = as_samples(m); s && s->sub == sub_of(subscribed)) {
      for (const std::uint32_t id : s->series) {
        EXPECT_TRUE(announced.count(id)) << "frame " << s->seq_first << " uses id " << id << " before a schema message";
        EXPECT_FALSE(retired.count(id)) << "frame " << s->seq_first << " still carries retired id " << id;
      }
      frames.push_back(std::move(*s));
    }
  }
  EXPECT_TRUE(saw_cpu2) << "no schema message added cpu.2";
  EXPECT_TRUE(saw_cpu1_retired) << "no schema message retired cpu.1";
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(names_of(names, frames.back().series), (std::set<std::string>{"cpu.0.busy_pct", "cpu.2.busy_pct"}));
  bool had_three = false;
  for (const Samples& frame : frames) had_three = had_three || frame.series.size() == 3;
  EXPECT_TRUE(had_three) << "the subscription never carried cpu0, cpu1 and cpu2 together";
  EXPECT_TRUE(consecutive(point_seqs(frames))) << "a schema change must not leave a gap";

  // A client resuming from before both changes gets the same columns per
  // point as the one that stayed connected.
  std::map<std::uint64_t, std::vector<std::uint32_t>> live_columns;
  for (const Samples& frame : frames) {
    for (std::size_t k = 0; k < frame.t.size(); ++k) live_columns[frame.seq_first + k] = frame.series;
  }
  WsClient late(agent.port());
  ASSERT_TRUE(late.connect_and_hello());
  const std::uint64_t from = live_columns.begin()->first - 1;
  json resumed = subscribe(late, {{"id", "cores"}, {"series", {"cpu.*.busy_pct"}}, {"resume_from", from}});
  const auto catch_up = read_samples(late, sub_of(resumed), 3, 5s);
  std::size_t compared = 0;
  for (const Samples& frame : catch_up) {
    for (std::size_t k = 0; k < frame.t.size(); ++k) {
      const auto live = live_columns.find(frame.seq_first + k);
      if (live == live_columns.end()) continue;
      EXPECT_EQ(frame.series, live->second) << "point " << frame.seq_first + k;
      ++compared;
    }
  }
  EXPECT_GE(compared, live_columns.size() - 1) << "the catch-up covers what the first client saw";
}

}  // namespace
}  // namespace hostpulse::testing_support
