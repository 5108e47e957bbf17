#pragma once

// Small synchronous WebSocket clients for the stream tests.
//
// WsClient: a Boost.Beast websocket::stream<beast::tcp_stream> driven by its
// own io_context. Every operation runs with a tcp_stream deadline
// (expires_after), so nothing can hang: an operation that does not finish in
// time fails and the connection is then unusable (the test fails anyway).
// While reading, Beast answers the server's WebSocket pings by itself.
//
// RawWsClient: a plain TCP socket that performs the opening handshake and can
// send text frames, and otherwise never reads: the stalled or dead peer of
// the flow-control and liveness tests. Cheap enough to open a thousand.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostpulse::testing_support {

struct WsMessage {
  bool binary = false;
  std::string data;
  // The message decoded: JSON for text frames, MessagePack for binary ones;
  // a discarded value if it does not decode.
  nlohmann::json body;
  std::chrono::system_clock::time_point arrived_wall;
  std::chrono::steady_clock::time_point arrived;

  [[nodiscard]] std::string type() const;
  [[nodiscard]] bool is(std::string_view message_type) const { return type() == message_type; }
};

struct WsConnectOptions {
  std::string target = "/api/v1/stream";
  // The Host header; empty: "127.0.0.1:PORT".
  std::string host;
  // Extra headers on the upgrade request (Authorization, Origin, Cookie,
  // Sec-WebSocket-Protocol, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  // SO_RCVBUF set before connecting (0: the kernel's default).
  int receive_buffer_bytes = 0;
  std::chrono::milliseconds timeout{5000};
};

class WsClient {
 public:
  explicit WsClient(std::uint16_t port);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP connect plus the opening handshake. False (see error()) on failure.
  bool connect(const WsConnectOptions& options = {});
  // Connects and reads the "hello"; nullopt (and a gtest failure) otherwise.
  std::optional<nlohmann::json> connect_and_hello(const WsConnectOptions& options = {});

  [[nodiscard]] const std::string& error() const { return error_; }
  // A header of the handshake response ("" if absent).
  [[nodiscard]] std::string response_header(std::string_view name) const;

  bool send_text(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send_json(const nlohmann::json& message, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send_binary(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The next message; nullopt on timeout, error or close (see closed(),
  // close_code(), error()).
  std::optional<WsMessage> read(std::chrono::milliseconds timeout);
  // Reads until predicate(message) holds and returns that message; the
  // messages read before it go to `skipped` (if given). nullopt on timeout,
  // error or close.
  std::optional<WsMessage> read_until(const std::function<bool(const WsMessage&)>& predicate,
                                      std::chrono::milliseconds timeout, std::vector<WsMessage>* skipped = nullptr);
  // read_until the first message of this type.
  std::optional<nlohmann::json> read_type(std::string_view type, std::chrono::milliseconds timeout,
                                          std::vector<WsMessage>* skipped = nullptr);
  // Sends request and reads until a message whose type is one of `types`
  // (e.g. {"subscribed","error"}) and, if the request has an "id", carries the same id.
  std::optional<nlohmann::json> request(const nlohmann::json& request, std::vector<std::string> types,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                        std::vector<WsMessage>* skipped = nullptr);
  // Reads (collecting messages into `received`) until the server closes the
  // connection: its close code, or nullopt if the connection ended without a
  // close frame or the timeout passed.
  std::optional<std::uint16_t> wait_for_close(std::chrono::milliseconds timeout,
                                              std::vector<WsMessage>* received = nullptr);
  [[nodiscard]] bool open() const;
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] std::optional<std::uint16_t> close_code() const { return close_code_; }

  // A normal close handshake (1000 unless told otherwise).
  void close(std::uint16_t code = 1000, std::chrono::milliseconds timeout = std::chrono::seconds(2));
  // Drops the TCP connection without a close frame.
  void drop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
  std::string error_;
  bool closed_ = false;
  std::optional<std::uint16_t> close_code_;
};

// A client at the socket level: handshake, then only what the test does.
class RawWsClient {
 public:
  RawWsClient() = default;
  ~RawWsClient();
  RawWsClient(RawWsClient&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RawWsClient& operator=(RawWsClient&& other) noexcept;
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  // Connects to 127.0.0.1:port (with SO_RCVBUF if > 0), sends the upgrade
  // request and reads the response head. True on "101 Switching Protocols".
  bool connect(std::uint16_t port, int receive_buffer_bytes, std::chrono::milliseconds timeout,
               std::string* error = nullptr);
  // One masked text frame (what a client must send).
  bool send_text(std::string_view text);
  // Closes the socket (no close frame).
  void close();
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Decodes a frame payload (JSON text or MessagePack binary); discarded if it does not decode.
// Binary samples frames come back in the JSON frame's shape (support/msgpack_samples.hpp).
nlohmann::json decode_frame(bool binary, const std::string& data);

}  // namespace hostpulse::testing_support
