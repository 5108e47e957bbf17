#pragma once

// How WebhookNotifier sends: a WebhookTransport makes one WebhookClient per
// attempt. The agent's transport is the plugin libhostpulse-webhook.so
// (cpp-httplib + OpenSSL behind the C ABI of webhook_plugin_abi.h), loaded
// with dlopen() only when webhooks are configured, so that an agent without
// webhooks maps none of those libraries. Tests may provide their own
// transport or load the built plugin by path.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hostpulse {

// One request target (scheme://host:port); post() may be called from one
// thread at a time, stop() from any thread while a post() runs.
class WebhookClient {
 public:
  struct Answer {
    int status = -1;    // the HTTP status, or -1 when there was no answer
    std::string error;  // why there was no answer
  };
  virtual ~WebhookClient() = default;
  // method: "POST" or "PUT".
  virtual Answer send(const std::string& method, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                      const std::string& content_type) = 0;
  Answer post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers,
              const std::string& body, const std::string& content_type) {
    return send("POST", path, headers, body, content_type);
  }
  // Cuts a post() in flight short; it then returns without an answer.
  virtual void stop() = 0;
};

class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // A client for "http://host[:port]" (or https), timeout per connect, write
  // and read; nullptr with error set when it cannot be made.
  virtual std::unique_ptr<WebhookClient> connect(const std::string& scheme_host_port,
                                                 std::chrono::milliseconds timeout, std::string& error) = 0;
};

// Environment variable naming the plugin file (tests, unusual layouts).
inline constexpr const char* kWebhookPluginEnv = "HOSTPULSE_WEBHOOK_PLUGIN";

// Where the plugin is: $HOSTPULSE_WEBHOOK_PLUGIN when set and not empty,
// else <directory of /proc/self/exe>/../lib/hostpulse/libhostpulse-webhook.so
// (/usr/bin/hostpulse -> /usr/lib/hostpulse/..., and the same layout in the
// build tree).
std::string webhook_plugin_path();

struct WebhookPluginLoad {
  std::shared_ptr<WebhookTransport> transport;  // null on failure
  std::string path;
  std::string error;  // names the path and dlerror() or the ABI mismatch
};

// dlopen(path, RTLD_NOW | RTLD_LOCAL), looks up the C ABI and checks its
// version. A loaded plugin stays mapped for the life of the process (never
// dlclose()d: OpenSSL and threads in flight make unloading unsafe).
WebhookPluginLoad load_webhook_plugin(const std::string& path);
inline WebhookPluginLoad load_webhook_plugin() { return load_webhook_plugin(webhook_plugin_path()); }

}  // namespace hostpulse
