// The practical ceiling for fan-out: a single-threaded epoll server that
// accepts TCP connections, answers any HTTP request head with a canned
// "101 Switching Protocols" (the load generator does not check the accept
// key), ignores what clients send, and every interval writes one
// WebSocket-framed samples message, built once, with plain non-blocking
// send() to every connection. No strands, no queues beyond a per-connection
// tail of unsent bytes, no protocol: what a broadcast costs the kernel.
//
//   hostpulse_raw_broadcaster --port P --interval-ms MS --template FILE
//
// FILE holds a samples frame captured from hostpulse; each tick sends it with
// this tick's seq and time in place of the template's.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "raw_broadcaster: %s\n", message.c_str());
  std::exit(2);
}

struct Client {
  int fd = -1;
  bool open = false;  // request head seen, 101 sent
  std::string head;
  std::string pending;
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The template with this tick's seq and t; the rest ("series", "values") kept.
std::string frame_payload(const std::string& rest, std::uint64_t seq, std::int64_t t_ms) {
  return R"({"type":"samples","sub":1,"seq_first":)" + std::to_string(seq) + R"(,"seq_last":)" +
         std::to_string(seq) + R"(,"t":[)" + std::to_string(t_ms) + "]," + rest;
}

std::string websocket_text_frame(const std::string& payload) {
  std::string frame;
  frame.push_back(static_cast<char>(0x81));
  const std::size_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xff));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  return frame + payload;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int interval_ms = 1000;
  std::string template_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--interval-ms") interval_ms = std::atoi(argv[i + 1]);
    else if (flag == "--template") template_path = argv[i + 1];
    else die("unknown flag " + flag);
  }
  std::ifstream file(template_path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  const std::string captured = text.str();
  const std::size_t series_at = captured.find(R"("series":)");
  if (series_at == std::string::npos) die("template has no \"series\": " + template_path);
  const std::string rest = captured.substr(series_at);

  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) die("bind failed");
  if (::listen(listener, SOMAXCONN) != 0) die("listen failed");

  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = UINT64_MAX;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);

  std::vector<Client> clients;
  const std::string upgraded = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const auto flush = [&](std::size_t index) {
    Client& c = clients[index];
    while (!c.pending.empty()) {
      const ssize_t sent = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno != EAGAIN) c.pending.clear();
        break;
      }
      c.pending.erase(0, static_cast<std::size_t>(sent));
    }
    epoll_event e{};
    e.events = EPOLLIN | (c.pending.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
    e.data.u64 = index;
    ::epoll_ctl(epoll, EPOLL_CTL_MOD, c.fd, &e);
  };

  std::uint64_t seq = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
  std::fprintf(stderr, "raw_broadcaster: listening on 127.0.0.1:%d\n", port);
  for (;;) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    epoll_event events[512];
    const int n = ::epoll_wait(epoll, events, 512, static_cast<int>(std::max<std::int64_t>(0, wait.count())));
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == UINT64_MAX) {
        for (;;) {
          const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          clients.push_back(Client{fd, false, {}, {}});
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.u64 = clients.size() - 1;
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      const std::size_t index = events[i].data.u64;
      Client& c = clients[index];
      if (c.fd < 0) continue;
      if (events[i].events & EPOLLOUT) flush(index);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buffer[4096];
        for (;;) {
          const ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
          if (got == 0 || (got < 0 && errno != EAGAIN)) {
            ::close(c.fd);
            c.fd = -1;
            break;
          }
          if (got < 0) break;
          if (!c.open) {
            c.head.append(buffer, static_cast<std::size_t>(got));
            if (c.head.find("\r\n\r\n") != std::string::npos) {
              c.open = true;
              c.head.clear();
              c.pending += upgraded;
              flush(index);
            }
          }
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      deadline += std::chrono::milliseconds(interval_ms);
      // Built once per tick, like hostpulse's encode-once.
      const std::string frame = websocket_text_frame(frame_payload(rest, ++seq, wall_ms()));
      for (std::size_t index = 0; index < clients.size(); ++index) {
        Client& c = clients[index];
        if (c.fd < 0 || !c.open) continue;
        if (c.pending.empty()) {
          const ssize_t sent = ::send(c.fd, frame.data(), frame.size(), MSG_NOSIGNAL);
          if (sent == static_cast<ssize_t>(frame.size())) continue;
          c.pending.assign(frame, sent > 0 ? static_cast<std::size_t>(sent) : 0);
          flush(index);
        } else if (c.pending.size() < (1u << 20)) {
          c.pending += frame;
        }
      }
    }
  }
}
