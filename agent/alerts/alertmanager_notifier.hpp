#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/alerts/alert_instance.hpp"
#include "agent/alerts/alertmanager_alert.hpp"
#include "agent/alerts/webhook_plugin.hpp"

namespace hostpulse {

// One [[alertmanager]] table.
struct AlertmanagerOptions {
  std::string url;  // http://host:port[/prefix]; alerts go to <url>/api/v2/alerts
  // Per attempt (connect, send, answer); Prometheus's default for Alertmanager.
  std::chrono::milliseconds timeout{10'000};
  // A failed batch is tried again this many times in all, with backoff, then
  // dropped (and counted): with the default backoff 10 attempts span about
  // 2.5 min, inside the 4 min a firing alert stays valid, and firing alerts
  // are offered again at the next resend anyway.
  std::uint32_t max_attempts = 10;
  std::string bearer_token;  // Authorization: Bearer ... (empty: none)
  std::string basic_auth_username;  // Authorization: Basic ... when set
  std::string basic_auth_password;
  std::string source;
  std::size_t line = 0;

  bool operator==(const AlertmanagerOptions&) const = default;
};

// How often and how far ahead; the defaults are Prometheus's.
struct AlertmanagerTiming {
  // Prometheus re-sends firing alerts every minute (--rules.alert.resend-delay):
  // Alertmanager keeps an alert until its endsAt, so it must hear of it again
  // before that passes.
  std::chrono::milliseconds resend_interval{60'000};
  // A firing alert's endsAt is this far after each send: four resends, as
  // Prometheus does, so three lost sends in a row still do not resolve it,
  // and a dead agent's alerts still end (Alertmanager's resolve_timeout only
  // applies to alerts sent without endsAt; ours always have one).
  std::chrono::milliseconds valid_for{4 * 60'000};
  // Backoff after a failed batch: doubling from the first delay to the most.
  std::chrono::milliseconds first_retry_delay{1'000};
  // Below the resend interval, so a recovered Alertmanager hears of firing
  // alerts well before their endsAt.
  std::chrono::milliseconds max_retry_delay{30'000};
};

struct AlertmanagerTargetStats {
  std::string url;
  std::uint64_t sent = 0;             // alerts Alertmanager accepted (2xx)
  std::uint64_t failed_attempts = 0;  // requests without a 2xx answer
  std::uint64_t dropped = 0;          // alerts given up (max_attempts, or the queue was full)
  std::size_t queued = 0;             // alerts waiting to be sent
  std::string last_error;             // of the latest failed attempt (empty after a success)
};

struct AlertmanagerStats {
  std::uint64_t sent = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t dropped = 0;
  std::size_t queued = 0;
  std::size_t firing = 0;  // alerts re-sent while they fire
  std::vector<AlertmanagerTargetStats> targets;
};

// Pushes alerts to Alertmanagers (POST /api/v2/alerts), the way Prometheus
// does: a firing alert when it starts and again every resend_interval with
// endsAt valid_for ahead, a resolved one once with endsAt set to when it
// resolved. Each Alertmanager has its own thread and a bounded queue of
// alerts (the latest version of each: a resend replaces what still waits),
// sent in batches; a failed batch is retried with backoff. notify() only
// updates the queues, so an Alertmanager that is down or slow never holds up
// sampling or alert evaluation, nor another Alertmanager. Requests go
// through a WebhookTransport (the agent's webhook plugin).
class AlertmanagerNotifier {
 public:
  // Each Alertmanager is a thread; Prometheus setups run one to three.
  static constexpr std::size_t kMaxAlertmanagers = 8;
  // Firing alerts tracked for resends; past this a new one is dropped (and
  // counted). A dozen rules on every core of a 256-CPU host are ~3,000.
  static constexpr std::size_t kMaxFiringAlerts = 5'000;
  // Alerts waiting per Alertmanager: every firing alert plus a resolve of
  // each; past this the new one is dropped (and counted).
  static constexpr std::size_t kMaxQueuedAlerts = 2 * kMaxFiringAlerts;
  // Alerts per request: Prometheus's batch size (notifier maxBatchSize).
  static constexpr std::size_t kMaxBatchAlerts = 256;
  using Clock = std::chrono::steady_clock;

  // transport may be null while alertmanagers is empty.
  AlertmanagerNotifier(std::vector<AlertmanagerOptions> alertmanagers, std::string host,
                       std::shared_ptr<WebhookTransport> transport, AlertmanagerTiming timing = {});
  ~AlertmanagerNotifier();
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  // A firing event (warning, critical, nodata) starts or updates its alert;
  // a resolve ends it; other events are ignored. When an incident's labels
  // change (warning -> critical changes severity), the alert under the old
  // labels is resolved and one under the new labels fires.
  void notify(const AlertEvent& event);
  // SIGHUP: switches to a new list. An Alertmanager whose options did not
  // change keeps its thread and queue; one with the same URL and new options
  // gets the old queue and counts; removed ones stop (their queue is
  // dropped). New ones are sent every firing alert at once. A non-null
  // transport replaces the current one.
  void replace_alertmanagers(std::vector<AlertmanagerOptions> alertmanagers,
                             std::shared_ptr<WebhookTransport> transport = nullptr);
  void stop();

  [[nodiscard]] bool has_transport() const;
  [[nodiscard]] std::size_t alertmanager_count() const;
  [[nodiscard]] AlertmanagerStats stats() const;

 private:
  struct Queued {
    AlertmanagerAlert alert;
    std::uint32_t attempts = 0;
  };
  // Guarded by the notifier's mutex_ except the client fields.
  struct Target {
    AlertmanagerOptions options;
    std::string scheme_host_port;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    // Keyed by the label set: the identity Alertmanager gives an alert.
    std::map<std::map<std::string, std::string>, Queued> queue;
    AlertmanagerTargetStats stats;
    std::uint32_t consecutive_failures = 0;
    Clock::time_point retry_at{};
    Clock::time_point next_resend{};
    std::atomic<bool> stopping{false};  // written under mutex_, read also without it
    std::condition_variable wake;
    std::thread thread;
    std::mutex client_mutex;
    WebhookClient* active_client = nullptr;  // so stop() can cut a hanging request short
  };
  using TargetPointer = std::shared_ptr<Target>;

  std::shared_ptr<Target> make_target_locked(AlertmanagerOptions options);
  void start_locked(const TargetPointer& target);
  static void stop_target(Target& target, std::unique_lock<std::mutex>& lock);
  void enqueue_locked(Target& target, const AlertmanagerAlert& alert);
  void run(const TargetPointer& target);
  // One POST; false with the reason in error, status the HTTP status (-1: no answer).
  bool post(Target& target, const std::string& body, int& status, std::string& error);

  const std::string host_;
  const AlertmanagerTiming timing_;
  mutable std::mutex mutex_;
  std::shared_ptr<WebhookTransport> transport_;
  std::vector<TargetPointer> targets_;
  // The incidents firing now, by (rule, instance): resent every resend_interval.
  std::map<std::pair<std::string, std::string>, AlertmanagerAlert> firing_;
  std::uint64_t untracked_ = 0;  // firing alerts past kMaxFiringAlerts
  bool stopped_ = false;
};

}  // namespace hostpulse
