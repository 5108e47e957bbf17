#pragma once

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/alerts/alert_instance.hpp"
#include "agent/alerts/webhook_plugin.hpp"
#include "base/status.hpp"

namespace hostpulse {

// One [[webhook]] table. url, body and header values are templates
// (webhook_template.hpp); a preset fills them in (webhook_presets.hpp).
struct WebhookOptions {
  std::string url;                                   // http://host:port/path (or https); may hold {{txn_id}}
  std::chrono::milliseconds timeout{5'000};          // per attempt: connect + send + answer
  std::chrono::milliseconds repeat_interval{4 * 3'600'000};  // re-send still-firing alerts; 0: never
  std::uint32_t max_attempts = 8;                    // then the notification is dropped (and counted)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string name;                                  // for messages; empty: the URL
  std::string method = "POST";                       // or "PUT"
  std::string body;                                  // a template; empty: the event JSON with "host"
  bool json_body = true;                             // body is JSON (fields JSON-escaped), else plain text
  std::string source;
  std::size_t line = 0;
};

// Splits "http://host:port/path" into client target and path; returns what
// is wrong with it, empty when nothing is.
std::string http_url_problem(const std::string& url, std::string& scheme_host_port, std::string& path);
// The same as a Status naming the URL and the expected form.
Status parse_webhook_url(const std::string& url, std::string& scheme_host_port, std::string& path);

struct WebhookStats {
  std::uint64_t sent = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t dropped = 0;       // gave up after max_attempts, or queue full
  std::size_t queued = 0;
};

// Sends alert events to webhooks from its own thread: JSON POST, a timeout
// per attempt, exponential backoff between retries (1 s doubling to 5 min),
// a bounded queue (oldest dropped first) and a repeat for still-firing
// alerts. notify() only queues, so a dead webhook never slows sampling.
// Requests go through a WebhookTransport (the agent's is the dlopen()ed
// plugin); a notifier without webhooks needs none.
class WebhookNotifier {
 public:
  // Waiting notifications across all webhooks; past this the oldest is dropped.
  static constexpr std::size_t kMaxQueued = 1000;
  using Clock = std::chrono::steady_clock;
  // Turns an event into the JSON body (set by the agent; tests may replace it).
  using Encoder = std::function<std::string(const AlertEvent&)>;

  // transport may be null while webhooks is empty (attempts fail otherwise).
  // host: the {{host}} of templates.
  WebhookNotifier(std::vector<WebhookOptions> webhooks, Encoder encoder, std::shared_ptr<WebhookTransport> transport,
                  std::chrono::milliseconds first_retry_delay = std::chrono::seconds(1), std::string host = {});
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // Queues the event for every webhook when it is a notification (firing,
  // resolved, nodata); pending transitions are not notified.
  void notify(const AlertEvent& event);
  // SIGHUP: switches to a new list. Waiting retries and repeats carry over to
  // webhooks whose URL is unchanged (with the new options); those for removed
  // URLs are dropped. Safe while a request is in flight.
  // A non-null transport replaces the current one (a reload that adds the
  // first webhooks loads the plugin and hands it over here).
  void replace_webhooks(std::vector<WebhookOptions> webhooks, std::shared_ptr<WebhookTransport> transport = nullptr);
  void stop();

  // Whether a transport is set (the agent loads the plugin when not).
  [[nodiscard]] bool has_transport() const;

  [[nodiscard]] WebhookStats stats() const;
  [[nodiscard]] std::size_t webhook_count() const;

 private:
  using Target = std::shared_ptr<const WebhookOptions>;
  // The webhook of that URL in the list, or nullptr (reloads match webhooks by URL).
  static Target find_by_url(const std::vector<Target>& list, const std::string& url);
  struct Delivery {
    Target webhook;
    std::string body;
    std::uint32_t attempts = 0;
    Clock::time_point due{};
    // A templated webhook's request is rendered at each attempt from the
    // event (with the options of that moment: a reload may change them),
    // with one transaction id for all attempts (Matrix deduplicates by it).
    std::shared_ptr<const AlertEvent> event;
    std::string transaction_id;
  };
  struct Request {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  [[nodiscard]] Request render(const Delivery& delivery) const;
  struct Firing {
    AlertEvent event;
    Clock::time_point last_sent{};
  };

  void run();
  bool send(const Delivery& delivery);
  // The request for one webhook; default_body is the encoder's, made once per event.
  Delivery make_delivery_locked(const Target& webhook, const AlertEvent& event, const std::string& default_body,
                                Clock::time_point due);
  void enqueue_locked(Delivery delivery);
  void start_thread_locked();

  std::vector<Target> webhooks_;  // guarded by mutex_
  std::shared_ptr<WebhookTransport> transport_;  // guarded by mutex_
  Encoder encoder_;
  std::chrono::milliseconds first_retry_delay_;
  std::string host_;
  std::uint64_t next_transaction_ = 0;  // guarded by mutex_
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Delivery> queue_;
  std::map<std::pair<std::string, std::string>, Firing> firing_;  // for repeats
  WebhookStats stats_;
  std::atomic<bool> stopping_{false};
  std::mutex client_mutex_;
  WebhookClient* active_client_ = nullptr;  // so stop() can cut a hanging request short
  std::thread thread_;
};

}  // namespace hostpulse
