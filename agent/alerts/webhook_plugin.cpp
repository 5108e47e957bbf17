#include "agent/alerts/webhook_plugin.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "agent/alerts/webhook_plugin_abi.h"

namespace hostpulse {
namespace {

constexpr const char* kPluginRelativePath = "../lib/hostpulse/libhostpulse-webhook.so";
constexpr std::size_t kErrorSize = 512;

// The plugin's entry points, looked up once per load.
struct PluginAbi {
  decltype(&hostpulse_webhook_client_create) create = nullptr;
  decltype(&hostpulse_webhook_client_send) send = nullptr;
  decltype(&hostpulse_webhook_client_stop) stop = nullptr;
  decltype(&hostpulse_webhook_client_free) free = nullptr;
};

class PluginClient final : public WebhookClient {
 public:
  PluginClient(const PluginAbi& abi, hostpulse_webhook_client* client) : abi_(abi), client_(client) {}
  ~PluginClient() override { abi_.free(client_); }
  PluginClient(const PluginClient&) = delete;
  PluginClient& operator=(const PluginClient&) = delete;

  Answer send(const std::string& method, const std::string& path,
              const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
              const std::string& content_type) override {
    std::vector<hostpulse_webhook_header> c_headers;
    c_headers.reserve(headers.size());
    for (const auto& [name, value] : headers) c_headers.push_back({name.c_str(), value.c_str()});
    char error[kErrorSize] = {};
    Answer answer;
    answer.status = abi_.send(client_, method.c_str(), path.c_str(), c_headers.data(), c_headers.size(), body.data(),
                              body.size(), content_type.c_str(), error, sizeof error);
    if (answer.status < 0) answer.error = error[0] != '\0' ? error : "no answer";
    return answer;
  }

  void stop() override { abi_.stop(client_); }

 private:
  PluginAbi abi_;  // the plugin is never unloaded, so these stay valid
  hostpulse_webhook_client* client_;
};

class PluginTransport final : public WebhookTransport {
 public:
  explicit PluginTransport(const PluginAbi& abi) : abi_(abi) {}

  std::unique_ptr<WebhookClient> connect(const std::string& scheme_host_port, std::chrono::milliseconds timeout,
                                         std::string& error) override {
    char message[kErrorSize] = {};
    hostpulse_webhook_client* client =
        abi_.create(scheme_host_port.c_str(), static_cast<long>(timeout.count()), message, sizeof message);
    if (client == nullptr) {
      error = message[0] != '\0' ? message : "cannot create the HTTP client";
      return nullptr;
    }
    return std::make_unique<PluginClient>(abi_, client);
  }

 private:
  PluginAbi abi_;
};

std::string dl_error() {
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown error";
}

}  // namespace

std::string webhook_plugin_path() {
  if (const char* configured = std::getenv(kWebhookPluginEnv); configured != nullptr && configured[0] != '\0') {
    return configured;
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::string("/usr/lib/hostpulse/") + std::filesystem::path(kPluginRelativePath).filename().string();
  return (self.parent_path() / kPluginRelativePath).lexically_normal().string();
}

WebhookPluginLoad load_webhook_plugin(const std::string& path) {
  WebhookPluginLoad result;
  result.path = path;
  const auto fail = [&](const std::string& why) {
    result.error = "cannot load the webhook HTTP client plugin " + path + ": " + why;
    return result;
  };
  ::dlerror();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return fail(dl_error());
  const auto symbol = [&](const char* name, std::string& missing) -> void* {
    ::dlerror();
    void* address = ::dlsym(handle, name);
    if (address == nullptr && missing.empty()) missing = std::string(name) + ": " + dl_error();
    return address;
  };
  std::string missing;
  auto* version = reinterpret_cast<decltype(&hostpulse_webhook_abi_version)>(symbol("hostpulse_webhook_abi_version", missing));
  PluginAbi abi;
  abi.create = reinterpret_cast<decltype(abi.create)>(symbol("hostpulse_webhook_client_create", missing));
  abi.send = reinterpret_cast<decltype(abi.send)>(symbol("hostpulse_webhook_client_send", missing));
  abi.stop = reinterpret_cast<decltype(abi.stop)>(symbol("hostpulse_webhook_client_stop", missing));
  abi.free = reinterpret_cast<decltype(abi.free)>(symbol("hostpulse_webhook_client_free", missing));
  if (!missing.empty()) {
    ::dlclose(handle);
    return fail("not a hostpulse webhook plugin (" + missing + ")");
  }
  if (const int found = version(); found != HOSTPULSE_WEBHOOK_ABI_VERSION) {
    ::dlclose(handle);
    return fail("plugin ABI version " + std::to_string(found) + ", this agent needs " +
                std::to_string(HOSTPULSE_WEBHOOK_ABI_VERSION) + " (install matching versions)");
  }
  // Deliberately never dlclose()d from here on (see the header).
  result.transport = std::make_shared<PluginTransport>(abi);
  return result;
}

}  // namespace hostpulse
