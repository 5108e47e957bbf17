#include "stream/ws_test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "support/msgpack_samples.hpp"

namespace hostpulse::testing_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json decode_frame(bool binary, const std::string& data) {
  if (binary) {
    json message = json::from_msgpack(data, /*strict=*/true, /*allow_exceptions=*/false);
    if (!message.is_object() || message.value("type", "") != "samples") return message;
    // Protocol 2's columns back to the JSON frame's shape; discarded when
    // they break the contract, so the test that reads it fails.
    try {
      return hostpulse::test::samples_as_json_shape(std::move(message));
    } catch (const std::exception&) {
      return json(json::value_t::discarded);
    }
  }
  return json::parse(data, nullptr, /*allow_exceptions=*/false);
}

std::string WsMessage::type() const {
  if (!body.is_object()) return {};
  const auto it = body.find("type");
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct WsClient::Impl {
  asio::io_context io{1};
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  websocket::response_type response;

  // Starts one asynchronous operation with a deadline and runs the
  // io_context until it completes: a synchronous call that cannot hang.
  template <typename Initiate>
  beast::error_code run(std::chrono::milliseconds timeout, Initiate&& initiate) {
    beast::get_lowest_layer(*ws).expires_after(timeout);
    std::optional<beast::error_code> result;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    while (!result) {
      if (io.run_one() == 0) break;
    }
    return result.value_or(asio::error::operation_aborted);
  }
};

WsClient::WsClient(std::uint16_t port) : impl_(std::make_unique<Impl>()), port_(port) {}

WsClient::~WsClient() { drop(); }

bool WsClient::open() const { return impl_->ws && !closed_ && beast::get_lowest_layer(*impl_->ws).socket().is_open(); }

bool WsClient::connect(const WsConnectOptions& options) {
  Impl& impl = *impl_;
  impl.ws.emplace(impl.io);
  closed_ = false;
  close_code_.reset();
  error_.clear();
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
  beast::error_code ec;
  if (options.receive_buffer_bytes > 0) {
    // Before connect(2): the receive window is negotiated from it.
    auto& socket = beast::get_lowest_layer(*impl.ws).socket();
    socket.open(tcp::v4(), ec);
    if (!ec) socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer_bytes), ec);
    if (ec) {
      error_ = "socket: " + ec.message();
      return false;
    }
  }
  ec = impl.run(options.timeout,
                [&](auto handler) { beast::get_lowest_layer(*impl.ws).async_connect(endpoint, std::move(handler)); });
  if (ec) {
    error_ = "connect: " + ec.message();
    closed_ = true;
    return false;
  }
  const auto headers = options.headers;
  impl.ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
    request.set(http::field::user_agent, "hostpulse-stream-test");
    for (const auto& [name, value] : headers) request.set(name, value);
  }));
  const std::string host = options.host.empty() ? "127.0.0.1:" + std::to_string(port_) : options.host;
  ec = impl.run(options.timeout, [&](auto handler) {
    impl.ws->async_handshake(impl.response, host, options.target, std::move(handler));
  });
  if (ec) {
    error_ = "handshake: " + ec.message() + " (HTTP " + std::to_string(impl.response.result_int()) + ")";
    closed_ = true;
    return false;
  }
  return true;
}

std::optional<json> WsClient::connect_and_hello(const WsConnectOptions& options) {
  if (!connect(options)) {
    ADD_FAILURE() << "cannot connect to the stream: " << error_;
    return std::nullopt;
  }
  auto hello = read_type("hello", options.timeout);
  if (!hello) ADD_FAILURE() << "no hello: " << error_ << " close code " << close_code_.value_or(0);
  return hello;
}

std::string WsClient::response_header(std::string_view name) const {
  const auto it = impl_->response.find(name);
  return it == impl_->response.end() ? std::string() : std::string(it->value());
}

bool WsClient::send_text(std::string_view text, std::chrono::milliseconds timeout) {
  if (!open()) return false;
  impl_->ws->text(true);
  const beast::error_code ec = impl_->run(timeout, [&](auto handler) {
    impl_->ws->async_write(asio::buffer(text.data(), text.size()), std::move(handler));
  });
  if (ec) {
    error_ = "write: " + ec.message();
    closed_ = true;
    return false;
  }
  return true;
}

bool WsClient::send_json(const json& message, std::chrono::milliseconds timeout) {
  return send_text(message.dump(), timeout);
}

bool WsClient::send_binary(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (!open()) return false;
  impl_->ws->binary(true);
  const beast::error_code ec = impl_->run(timeout, [&](auto handler) {
    impl_->ws->async_write(asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  impl_->ws->text(true);
  if (ec) {
    error_ = "write: " + ec.message();
    closed_ = true;
    return false;
  }
  return true;
}

std::optional<WsMessage> WsClient::read(std::chrono::milliseconds timeout) {
  if (!open()) return std::nullopt;
  Impl& impl = *impl_;
  const beast::error_code ec =
      impl.run(timeout, [&](auto handler) { impl.ws->async_read(impl.buffer, std::move(handler)); });
  if (ec) {
    closed_ = true;
    // A close frame was received (even if echoing it failed afterwards: a
    // server that drops the connection right after its close frame makes
    // our echo fail with EPIPE).
    if (impl.ws->reason().code != websocket::close_code::none) {
      close_code_ = static_cast<std::uint16_t>(impl.ws->reason().code);
    }
    if (ec != websocket::error::closed) error_ = "read: " + ec.message();
    return std::nullopt;
  }
  WsMessage message;
  message.arrived_wall = std::chrono::system_clock::now();
  message.arrived = Clock::now();
  message.binary = impl.ws->got_binary();
  message.data = beast::buffers_to_string(impl.buffer.data());
  impl.buffer.consume(impl.buffer.size());
  message.body = decode_frame(message.binary, message.data);
  return message;
}

std::optional<WsMessage> WsClient::read_until(const std::function<bool(const WsMessage&)>& predicate,
                                              std::chrono::milliseconds timeout, std::vector<WsMessage>* skipped) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      error_ = "timed out";
      return std::nullopt;
    }
    auto message = read(remaining);
    if (!message) return std::nullopt;
    if (predicate(*message)) return message;
    if (skipped != nullptr) skipped->push_back(std::move(*message));
  }
}

