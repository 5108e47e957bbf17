#include "agent/alerts/alertmanager_notifier.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {
namespace {

// A 4xx other than these means Alertmanager refused the alerts themselves
// (invalid labels, bad JSON): sending the same batch again cannot help.
bool worth_retrying(int status) { return status < 400 || status >= 500 || status == 408 || status == 429; }

}  // namespace

AlertmanagerNotifier::AlertmanagerNotifier(std::vector<AlertmanagerOptions> alertmanagers, std::string host,
                                           std::shared_ptr<WebhookTransport> transport, AlertmanagerTiming timing)
    : host_(std::move(host)), timing_(timing), transport_(std::move(transport)) {
  std::lock_guard lock(mutex_);
  for (AlertmanagerOptions& options : alertmanagers) targets_.push_back(make_target_locked(std::move(options)));
  for (const TargetPointer& target : targets_) start_locked(target);
}

AlertmanagerNotifier::~AlertmanagerNotifier() { stop(); }

std::shared_ptr<AlertmanagerNotifier::Target> AlertmanagerNotifier::make_target_locked(AlertmanagerOptions options) {
  auto target = std::make_shared<Target>();
  // The config checked the URL; one that fails here fails every attempt (and says so).
  if (Status status = parse_alertmanager_url(options.url, target->scheme_host_port, target->path); !status.ok()) {
    target->stats.last_error = status.error;
  }
  if (!options.bearer_token.empty()) target->headers.emplace_back("Authorization", "Bearer " + options.bearer_token);
  if (!options.basic_auth_username.empty()) {
    target->headers.emplace_back("Authorization",
                                 basic_authorization(options.basic_auth_username, options.basic_auth_password));
  }
  target->stats.url = options.url;
  target->options = std::move(options);
  // next_resend is in the past: a new Alertmanager hears of every firing alert at once.
  return target;
}

void AlertmanagerNotifier::start_locked(const TargetPointer& target) {
  if (stopped_ || target->thread.joinable()) return;
  target->thread = std::thread([this, target] { run(target); });
}

void AlertmanagerNotifier::stop_target(Target& target, std::unique_lock<std::mutex>& lock) {
  target.stopping = true;
  lock.unlock();
  target.wake.notify_all();
  {
    // An Alertmanager that never answers must not hold up a reload or the exit.
    std::lock_guard client_lock(target.client_mutex);
    if (target.active_client != nullptr) target.active_client->stop();
  }
  if (target.thread.joinable()) target.thread.join();
  lock.lock();
}

void AlertmanagerNotifier::stop() {
  std::unique_lock lock(mutex_);
  stopped_ = true;
  const std::vector<TargetPointer> targets = targets_;
  for (const TargetPointer& target : targets) stop_target(*target, lock);
}

void AlertmanagerNotifier::replace_alertmanagers(std::vector<AlertmanagerOptions> alertmanagers,
                                                 std::shared_ptr<WebhookTransport> transport) {
  std::unique_lock lock(mutex_);
  if (transport) transport_ = std::move(transport);
  std::vector<TargetPointer> next, retired;
  for (AlertmanagerOptions& options : alertmanagers) {
    const auto same_url = std::find_if(targets_.begin(), targets_.end(),
                                       [&](const TargetPointer& target) { return target->options.url == options.url; });
    if (same_url != targets_.end() && (*same_url)->options == options) {
      next.push_back(*same_url);
      targets_.erase(same_url);
      continue;
    }
    TargetPointer fresh = make_target_locked(std::move(options));
    if (same_url != targets_.end()) {
      // New options for the same Alertmanager: what waited, and the counts, carry over.
      fresh->queue = std::move((*same_url)->queue);
      (*same_url)->queue.clear();
      const std::string parse_error = fresh->stats.last_error;
      fresh->stats = (*same_url)->stats;
      if (!parse_error.empty()) fresh->stats.last_error = parse_error;
      fresh->stats.queued = fresh->queue.size();
      retired.push_back(*same_url);
      targets_.erase(same_url);
    }
    next.push_back(std::move(fresh));
  }
  retired.insert(retired.end(), targets_.begin(), targets_.end());
  targets_ = std::move(next);
  for (const TargetPointer& target : targets_) start_locked(target);
  for (const TargetPointer& target : retired) stop_target(*target, lock);
}

bool AlertmanagerNotifier::has_transport() const {
  std::lock_guard lock(mutex_);
  return transport_ != nullptr;
}

std::size_t AlertmanagerNotifier::alertmanager_count() const {
  std::lock_guard lock(mutex_);
  return targets_.size();
}

void AlertmanagerNotifier::enqueue_locked(Target& target, const AlertmanagerAlert& alert) {
  const auto found = target.queue.find(alert.labels);
  if (found != target.queue.end()) {
    found->second = Queued{.alert = alert, .attempts = 0};  // the latest version is the one worth sending
  } else if (target.queue.size() >= kMaxQueuedAlerts) {
    ++target.stats.dropped;
  } else {
    target.queue.emplace(alert.labels, Queued{.alert = alert, .attempts = 0});
  }
  target.stats.queued = target.queue.size();
}

