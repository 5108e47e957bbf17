// Fan-out load generator: opens N WebSocket subscribers on one epoll loop
// (per thread), subscribes each, and measures per samples frame the delay
// from the sample's timestamp ("t", ms since the epoch) to its arrival, the
// frames received per second, seq gaps (drops), and the server process's CPU
// and RSS over the measuring window (from /proc/<pid>/stat and status).
//
// The same client talks to hostpulse, to the node `ws` baseline and to the
// raw TCP baseline (bench/ws_broadcaster.mjs, bench/raw_broadcaster.cpp),
// which send the same samples frames.
//
//   hostpulse_loadgen --port P --connections N [--stalled K] [--idle]
//                     [--warmup S] [--duration S] [--server-pid PID] [--label L]
//                     [--capture FILE]   # save the first samples frame and exit
//
// --idle: connections finish the handshake and read hello, but never subscribe
// (memory per idle subscriber). --stalled K: K extra subscribers stop reading
// once subscribed (a 4 KiB receive buffer fills quickly); they are left out of
// the delay statistics, which cover only the reading subscribers.
// Prints one JSON object on stdout.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 9870;
  std::size_t connections = 100;
  std::size_t stalled = 0;
  bool idle = false;
  double warmup_s = 5;
  double duration_s = 30;
  long server_pid = 0;
  std::string label = "run";
  std::string capture;
  std::string subscribe = R"({"type":"subscribe"})";
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n", message.c_str());
  std::exit(2);
}

double wall_ms_now() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()) /
         1000.0;
}

// --- server process figures from /proc -------------------------------------

struct ProcessSample {
  double cpu_s = 0;  // utime + stime, this process only
  double rss_kib = 0;
};

ProcessSample sample_process(long pid) {
  ProcessSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    std::vector<std::string> f;
    while (fields >> field) f.push_back(field);
    // Fields after the command: state is index 0, utime 11, stime 12.
    if (f.size() > 12) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stod(line.substr(6));
  }
  return s;
}

// --- one WebSocket client connection ---------------------------------------

enum class Phase { connecting, handshake, open };

struct Connection {
  int fd = -1;
  Phase phase = Phase::connecting;
  bool stalled = false;
  bool subscribed = false;
  bool closed = false;
  std::string in;
  std::string out;
  std::uint64_t last_seq = 0;
  std::uint64_t frames = 0;
};

// A client frame must be masked (RFC 6455 5.3); the mask may be fixed.
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | opcode));
  const std::size_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(0x80 | n));
  } else {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xff));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return frame;
}

std::uint64_t number_after(std::string_view text, std::string_view key, bool last_in_array = false) {
  std::size_t at = text.find(key);
  if (at == std::string_view::npos) return 0;
  at += key.size();
  if (last_in_array) {
    const std::size_t end = text.find(']', at);
    const std::size_t comma = text.rfind(',', end);
    if (comma != std::string_view::npos && comma > at) at = comma + 1;
  }
  std::uint64_t value = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') value = value * 10 + static_cast<std::uint64_t>(text[at++] - '0');
  return value;
}

class LoadGenerator {
 public:
  explicit LoadGenerator(Options options) : options_(std::move(options)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1 failed");
    upgrade_ = "GET /api/v1/stream HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n";
    subscribe_frame_ = client_frame(0x1, options_.subscribe);
  }

  int run() {
    const std::size_t total = options_.connections + options_.stalled;
    connections_.resize(total);
    const auto open_started = Clock::now();
    std::size_t opened = 0;
    // Open in steps so the listen backlog never overflows.
    while (opened < total || open_count() < total) {
      for (std::size_t step = 0; step < 200 && opened < total; ++step, ++opened) {
        open(opened, opened >= options_.connections);
      }
      poll(10);
      if (Clock::now() - open_started > std::chrono::seconds(120)) break;
      if (opened == total && ready_count() + failed_ == total) break;
    }
    // Wait for every handshake (and subscription).
    const auto handshake_deadline = Clock::now() + std::chrono::seconds(60);
    while (ready_count() + failed_ < total && Clock::now() < handshake_deadline) poll(10);
    const double setup_s = std::chrono::duration<double>(Clock::now() - open_started).count();

    if (!options_.capture.empty()) {
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (captured_.empty() && Clock::now() < deadline) poll(10);
      std::ofstream(options_.capture, std::ios::binary) << captured_;
      return captured_.empty() ? 1 : 0;
    }

    run_for(options_.warmup_s);
    measuring_ = true;
    const ProcessSample before = sample_process(options_.server_pid);
    const auto started = Clock::now();
    double rss_max = before.rss_kib;
    const auto end = started + std::chrono::duration<double>(options_.duration_s);
    while (Clock::now() < end) {
      poll(20);
      if (Clock::now() >= next_rss_) {
        rss_max = std::max(rss_max, sample_process(options_.server_pid).rss_kib);
        next_rss_ = Clock::now() + std::chrono::milliseconds(500);
      }
    }
    const double elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
    const ProcessSample after = sample_process(options_.server_pid);
    measuring_ = false;
    report(setup_s, elapsed_s, before, after, std::max(rss_max, after.rss_kib));
    return 0;
  }

