#include "hostpulse/client.hpp"

#include "frame_decoding.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace hostpulse::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

constexpr int kProtocol = 2;
constexpr const char* kSubscribeId = "hostpulse-client";
constexpr std::uint16_t kCloseUnauthorized = 4001;

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::stopped: return "stopped";
    case Outcome::usage: return "usage";
    case Outcome::unauthorized: return "unauthorized";
    case Outcome::refused: return "refused";
    case Outcome::gave_up: return "gave_up";
  }
  return "?";
}

std::string_view state_name(State state) {
  switch (state) {
    case State::connecting: return "connecting";
    case State::connected: return "connected";
    case State::reconnecting: return "reconnecting";
    case State::stopped: return "stopped";
  }
  return "?";
}

bool parse_stream_url(const std::string& url, Endpoint& endpoint, std::string& error) {
  const auto fail = [&](const std::string& why) {
    error = "invalid URL '" + url + "': " + why + " (expected ws://HOST[:PORT][/PATH])";
    return false;
  };
  std::string_view rest = url;
  if (starts_with(rest, "ws://")) {
    rest.remove_prefix(5);
  } else if (starts_with(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (starts_with(rest, "wss://") || starts_with(rest, "https://")) {
    return fail("TLS (wss://, https://) is not supported by this client; connect to the agent directly or through an SSH tunnel");
  } else {
    return fail("the scheme must be ws:// or http://");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail("it contains spaces or control characters");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string target = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) return fail("credentials in the URL are not supported; use a token");
  std::string host, port = "9870";
  if (starts_with(authority, "[")) {  // [::1]:9870
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address");
    host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority[0] != ':') return fail("unexpected text after the IPv6 address");
      port = std::string(authority.substr(1));
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) return fail("no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return fail("the port must be a number from 1 to 65535");
  }
  if (target.empty() || target == "/") target = "/api/v1/stream";
  endpoint = Endpoint{host, port, target};
  error.clear();
  return true;
}

class Client::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {}

  Options options_;
  std::function<void(const Hello&)> on_hello_;
  std::function<void(const Batch&)> on_batch_;
  std::function<void(const json&)> on_alert_;
  std::function<void(const StateChange&)> on_state_;

  Result run();
  void stop() {
    stopping_ = true;
    asio::post(io_, [this] { interrupt(); });
  }

 private:
  // How one connection ended.
  enum class End { retry, fatal, stopped };

  Result validate() const;
  End session(std::string& reason, Result& fatal);
  End handle(json& message, bool binary, std::string& reason, Result& fatal);
  End handle_samples(json& frame, bool binary);
  void interrupt();
  void state(State s, std::string reason = {}, std::chrono::milliseconds retry_in = {}) {
    if (on_state_) on_state_(StateChange{s, std::move(reason), retry_in, failures_});
  }
  std::chrono::milliseconds backoff();

  // Starts an asynchronous operation and runs the io_context until it
  // completes: the code reads sequentially, while stop() (posted to the same
  // io_context) can still cut any wait short.
  template <class Start>
  beast::error_code wait(Start&& start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io_.restart();
    while (!done && io_.run_one() > 0) {
    }
    return result;
  }

  asio::io_context io_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
  std::optional<asio::steady_timer> timer_;
  bool connected_ = false;   // handshake done on the current connection
  bool writing_ = false;     // a write is pending (a close must not overlap it)
  Endpoint endpoint_;
  std::uint32_t failures_ = 0;  // consecutive failed attempts
  std::mt19937_64 random_{std::random_device{}()};

  // Across connections: which agent, and how far we got.
  bool have_hello_ = false;
  std::int64_t started_t_ = 0;
  bool have_seq_ = false;
  std::uint64_t last_seq_ = 0;
  // Current connection.
  bool subscribed_ = false;
  std::unordered_map<std::uint32_t, std::string> names_by_id_;
};