std::optional<json> WsClient::read_type(std::string_view type, std::chrono::milliseconds timeout,
                                        std::vector<WsMessage>* skipped) {
  auto message = read_until([&](const WsMessage& m) { return m.is(type); }, timeout, skipped);
  if (!message) return std::nullopt;
  return std::move(message->body);
}

std::optional<json> WsClient::request(const json& message, std::vector<std::string> types,
                                      std::chrono::milliseconds timeout, std::vector<WsMessage>* skipped) {
  if (!send_json(message, timeout)) return std::nullopt;
  const bool has_id = message.is_object() && message.contains("id");
  auto reply = read_until(
      [&](const WsMessage& m) {
        if (std::find(types.begin(), types.end(), m.type()) == types.end()) return false;
        return !has_id || (m.body.contains("id") && m.body["id"] == message["id"]);
      },
      timeout, skipped);
  if (!reply) return std::nullopt;
  return std::move(reply->body);
}

std::optional<std::uint16_t> WsClient::wait_for_close(std::chrono::milliseconds timeout,
                                                      std::vector<WsMessage>* received) {
  const auto deadline = Clock::now() + timeout;
  while (open()) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      error_ = "timed out waiting for the close";
      return std::nullopt;
    }
    auto message = read(remaining);
    if (message && received != nullptr) received->push_back(std::move(*message));
  }
  return close_code_;
}

void WsClient::close(std::uint16_t code, std::chrono::milliseconds timeout) {
  if (!open()) return;
  const beast::error_code ec = impl_->run(timeout, [&](auto handler) {
    impl_->ws->async_close(websocket::close_reason(static_cast<websocket::close_code>(code)), std::move(handler));
  });
  if (ec) error_ = "close: " + ec.message();
  drop();
}

void WsClient::drop() {
  if (!impl_->ws) return;
  beast::error_code ignored;
  auto& socket = beast::get_lowest_layer(*impl_->ws).socket();
  if (socket.is_open()) socket.close(ignored);
  closed_ = true;
  // Let the cancelled operations' handlers run before the stream goes away.
  impl_->io.restart();
  impl_->io.poll();
}

// ---------------------------------------------------------------------------

namespace {

bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) return false;
    pollfd poll_fd{fd, events, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(remaining.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
    } else if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

RawWsClient::~RawWsClient() { close(); }

RawWsClient& RawWsClient::operator=(RawWsClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void RawWsClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawWsClient::connect(std::uint16_t port, int receive_buffer_bytes, std::chrono::milliseconds timeout,
                          std::string* error) {
  const auto deadline = Clock::now() + timeout;
  const auto fail = [&](const std::string& what) {
    if (error != nullptr) *error = what + ": " + std::strerror(errno);
    close();
    return false;
  };
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return fail("socket");
  if (receive_buffer_bytes > 0 &&
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes) != 0) {
    return fail("setsockopt SO_RCVBUF");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) return fail("connect");
    if (!wait_for(fd_, POLLOUT, deadline)) return fail("connect (timeout)");
    int socket_error = 0;
    socklen_t length = sizeof socket_error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
      errno = socket_error;
      return fail("connect");
    }
  }
  const std::string request = "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (!send_all(fd_, request, deadline)) return fail("send upgrade request");
  // Read the response head; anything after it (the hello) is left unread
  // or thrown away: this client is not interested.
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    char byte = 0;
    const ssize_t got = ::recv(fd_, &byte, 1, 0);
    if (got == 1) {
      head.push_back(byte);
      if (head.size() > 8192) return fail("response head too long");
    } else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLIN, deadline)) return fail("reading the response (timeout)");
    } else {
      return fail("reading the response");
    }
  }
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    errno = EPROTO;
    return fail("not upgraded: " + head.substr(0, head.find('\r')));
  }
  return true;
}

bool RawWsClient::send_text(std::string_view text) {
  if (fd_ < 0) return false;
  std::string frame;
  frame.push_back(static_cast<char>(0x81));  // FIN, text
  const std::size_t n = text.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>((n >> 8) & 0xff));
    frame.push_back(static_cast<char>(n & 0xff));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  constexpr std::array<unsigned char, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};
  for (unsigned char b : kMask) frame.push_back(static_cast<char>(b));
  for (std::size_t i = 0; i < n; ++i) {
    frame.push_back(static_cast<char>(static_cast<unsigned char>(text[i]) ^ kMask[i % 4]));
  }
  return send_all(fd_, frame, Clock::now() + std::chrono::seconds(2));
}

}  // namespace hostpulse::testing_support
