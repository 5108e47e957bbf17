#include "agent/alerts/webhook_notifier.hpp"

#include <algorithm>

#include "agent/alerts/webhook_presets.hpp"
#include "agent/alerts/webhook_template.hpp"
#include "base/log.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

constexpr std::chrono::minutes kMaxRetryDelay{5};

bool is_notification(const AlertEvent& event) {
  const bool firing = event.to == AlertState::warning || event.to == AlertState::critical;
  const bool resolved = event.to == AlertState::ok &&
                        (event.from == AlertState::warning || event.from == AlertState::critical ||
                         event.from == AlertState::nodata);
  return firing || resolved || event.to == AlertState::nodata;
}

}  // namespace

std::string http_url_problem(const std::string& url, std::string& scheme_host_port, std::string& path) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "missing scheme";
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return "scheme must be http or https";
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string authority = url.substr(scheme_end + 3, path_start == std::string::npos ? std::string::npos
                                                                                            : path_start - scheme_end - 3);
  if (authority.empty()) return "missing host";
  if (authority.find('@') != std::string::npos) return "credentials in the URL are not supported; use headers";
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "contains spaces or control characters";
  }
  scheme_host_port = scheme + "://" + authority;
  path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return {};
}

Status parse_webhook_url(const std::string& url, std::string& scheme_host_port, std::string& path) {
  const std::string problem = http_url_problem(url, scheme_host_port, path);
  if (problem.empty()) return Status::success();
  return Status::failure("invalid webhook url " + quote(url) + ": " + problem +
                         " (expected http://HOST[:PORT]/PATH or https://...)");
}

WebhookNotifier::WebhookNotifier(std::vector<WebhookOptions> webhooks, Encoder encoder,
                                 std::shared_ptr<WebhookTransport> transport,
                                 std::chrono::milliseconds first_retry_delay, std::string host)
    : transport_(std::move(transport)),
      encoder_(std::move(encoder)),
      first_retry_delay_(first_retry_delay),
      host_(std::move(host)) {
  std::lock_guard lock(mutex_);
  for (WebhookOptions& webhook : webhooks) webhooks_.push_back(std::make_shared<const WebhookOptions>(std::move(webhook)));
  start_thread_locked();
}

void WebhookNotifier::start_thread_locked() {
  // No thread until there is something to send to.
  if (!webhooks_.empty() && !thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

WebhookNotifier::Target WebhookNotifier::find_by_url(const std::vector<Target>& list, const std::string& url) {
  const auto found = std::find_if(list.begin(), list.end(), [&](const Target& webhook) { return webhook->url == url; });
  return found == list.end() ? nullptr : *found;
}

void WebhookNotifier::replace_webhooks(std::vector<WebhookOptions> webhooks,
                                       std::shared_ptr<WebhookTransport> transport) {
  {
    std::lock_guard lock(mutex_);
    if (transport) transport_ = std::move(transport);
    std::vector<Target> next;
    for (WebhookOptions& webhook : webhooks) next.push_back(std::make_shared<const WebhookOptions>(std::move(webhook)));
    std::deque<Delivery> kept;
    for (Delivery& delivery : queue_) {
      if (Target target = find_by_url(next, delivery.webhook->url)) {
        delivery.webhook = std::move(target);
        kept.push_back(std::move(delivery));
      }
    }
    queue_ = std::move(kept);
    stats_.queued = queue_.size();
    webhooks_ = std::move(next);
    start_thread_locked();
  }
  wake_.notify_all();
}

bool WebhookNotifier::has_transport() const {
  std::lock_guard lock(mutex_);
  return transport_ != nullptr;
}

std::size_t WebhookNotifier::webhook_count() const {
  std::lock_guard lock(mutex_);
  return webhooks_.size();
}

WebhookNotifier::~WebhookNotifier() { stop(); }

void WebhookNotifier::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  {
    // A webhook that never answers must not hold up the agent's exit.
    std::lock_guard lock(client_mutex_);
    if (active_client_ != nullptr) active_client_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookNotifier::enqueue_locked(Delivery delivery) {
  if (queue_.size() >= kMaxQueued) {
    queue_.pop_front();  // the oldest news is the least useful
    ++stats_.dropped;
  }
  queue_.push_back(std::move(delivery));
}

void WebhookNotifier::notify(const AlertEvent& event) {
  if (!is_notification(event)) return;
  const auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (webhooks_.empty()) return;
    const std::string body = encoder_(event);
    const auto key = std::make_pair(event.rule, event.instance);
    if (event.to == AlertState::warning || event.to == AlertState::critical) {
      firing_[key] = Firing{event, now};
    } else {
      firing_.erase(key);
    }
    for (const Target& webhook : webhooks_) enqueue_locked(make_delivery_locked(webhook, event, body, now));
  }
  wake_.notify_all();
}

void WebhookNotifier::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    // Still-firing alerts are sent again every repeat_interval.
    for (auto& [key, firing] : firing_) {
      for (const Target& webhook : webhooks_) {
        const auto interval = webhook->repeat_interval;
        if (interval.count() > 0 && now - firing.last_sent >= interval) {
          enqueue_locked(make_delivery_locked(webhook, firing.event,
                                              webhook->body.empty() ? encoder_(firing.event) : std::string(), now));
          firing.last_sent = now;
        }
      }
    }
    auto due = std::find_if(queue_.begin(), queue_.end(), [&](const Delivery& d) { return d.due <= now; });
    if (due == queue_.end()) {
      auto wake_at = now + std::chrono::seconds(1);  // repeats are checked at least once a second
      for (const Delivery& d : queue_) wake_at = std::min(wake_at, d.due);
      wake_.wait_until(lock, wake_at);
      continue;
    }
    Delivery delivery = std::move(*due);
    queue_.erase(due);
    stats_.queued = queue_.size();
    lock.unlock();
    const bool ok = send(delivery);
    lock.lock();
    if (ok) {
      ++stats_.sent;
    } else {
      ++stats_.failed_attempts;
      Target current = find_by_url(webhooks_, delivery.webhook->url);
      if (!current) {
        ++stats_.dropped;  // removed by a reload while this attempt was in flight
        continue;
      }
      delivery.webhook = std::move(current);  // a reload may have changed its options
      if (++delivery.attempts >= delivery.webhook->max_attempts) {
        ++stats_.dropped;
        spdlog::warn("webhook {}: giving up after {} attempts", webhook_label(*delivery.webhook), delivery.attempts);
      } else {
        auto delay = first_retry_delay_ * (1 << std::min<std::uint32_t>(delivery.attempts - 1, 20));
        delivery.due = Clock::now() + std::min<std::chrono::milliseconds>(delay, kMaxRetryDelay);
        enqueue_locked(std::move(delivery));
      }
    }
    stats_.queued = queue_.size();
  }
}

