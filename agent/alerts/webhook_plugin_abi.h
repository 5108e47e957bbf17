/* The C ABI between the agent and its webhook HTTP client plugin
 * (libhostpulse-webhook.so, built from webhook_http_plugin.cpp).
 *
 * The agent itself links no HTTP client library: cpp-httplib and OpenSSL
 * live in the plugin, which the agent dlopen()s only when webhooks are
 * configured (see webhook_plugin.hpp). Plain C so that nothing C++
 * (exceptions, std::string layout, allocators) crosses the boundary.
 *
 * Bump HOSTPULSE_WEBHOOK_ABI_VERSION on any change to these declarations:
 * the agent refuses a plugin that reports another version. */
#ifndef HOSTPULSE_WEBHOOK_PLUGIN_ABI_H
#define HOSTPULSE_WEBHOOK_PLUGIN_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOSTPULSE_WEBHOOK_ABI_VERSION 2

typedef struct hostpulse_webhook_client hostpulse_webhook_client;

typedef struct hostpulse_webhook_header {
  const char* name;
  const char* value;
} hostpulse_webhook_header;

/* HOSTPULSE_WEBHOOK_ABI_VERSION of the plugin. */
int hostpulse_webhook_abi_version(void);

/* A client for "http://host[:port]" or "https://host[:port]"; timeout_ms
 * applies to connect, write and read each. NULL on failure, with a message in
 * error (always NUL-terminated when error_size > 0). */
hostpulse_webhook_client* hostpulse_webhook_client_create(const char* scheme_host_port, long timeout_ms, char* error,
                                                          size_t error_size);

/* Sends body to path with method ("POST" or "PUT"), the headers and the
 * content type. Returns the HTTP status (100..599), or -1 when no answer was
 * received (or the method is neither), with the reason in error. Blocks until
 * the answer, the timeout or hostpulse_webhook_client_stop. */
int hostpulse_webhook_client_send(hostpulse_webhook_client* client, const char* method, const char* path,
                                  const hostpulse_webhook_header* headers, size_t header_count, const char* body,
                                  size_t body_size, const char* content_type, char* error, size_t error_size);

/* Cuts a request in flight on client short (from another thread): the
 * pending post returns -1 soon after. The client stays valid until freed. */
void hostpulse_webhook_client_stop(hostpulse_webhook_client* client);

/* Frees a client created above (NULL is ignored). No post may be running. */
void hostpulse_webhook_client_free(hostpulse_webhook_client* client);

#ifdef __cplusplus
}
#endif

#endif