void AlertmanagerNotifier::notify(const AlertEvent& event) {
  const bool firing = alertmanager_firing(event);
  if (!firing && !alertmanager_resolve(event)) return;
  AlertmanagerAlert alert = alertmanager_alert(event, host_);
  std::lock_guard lock(mutex_);
  const auto key = std::make_pair(event.rule, event.instance);
  const auto found = firing_.find(key);
  std::vector<AlertmanagerAlert> updates;
  if (firing) {
    if (found == firing_.end()) {
      if (firing_.size() >= kMaxFiringAlerts) {
        ++untracked_;
        return;
      }
      firing_.emplace(key, alert);
    } else if (found->second.labels != alert.labels) {
      // Another label set is another alert to Alertmanager: end the old one.
      AlertmanagerAlert ended = found->second;
      ended.ends_at_ms = std::max(event.t_ms, ended.starts_at_ms);
      updates.push_back(std::move(ended));
      found->second = alert;
    } else {
      alert.starts_at_ms = found->second.starts_at_ms;  // the incident began then
      found->second = alert;
    }
    updates.push_back(std::move(alert));
  } else {
    if (found != firing_.end()) {
      // As it was last sent (labels, start, annotations), now with its end.
      alert = found->second;
      firing_.erase(found);
    } else {
      alert.starts_at_ms = event.t_ms - event.incident_ms;
    }
    alert.ends_at_ms = std::max(event.t_ms, alert.starts_at_ms);
    updates.push_back(std::move(alert));
  }
  for (const TargetPointer& target : targets_) {
    for (const AlertmanagerAlert& update : updates) enqueue_locked(*target, update);
    target->wake.notify_all();
  }
}

void AlertmanagerNotifier::run(const TargetPointer& pointer) {
  Target& target = *pointer;
  std::unique_lock lock(mutex_);
  while (!target.stopping) {
    const auto now = Clock::now();
    if (now >= target.next_resend) {
      for (const auto& [key, alert] : firing_) enqueue_locked(target, alert);
      target.next_resend = now + timing_.resend_interval;
    }
    if (target.queue.empty() || now < target.retry_at) {
      const auto wake_at = target.queue.empty() ? target.next_resend : std::min(target.next_resend, target.retry_at);
      target.wake.wait_until(lock, wake_at);
      continue;
    }
    std::vector<AlertmanagerAlert> batch;
    std::vector<std::uint32_t> attempts;
    for (auto it = target.queue.begin(); it != target.queue.end() && batch.size() < kMaxBatchAlerts;) {
      batch.push_back(std::move(it->second.alert));
      attempts.push_back(it->second.attempts);
      it = target.queue.erase(it);
    }
    target.stats.queued = target.queue.size();
    lock.unlock();
    // Encoded outside the lock: notify() on the sampler thread never waits for it.
    const std::string body = encode_alertmanager_alerts(batch, wall_clock_ms(), timing_.valid_for);
    std::string error;
    int status = -1;
    const bool sent = post(target, body, status, error);
    const bool retry = worth_retrying(status);
    lock.lock();
    if (sent) {
      if (target.consecutive_failures > 0) {
        spdlog::info("alertmanager {}: sending again after {} failed attempts", target.options.url,
                     target.consecutive_failures);
      }
      target.stats.sent += batch.size();
      target.stats.last_error.clear();
      target.consecutive_failures = 0;
      target.retry_at = {};
      continue;
    }
    ++target.stats.failed_attempts;
    // Logged when the reason changes, not at every attempt.
    if (error != target.stats.last_error) spdlog::warn("alertmanager {}: {}", target.options.url, error);
    target.stats.last_error = error;
    ++target.consecutive_failures;
    const auto doublings = std::min<std::uint32_t>(target.consecutive_failures - 1, 20);
    const auto delay = std::min<std::chrono::milliseconds>(timing_.first_retry_delay * (std::int64_t{1} << doublings),
                                                           timing_.max_retry_delay);
    target.retry_at = Clock::now() + delay;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (target.queue.contains(batch[i].labels)) continue;  // a newer version waits already
      if (!retry || attempts[i] + 1 >= target.options.max_attempts || target.queue.size() >= kMaxQueuedAlerts) {
        ++target.stats.dropped;
        continue;
      }
      auto labels = batch[i].labels;
      target.queue.emplace(std::move(labels), Queued{.alert = std::move(batch[i]), .attempts = attempts[i] + 1});
    }
    target.stats.queued = target.queue.size();
  }
}

bool AlertmanagerNotifier::post(Target& target, const std::string& body, int& status, std::string& error) {
  std::shared_ptr<WebhookTransport> transport;
  {
    std::lock_guard lock(mutex_);
    transport = transport_;
    if (target.scheme_host_port.empty()) {
      error = target.stats.last_error;
      return false;
    }
  }
  if (!transport) {
    error = "no HTTP client loaded";
    return false;
  }
  try {
    const std::unique_ptr<WebhookClient> client = transport->connect(target.scheme_host_port, target.options.timeout, error);
    if (!client) return false;
    {
      std::lock_guard lock(target.client_mutex);
      if (target.stopping) {
        error = "stopped";
        return false;
      }
      target.active_client = client.get();
    }
    struct Forget {
      Target& target;
      ~Forget() {
        std::lock_guard lock(target.client_mutex);
        target.active_client = nullptr;
      }
    } forget{target};
    const WebhookClient::Answer answer = client->post(target.path, target.headers, body, "application/json");
    if (answer.status < 0) {
      error = answer.error;
      return false;
    }
    status = answer.status;
    if (answer.status < 200 || answer.status >= 300) {
      error = "HTTP " + std::to_string(answer.status) + (worth_retrying(answer.status) ? "" : " (the alerts were refused; not retried)");
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

AlertmanagerStats AlertmanagerNotifier::stats() const {
  std::lock_guard lock(mutex_);
  AlertmanagerStats total;
  total.firing = firing_.size();
  total.dropped = untracked_;
  for (const TargetPointer& target : targets_) {
    const AlertmanagerTargetStats& s = target->stats;
    total.sent += s.sent;
    total.failed_attempts += s.failed_attempts;
    total.dropped += s.dropped;
    total.queued += s.queued;
    total.targets.push_back(s);
  }
  return total;
}

}  // namespace hostpulse
