// libhostpulse-webhook.so: cpp-httplib's client behind the C ABI of
// webhook_plugin_abi.h. The only translation unit that includes httplib.h in
// the agent; loaded with dlopen() when webhooks are configured, so an agent
// without webhooks never maps cpp-httplib, OpenSSL, zlib or brotli.
//
// Built with -fvisibility=hidden: the functions below are the plugin's only
// exported symbols. No exception leaves them.

#include "agent/alerts/webhook_plugin_abi.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include <httplib.h>

#define HOSTPULSE_WEBHOOK_EXPORT extern "C" __attribute__((visibility("default")))

struct hostpulse_webhook_client {
  explicit hostpulse_webhook_client(const std::string& scheme_host_port) : http(scheme_host_port) {}
  httplib::Client http;
};

namespace {

void set_error(char* error, std::size_t error_size, const std::string& text) {
  if (error == nullptr || error_size == 0) return;
  std::snprintf(error, error_size, "%s", text.c_str());
}

}  // namespace

HOSTPULSE_WEBHOOK_EXPORT int hostpulse_webhook_abi_version(void) { return HOSTPULSE_WEBHOOK_ABI_VERSION; }

HOSTPULSE_WEBHOOK_EXPORT hostpulse_webhook_client* hostpulse_webhook_client_create(const char* scheme_host_port,
                                                                                   long timeout_ms, char* error,
                                                                                   std::size_t error_size) {
  try {
    auto client = std::make_unique<hostpulse_webhook_client>(scheme_host_port);
    if (!client->http.is_valid()) {
      set_error(error, error_size, std::string("cannot create an HTTP client for '") + scheme_host_port + "'");
      return nullptr;
    }
    const std::chrono::milliseconds timeout(timeout_ms);
    client->http.set_connection_timeout(timeout);
    client->http.set_read_timeout(timeout);
    client->http.set_write_timeout(timeout);
    return client.release();
  } catch (const std::exception& e) {
    set_error(error, error_size, e.what());
  } catch (...) {
    set_error(error, error_size, "unknown error creating the HTTP client");
  }
  return nullptr;
}

HOSTPULSE_WEBHOOK_EXPORT int hostpulse_webhook_client_send(hostpulse_webhook_client* client, const char* method,
                                                           const char* path, const hostpulse_webhook_header* headers,
                                                           std::size_t header_count, const char* body,
                                                           std::size_t body_size, const char* content_type,
                                                           char* error, std::size_t error_size) {
  try {
    httplib::Headers http_headers;
    for (std::size_t i = 0; i < header_count; ++i) http_headers.emplace(headers[i].name, headers[i].value);
    const std::string verb = method;
    if (verb != "POST" && verb != "PUT") {
      set_error(error, error_size, "unsupported method '" + verb + "' (POST or PUT)");
      return -1;
    }
    const httplib::Result result = verb == "PUT" ? client->http.Put(path, http_headers, body, body_size, content_type)
                                                 : client->http.Post(path, http_headers, body, body_size, content_type);
    if (!result) {
      set_error(error, error_size, httplib::to_string(result.error()));
      return -1;
    }
    return result->status;
  } catch (const std::exception& e) {
    set_error(error, error_size, e.what());
  } catch (...) {
    set_error(error, error_size, "unknown error");
  }
  return -1;
}

HOSTPULSE_WEBHOOK_EXPORT void hostpulse_webhook_client_stop(hostpulse_webhook_client* client) {
  if (client != nullptr) client->http.stop();
}

HOSTPULSE_WEBHOOK_EXPORT void hostpulse_webhook_client_free(hostpulse_webhook_client* client) { delete client; }
