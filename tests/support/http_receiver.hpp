#pragma once

// A webhook receiver for tests: cpp-httplib's server on an ephemeral
// 127.0.0.1 port that records every POST and PUT and answers with a settable status
// (or hangs until released). Header-only; used by the notifier unit tests and
// the alert end-to-end tests.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace hostpulse::testing_support {

// One request as the receiver saw it.
struct Received {
  std::string path;
  std::string body;
  std::string content_type;
  std::string custom_header;
  std::chrono::steady_clock::time_point at;
  std::string authorization;
  std::string method;
  std::multimap<std::string, std::string> headers;  // every header, names as sent
};

// An HTTP receiver on an ephemeral loopback port. `status` decides each answer.
class Receiver {
 public:
  using Clock = std::chrono::steady_clock;
  Receiver() {
    const auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      int answer = 200;
      {
        std::lock_guard lock(mutex_);
        received_.push_back(Received{request.path, request.body, request.get_header_value("Content-Type"),
                                     request.get_header_value("X-Team"), Clock::now(),
                                     request.get_header_value("Authorization"), request.method,
                                     {request.headers.begin(), request.headers.end()}});
        answer = status_;
      }
      changed_.notify_all();
      if (hang_) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::seconds(10), [this] { return !hang_; });
      }
      response.status = answer;
      response.set_content("{}", "application/json");
    };
    server_.Post(R"(/.*)", handler);
    server_.Put(R"(/.*)", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound already, so early requests wait in the backlog; still, be listening.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~Receiver() {
    release();
    server_.stop();
    thread_.join();
  }

  [[nodiscard]] std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void set_status(int status) {
    std::lock_guard lock(mutex_);
    status_ = status;
  }
  void hang() { hang_ = true; }
  void release() {
    {
      std::lock_guard lock(mutex_);
      hang_ = false;
    }
    changed_.notify_all();
  }
  // Waits until at least n requests arrived; all of them.
  std::vector<Received> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
    return received_;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::vector<Received> received_;
  int status_ = 200;
  std::atomic<bool> hang_{false};
};

}  // namespace hostpulse::testing_support