 private:
  std::size_t open_count() const { return opened_; }
  std::size_t ready_count() const { return ready_; }

  void open(std::size_t index, bool stalled) {
    Connection& c = connections_[index];
    c.stalled = stalled;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die(std::string("socket: ") + std::strerror(errno) + " (raise ulimit -n)");
    if (stalled) {
      const int small = 4096;
      ::setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    ::inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr);
    const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    if (rc < 0 && errno != EINPROGRESS) die(std::string("connect: ") + std::strerror(errno));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = index;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &event);
    ++opened_;
  }

  void run_for(double seconds) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) poll(20);
  }

  void poll(int timeout_ms) {
    epoll_event events[512];
    const int n = ::epoll_wait(epoll_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      const std::size_t index = events[i].data.u64;
      Connection& c = connections_[index];
      if (c.closed) continue;
      if (events[i].events & EPOLLOUT) writable(index);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(index);
    }
  }

  void send(std::size_t index, std::string_view bytes) {
    Connection& c = connections_[index];
    c.out.append(bytes);
    writable(index);
  }

  void writable(std::size_t index) {
    Connection& c = connections_[index];
    if (c.phase == Phase::connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) return fail(index, std::string("connect: ") + std::strerror(error));
      c.phase = Phase::handshake;
      c.out = upgrade_;
    }
    while (!c.out.empty()) {
      const ssize_t sent = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN) break;
        return fail(index, std::string("send: ") + std::strerror(errno));
      }
      c.out.erase(0, static_cast<std::size_t>(sent));
    }
    epoll_event event{};
    event.events = (c.stalled && c.subscribed ? 0u : static_cast<std::uint32_t>(EPOLLIN)) |
                   (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
    event.data.u64 = index;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event);
  }

  void fail(std::size_t index, const std::string& why) {
    Connection& c = connections_[index];
    if (c.closed) return;
    if (failed_ < 5) std::fprintf(stderr, "loadgen: connection %zu: %s\n", index, why.c_str());
    ::close(c.fd);
    c.closed = true;
    ++failed_;
    if (c.phase == Phase::open) ++closed_open_;
  }

  void readable(std::size_t index) {
    Connection& c = connections_[index];
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (got == 0) return fail(index, "closed by server");
      if (got < 0) {
        if (errno == EAGAIN) break;
        return fail(index, std::string("recv: ") + std::strerror(errno));
      }
      c.in.append(buffer, static_cast<std::size_t>(got));
      if (c.stalled && c.subscribed) break;
    }
    if (c.phase == Phase::handshake) {
      const std::size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) return fail(index, "handshake refused: " + c.in.substr(0, 40));
      c.in.erase(0, end + 4);
      c.phase = Phase::open;
      if (options_.idle) {
        ++ready_;
      } else {
        send(index, subscribe_frame_);
        c.subscribed = true;
        ++ready_;
        if (c.stalled) return writable(index);  // stops watching EPOLLIN
      }
    }
    parse_frames(index);
  }

  void parse_frames(std::size_t index) {
    Connection& c = connections_[index];
    std::size_t at = 0;
    const double now_ms = wall_ms_now();
    while (c.in.size() - at >= 2) {
      const auto b0 = static_cast<std::uint8_t>(c.in[at]);
      const auto b1 = static_cast<std::uint8_t>(c.in[at + 1]);
      std::size_t header = 2;
      std::uint64_t length = b1 & 0x7f;
      if (length == 126) {
        if (c.in.size() - at < 4) break;
        length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(c.in[at + 2])) << 8) |
                 static_cast<std::uint8_t>(c.in[at + 3]);
        header = 4;
      } else if (length == 127) {
        if (c.in.size() - at < 10) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<std::uint8_t>(c.in[at + 2 + static_cast<std::size_t>(i)]);
        header = 10;
      }
      if (c.in.size() - at < header + length) break;
      const std::string_view payload(c.in.data() + at + header, static_cast<std::size_t>(length));
      const std::uint8_t opcode = b0 & 0x0f;
      if (opcode == 0x9) {
        send(index, client_frame(0xA, payload));
      } else if (opcode == 0x8) {
        return fail(index, "close frame");
      } else if (opcode == 0x1 && payload.find(R"("type":"samples")") != std::string_view::npos) {
        on_samples(c, payload, now_ms);
      }
      at += header + static_cast<std::size_t>(length);
    }
    c.in.erase(0, at);
  }

  void on_samples(Connection& c, std::string_view payload, double now_ms) {
    if (captured_.empty()) captured_ = std::string(payload);
    const std::uint64_t seq_first = number_after(payload, R"("seq_first":)");
    const std::uint64_t seq_last = number_after(payload, R"("seq_last":)");
    const auto t_ms = static_cast<double>(number_after(payload, R"("t":[)", true));
    if (measuring_ && !c.stalled) {
      if (c.last_seq != 0 && seq_first > c.last_seq + 1) gaps_ += seq_first - c.last_seq - 1;
      delays_.push_back(now_ms - t_ms);
      ++frames_;
      bytes_ += payload.size();
      auto& spread = per_seq_[seq_last];
      spread.count++;
      spread.max_delay = std::max(spread.max_delay, now_ms - t_ms);
    }
    c.last_seq = seq_last;
  }

  static double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(rank, sorted.size() - 1)];
  }

  void report(double setup_s, double elapsed_s, const ProcessSample& before, const ProcessSample& after,
              double rss_max_kib) {
    std::sort(delays_.begin(), delays_.end());
    // Broadcast time of a frame: from its timestamp to its arrival at the
    // last reading subscriber; only frames every reader got.
    std::size_t readers = 0;
    for (const Connection& c : connections_) readers += (!c.closed && !c.stalled) ? 1 : 0;
    std::vector<double> broadcast_ms;
    for (const auto& [seq, spread] : per_seq_) {
      if (spread.count >= readers) broadcast_ms.push_back(spread.max_delay);
    }
    std::sort(broadcast_ms.begin(), broadcast_ms.end());
    const double broadcast_median = percentile(broadcast_ms, 50);
    std::size_t alive = 0;
    for (const Connection& c : connections_) alive += c.closed ? 0 : 1;
    std::printf(
        "{\"label\":\"%s\",\"connections\":%zu,\"stalled\":%zu,\"idle\":%s,\"setup_s\":%.2f,\"seconds\":%.2f,"
        "\"alive\":%zu,\"failed\":%zu,\"frames\":%llu,\"frames_per_s\":%.1f,\"bytes_per_frame\":%.0f,"
        "\"gaps\":%llu,\"delay_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
        "\"broadcast_ms_median\":%.3f,\"deliveries_per_s_in_burst\":%.0f,"
        "\"server_cpu_pct\":%.2f,\"server_rss_kib\":%.0f,\"server_rss_max_kib\":%.0f}\n",
        options_.label.c_str(), options_.connections, options_.stalled, options_.idle ? "true" : "false", setup_s,
        elapsed_s, alive, failed_, static_cast<unsigned long long>(frames_),
        static_cast<double>(frames_) / elapsed_s, frames_ ? static_cast<double>(bytes_) / static_cast<double>(frames_) : 0.0,
        static_cast<unsigned long long>(gaps_), percentile(delays_, 50), percentile(delays_, 90),
        percentile(delays_, 99), delays_.empty() ? 0.0 : delays_.back(), broadcast_median,
        broadcast_median > 0 ? static_cast<double>(options_.connections) / (broadcast_median / 1000.0) : 0.0,
        100.0 * (after.cpu_s - before.cpu_s) / elapsed_s, after.rss_kib, rss_max_kib);
  }

  struct Spread {
    std::size_t count = 0;
    double max_delay = 0;
  };

  Options options_;
  int epoll_ = -1;
  std::string upgrade_;
  std::string subscribe_frame_;
  std::vector<Connection> connections_;
  std::size_t opened_ = 0;
  std::size_t ready_ = 0;
  std::size_t failed_ = 0;
  std::size_t closed_open_ = 0;
  bool measuring_ = false;
  std::vector<double> delays_;
  std::unordered_map<std::uint64_t, Spread> per_seq_;
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t gaps_ = 0;
  std::string captured_;
  Clock::time_point next_rss_{};
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--idle") {
      o.idle = true;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + flag);
    const std::string value = argv[++i];
    if (flag == "--host") o.host = value;
    else if (flag == "--port") o.port = std::stoi(value);
    else if (flag == "--connections") o.connections = std::stoul(value);
    else if (flag == "--stalled") o.stalled = std::stoul(value);
    else if (flag == "--warmup") o.warmup_s = std::stod(value);
    else if (flag == "--duration") o.duration_s = std::stod(value);
    else if (flag == "--server-pid") o.server_pid = std::stol(value);
    else if (flag == "--label") o.label = value;
    else if (flag == "--capture") o.capture = value;
    else if (flag == "--subscribe") o.subscribe = value;
    else die("unknown flag " + flag);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  LoadGenerator generator(options);
  return generator.run();
}
