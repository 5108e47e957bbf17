// The webhook HTTP client plugin as the agent loads it: where it is looked
// for (next to the binary, or $HOSTPULSE_WEBHOOK_PLUGIN), the errors when it
// cannot be loaded (path and dlerror(), not a plugin), and a request through
// the loaded plugin to a real receiver. HOSTPULSE_WEBHOOK_PLUGIN_FILE is the
// built plugin; this test binary lives in <build>/tests, so the path relative
// to it is the built one too.

#include "agent/alerts/webhook_plugin.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/http_receiver.hpp"

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Sets an environment variable for one test, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
};

TEST(WebhookPlugin, DefaultPathIsLibHostpulseNextToTheBinary) {
  ScopedEnv unset(kWebhookPluginEnv, nullptr);
  const std::string path = webhook_plugin_path();
  const fs::path self = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(fs::path(path), (self.parent_path() / "../lib/hostpulse/libhostpulse-webhook.so").lexically_normal());
  // In the build tree that is where the plugin is built.
  EXPECT_TRUE(fs::equivalent(path, HOSTPULSE_WEBHOOK_PLUGIN_FILE)) << path;
}

TEST(WebhookPlugin, EnvironmentVariableOverridesThePath) {
  ScopedEnv set(kWebhookPluginEnv, "/opt/elsewhere/plugin.so");
  EXPECT_EQ(webhook_plugin_path(), "/opt/elsewhere/plugin.so");
  ScopedEnv empty(kWebhookPluginEnv, "");
  EXPECT_TRUE(contains(webhook_plugin_path(), "lib/hostpulse/libhostpulse-webhook.so")) << "empty means unset";
}

TEST(WebhookPlugin, MissingFileIsAnErrorNamingThePathAndTheReason) {
  const WebhookPluginLoad load = load_webhook_plugin("/nonexistent/hostpulse/libhostpulse-webhook.so");
  EXPECT_FALSE(load.transport);
  EXPECT_TRUE(contains(load.error, "cannot load the webhook HTTP client plugin /nonexistent/hostpulse/libhostpulse-webhook.so"))
      << load.error;
  EXPECT_TRUE(contains(load.error, "No such file or directory")) << "dlerror() is part of the message: " << load.error;
}

TEST(WebhookPlugin, ALibraryWithoutTheAbiIsRefused) {
  const WebhookPluginLoad load = load_webhook_plugin("libm.so.6");
  EXPECT_FALSE(load.transport);
  EXPECT_TRUE(contains(load.error, "not a hostpulse webhook plugin (hostpulse_webhook_abi_version")) << load.error;
}

TEST(WebhookPlugin, PostsThroughTheLoadedPlugin) {
  const WebhookPluginLoad load = load_webhook_plugin(HOSTPULSE_WEBHOOK_PLUGIN_FILE);
  ASSERT_TRUE(load.transport) << load.error;
  testing_support::Receiver receiver;
  receiver.set_status(202);
  const std::string base = receiver.url("");  // http://127.0.0.1:PORT
  std::string error;
  auto client = load.transport->connect(base, 2s, error);
  ASSERT_TRUE(client) << error;
  const WebhookClient::Answer answer =
      client->post("/hook", {{"X-Team", "db"}}, R"({"to":"warning"})", "application/json");
  EXPECT_EQ(answer.status, 202) << answer.error;
  const auto got = receiver.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/hook");
  EXPECT_EQ(got[0].custom_header, "db");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].body, R"({"to":"warning"})");
}

TEST(WebhookPlugin, NoAnswerIsAnErrorWithAReason) {
  const WebhookPluginLoad load = load_webhook_plugin(HOSTPULSE_WEBHOOK_PLUGIN_FILE);
  ASSERT_TRUE(load.transport) << load.error;
  std::string base;
  {
    testing_support::Receiver closed;  // a port that was just free; nothing listens there afterwards
    base = closed.url("");
  }
  std::string error;
  auto client = load.transport->connect(base, 2s, error);
  ASSERT_TRUE(client) << error;
  const WebhookClient::Answer answer = client->post("/", {}, "{}", "application/json");
  EXPECT_EQ(answer.status, -1);
  EXPECT_FALSE(answer.error.empty());
}

}  // namespace
}  // namespace hostpulse