Result Client::Impl::validate() const {
  const auto usage = [](std::string message) { return Result{Outcome::usage, std::move(message)}; };
  Endpoint endpoint;
  std::string error;
  if (!parse_stream_url(options_.url, endpoint, error)) return usage(error);
  if (options_.batch_max_samples < 1 || options_.batch_max_samples > 1000) {
    return usage("batch_max_samples must be 1 to 1000");
  }
  if (options_.batch_max_delay_ms > 60'000) return usage("batch_max_delay_ms must be 0 to 60000");
  if (options_.every < 1 || options_.every > 3600) return usage("every must be 1 to 3600");
  if (options_.series.size() > 256) return usage("at most 256 series patterns");
  for (char c : options_.token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return usage("the token contains spaces or control characters");
  }
  if (options_.backoff_initial.count() <= 0 || options_.backoff_max < options_.backoff_initial) {
    return usage("backoff_initial must be positive and at most backoff_max");
  }
  return Result{};
}

std::chrono::milliseconds Client::Impl::backoff() {
  // Exponential with jitter: a random wait between half and all of
  // initial * 2^(failures-1), capped, so that many clients do not reconnect in step.
  const auto shift = std::min<std::uint32_t>(failures_ > 0 ? failures_ - 1 : 0, 20);
  const auto cap = std::min<std::chrono::milliseconds>(options_.backoff_initial * (std::int64_t{1} << shift),
                                                       options_.backoff_max);
  std::uniform_int_distribution<std::int64_t> half(cap.count() / 2, cap.count());
  return std::chrono::milliseconds(half(random_));
}

void Client::Impl::interrupt() {
  if (timer_) timer_->cancel();
  if (!ws_) return;
  if (connected_ && !writing_) {
    // Say goodbye properly; the pending read then ends with "closed".
    ws_->async_close(websocket::close_code::normal, [](beast::error_code) {});
    connected_ = false;
  } else {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
  }
}

Result Client::Impl::run() {
  if (Result invalid = validate(); !invalid.ok()) return invalid;
  std::string error;
  parse_stream_url(options_.url, endpoint_, error);
  Result fatal;
  while (!stopping_) {
    state(State::connecting);
    std::string reason;
    const End end = session(reason, fatal);
    ws_.reset();
    connected_ = false;
    if (end == End::fatal) {
      state(State::stopped, fatal.message);
      return fatal;
    }
    if (stopping_ || end == End::stopped) break;
    ++failures_;
    if (!options_.reconnect || (options_.max_attempts > 0 && failures_ >= options_.max_attempts)) {
      Result gave_up{Outcome::gave_up, reason};
      if (options_.reconnect) gave_up.message += " (gave up after " + std::to_string(failures_) + " attempts)";
      state(State::stopped, gave_up.message);
      return gave_up;
    }
    const auto delay = backoff();
    state(State::reconnecting, reason, delay);
    timer_.emplace(io_);
    timer_->expires_after(delay);
    wait([&](auto handler) { timer_->async_wait(std::move(handler)); });
    timer_.reset();
  }
  state(State::stopped, "stopped");
  return Result{};
}

Client::Impl::End Client::Impl::session(std::string& reason, Result& fatal) {
  subscribed_ = false;
  names_by_id_.clear();
  const std::string where = endpoint_.host + ":" + endpoint_.port;

  tcp::resolver resolver(io_);
  tcp::resolver::results_type addresses;
  beast::error_code ec = wait([&](auto handler) {
    resolver.async_resolve(endpoint_.host, endpoint_.port,
                           [handler = std::move(handler), &addresses](beast::error_code e, tcp::resolver::results_type r) mutable {
                             addresses = std::move(r);
                             handler(e);
                           });
  });
  if (stopping_) return End::stopped;
  if (ec) {
    reason = "cannot resolve " + endpoint_.host + ": " + ec.message();
    return End::retry;
  }

  ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io_);
  beast::get_lowest_layer(*ws_).expires_after(options_.connect_timeout);
  ec = wait([&](auto handler) {
    beast::get_lowest_layer(*ws_).async_connect(addresses, [handler = std::move(handler)](beast::error_code e, auto) mutable {
      handler(e);
    });
  });
  if (stopping_) return End::stopped;
  if (ec) {
    reason = "cannot connect to " + where + ": " + ec.message();
    return End::retry;
  }

  const std::string token = options_.token;
  ws_->set_option(websocket::stream_base::decorator([token](websocket::request_type& request) {
    request.set(http::field::user_agent, "hostpulse-client");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  }));
  ws_->read_message_max(64 * 1024 * 1024);
  websocket::response_type response;
  const std::string host_header =
      (endpoint_.host.find(':') != std::string::npos ? "[" + endpoint_.host + "]" : endpoint_.host) + ":" + endpoint_.port;
  ec = wait([&](auto handler) { ws_->async_handshake(response, host_header, endpoint_.target, std::move(handler)); });
  if (stopping_) return End::stopped;
  if (ec) {
    const unsigned status = response.result_int();
    if (status == 401 || status == 403) {
      fatal = Result{Outcome::unauthorized, "the agent at " + where + " refused the token (HTTP " + std::to_string(status) + ")"};
      return End::fatal;
    }
    if (status == 404 || status == 400 || status == 426) {
      fatal = Result{Outcome::refused, "no hostpulse stream at " + options_.url + " (HTTP " + std::to_string(status) + ")"};
      return End::fatal;
    }
    reason = "WebSocket handshake with " + where + " failed: " + ec.message() +
             (status != 0 ? " (HTTP " + std::to_string(status) + ")" : "");
    return End::retry;
  }
  beast::get_lowest_layer(*ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options_.connect_timeout;  // also bounds the closing handshake
  timeouts.idle_timeout = options_.liveness_timeout;
  timeouts.keep_alive_pings = true;
  ws_->set_option(timeouts);
  connected_ = true;

  beast::flat_buffer buffer;
  while (true) {
    buffer.clear();
    ec = wait([&](auto handler) { ws_->async_read(buffer, std::move(handler)); });
    if (ec) {
      if (stopping_) return End::stopped;
      if (ec == websocket::error::closed) {
        const auto& close = ws_->reason();
        if (close.code == kCloseUnauthorized) {
          fatal = Result{Outcome::unauthorized, "the agent at " + where + " requires a valid token (close 4001" +
                                                    (close.reason.empty() ? "" : ": " + std::string(close.reason)) + ")"};
          return End::fatal;
        }
        reason = "closed by the agent (code " + std::to_string(close.code) +
                 (close.reason.empty() ? "" : ": " + std::string(close.reason)) + ")";
      } else if (ec == beast::error::timeout) {
        reason = "no answer from the agent for " + std::to_string(options_.liveness_timeout.count()) + " ms";
      } else {
        reason = "connection lost: " + ec.message();
      }
      return End::retry;
    }
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    std::optional<json> message = detail::decode_message(bytes, ws_->got_binary());
    if (!message) {
      reason = "undecodable message from the agent";
      return End::retry;
    }
    End end = End::retry;
    try {
      end = handle(*message, ws_->got_binary(), reason, fatal);
    } catch (const std::exception& e) {  // json type errors, bad shapes
      reason = std::string("malformed message from the agent: ") + e.what();
      return End::retry;
    }
    if (end != End::retry || !reason.empty()) return end;
  }
}

// One message; End::retry with an empty reason means "go on reading".
Client::Impl::End Client::Impl::handle(json& message, bool binary, std::string& reason, Result& fatal) {
  const std::string type = message.value("type", "");
  if (type == "hello") {
    Hello hello = detail::decode_hello(message);
    if (hello.protocol != kProtocol) {
      fatal = Result{Outcome::refused, "the agent speaks stream protocol " + std::to_string(hello.protocol) +
                                           "; this client knows protocol " + std::to_string(kProtocol)};
      return End::fatal;
    }
    for (const SeriesInfo& info : hello.schema) names_by_id_[info.id] = info.name;
    hello.restarted = have_hello_ && hello.started_t != started_t_;
    json subscribe{{"type", "subscribe"},
                   {"id", kSubscribeId},
                   {"format", options_.format == Format::msgpack ? "msgpack" : "json"},
                   {"batch", {{"max_samples", options_.batch_max_samples}, {"max_delay_ms", options_.batch_max_delay_ms}}},
                   {"every", options_.every},
                   {"alerts", options_.alerts}};
    if (!options_.series.empty()) subscribe["series"] = options_.series;
    if (hello.restarted) {
      // A new agent process: its seqs started again. Take everything it kept.
      last_seq_ = 0;
      have_seq_ = true;
    }
    if (have_seq_) subscribe["resume_from"] = last_seq_;
    have_hello_ = true;
    started_t_ = hello.started_t;
    if (on_hello_) on_hello_(hello);
    const std::string text = subscribe.dump();
    writing_ = true;
    const beast::error_code ec = wait([&](auto handler) {
      ws_->text(true);
      ws_->async_write(asio::buffer(text), std::move(handler));
    });
    writing_ = false;
    if (ec) {
      reason = stopping_ ? "stopped" : "connection lost: " + ec.message();
      return stopping_ ? End::stopped : End::retry;
    }
    return End::retry;
  }
  if (type == "schema") {
    // Series that appeared: frames may carry their ids from now on.
    for (const SeriesInfo& info : detail::decode_families(message.at("added"))) names_by_id_[info.id] = info.name;
    return End::retry;
  }
  if (type == "subscribed") {
    subscribed_ = true;
    if (!have_seq_) {
      last_seq_ = detail::decode_subscribed_seq(message);
      have_seq_ = true;
    }
    failures_ = 0;
    state(State::connected);
    return End::retry;
  }
  if (type == "samples") return handle_samples(message, binary);
  if (type == "alert" || type == "alerts") {
    if (on_alert_) on_alert_(message);
    return End::retry;
  }
  if (type == "error" && !subscribed_ && message.value("id", "") == kSubscribeId) {
    fatal = Result{Outcome::refused, "the agent refused the subscription: " + message.value("code", std::string("error")) +
                                         ": " + message.value("message", std::string())};
    return End::fatal;
  }
  return End::retry;  // pong, other replies: nothing to do
}

Client::Impl::End Client::Impl::handle_samples(json& frame, bool binary) {
  Batch batch = detail::decode_samples(frame, binary, names_by_id_);
  const std::uint64_t every = options_.every;
  if (have_seq_ && batch.seq_first > last_seq_ + every) batch.missed = (batch.seq_first - last_seq_) / every - 1;
  if (batch.seq_last > last_seq_ || !have_seq_) last_seq_ = batch.seq_last;
  have_seq_ = true;
  batch.frame = &frame;
  if (on_batch_) on_batch_(batch);
  return End::retry;
}

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

void Client::on_hello(std::function<void(const Hello&)> callback) { impl_->on_hello_ = std::move(callback); }
void Client::on_batch(std::function<void(const Batch&)> callback) { impl_->on_batch_ = std::move(callback); }
void Client::on_alert(std::function<void(const json&)> callback) { impl_->on_alert_ = std::move(callback); }
void Client::on_state(std::function<void(const StateChange&)> callback) { impl_->on_state_ = std::move(callback); }
Result Client::run() { return impl_->run(); }
void Client::stop() { impl_->stop(); }

}  // namespace hostpulse::client