WebhookNotifier::Delivery WebhookNotifier::make_delivery_locked(const Target& webhook, const AlertEvent& event,
                                                                const std::string& default_body,
                                                                Clock::time_point due) {
  return Delivery{.webhook = webhook,
                  .body = webhook->body.empty() ? default_body : std::string(),
                  .attempts = 0,
                  .due = due,
                  .event = std::make_shared<const AlertEvent>(event),
                  .transaction_id = "hostpulse-" + std::to_string(event.t_ms) + "-" + std::to_string(next_transaction_++)};
}

WebhookNotifier::Request WebhookNotifier::render(const Delivery& delivery) const {
  const WebhookOptions& webhook = *delivery.webhook;
  Request request{.url = webhook.url, .headers = webhook.headers, .body = delivery.body};
  // Queued for a template that a reload has since removed.
  if (webhook.body.empty() && request.body.empty()) request.body = encoder_(*delivery.event);
  const auto templated = [](const std::string& text) { return text.find("{{") != std::string::npos; };
  const bool any = !webhook.body.empty() || templated(webhook.url) ||
                   std::any_of(webhook.headers.begin(), webhook.headers.end(),
                               [&](const auto& header) { return templated(header.second); });
  if (!any) return request;
  const TemplateFields fields = template_fields(*delivery.event, host_, delivery.transaction_id);
  // The config checked every template; one that fails here is sent as written.
  const auto fill = [&](const std::string& text, TemplateEscaping escaping) {
    WebhookTemplate parsed;
    return parse_webhook_template(text, parsed).ok() ? render_webhook_template(parsed, fields, escaping) : text;
  };
  request.url = fill(webhook.url, TemplateEscaping::url);
  for (auto& [name, value] : request.headers) value = fill(value, TemplateEscaping::header);
  if (!webhook.body.empty()) {
    request.body = fill(webhook.body, webhook.json_body ? TemplateEscaping::json : TemplateEscaping::text);
  }
  return request;
}

bool WebhookNotifier::send(const Delivery& delivery) {
  const WebhookOptions& webhook = *delivery.webhook;  // immutable, kept alive by the delivery
  const Request request = render(delivery);
  std::string base, path;
  if (!parse_webhook_url(request.url, base, path).ok()) return false;
  std::shared_ptr<WebhookTransport> transport;
  {
    std::lock_guard lock(mutex_);
    transport = transport_;
  }
  if (!transport) {
    spdlog::warn("webhook {}: no HTTP client loaded", webhook_label(webhook));
    return false;
  }
  try {
    std::string error;
    const std::unique_ptr<WebhookClient> client = transport->connect(base, webhook.timeout, error);
    if (!client) {
      spdlog::warn("webhook {}: {}", webhook_label(webhook), error);
      return false;
    }
    {
      std::lock_guard lock(client_mutex_);
      if (stopping_) return false;
      active_client_ = client.get();
    }
    struct Forget {
      WebhookNotifier& self;
      ~Forget() {
        std::lock_guard lock(self.client_mutex_);
        self.active_client_ = nullptr;
      }
    } forget{*this};
    const WebhookClient::Answer answer =
        client->send(webhook.method, path, request.headers, request.body,
                     webhook.json_body ? "application/json" : "text/plain; charset=utf-8");
    if (answer.status < 0) {
      spdlog::warn("webhook {}: {}", webhook_label(webhook), answer.error);
      return false;
    }
    if (answer.status < 200 || answer.status >= 300) {
      spdlog::warn("webhook {}: HTTP {}", webhook_label(webhook), answer.status);
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("webhook {}: {}", webhook_label(webhook), e.what());
    return false;
  }
}

WebhookStats WebhookNotifier::stats() const {
  std::lock_guard lock(mutex_);
  WebhookStats s = stats_;
  s.queued = queue_.size();
  return s;
}

}  // namespace hostpulse
