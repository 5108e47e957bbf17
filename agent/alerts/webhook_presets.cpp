#include "agent/alerts/webhook_presets.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "agent/alerts/webhook_template.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

struct Preset {
  std::string_view name;
  std::string_view method;
  bool json_body;
  std::string_view body;  // "<chat_id>" is replaced by the chat (telegram)
  std::array<std::pair<std::string_view, std::string_view>, 2> headers;  // empty names: none
};

// Each body is the shape its service documents for an incoming message.
constexpr std::array<Preset, 6> kPresets = {{
    // Slack incoming webhook: {"text": ...} (mrkdwn).
    {"slack", "POST", true, R"({"text":"*{{title}}*\n{{description}}"})", {}},
    // Discord webhook: {"content": ...} (markdown).
    {"discord", "POST", true, R"({"content":"**{{title}}**\n{{description}}"})", {}},
    // Telegram Bot API sendMessage: {"chat_id": ..., "text": ...}.
    {"telegram", "POST", true, R"({"chat_id":"<chat_id>","text":"{{title}}\n{{description}}"})", {}},
    // Matrix client-server API: PUT .../send/m.room.message/{txnId} with an m.text event.
    {"matrix", "PUT", true, R"({"msgtype":"m.text","body":"{{title}}\n{{description}}"})", {}},
    // ntfy: the body is the message; title and priority (1..5) are headers.
    {"ntfy", "POST", false, "{{description}}", {{{"Title", "{{title}}"}, {"Priority", "{{priority}}"}}}},
    // Gotify: POST /message {"title", "message", "priority" (a number)}.
    {"gotify", "POST", true, R"({"title":"{{title}}","message":"{{description}}","priority":{{gotify_priority}}})",
     {}},
}};

// Matrix room ids and Telegram chat ids are short; a kilobyte is not one.
constexpr std::size_t kMaxParameterBytes = 255;

Status check_parameter(std::string_view key, const std::string& value) {
  if (value.empty() || value.size() > kMaxParameterBytes) {
    return Status::failure(std::string(key) + ": must be 1 to " + std::to_string(kMaxParameterBytes) + " characters");
  }
  if (value.find_first_of("{}\"\\") != std::string::npos ||
      std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Status::failure(std::string(key) + ": " + quote(value) + " holds braces, quotes, backslashes or control characters");
  }
  return Status::success();
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace

std::string_view webhook_preset_names() { return "slack, discord, telegram, matrix, ntfy, gotify"; }

Status apply_webhook_preset(std::string_view preset_name, const WebhookPresetParameters& parameters, WebhookKeysSet set,
                            WebhookOptions& webhook) {
  if (preset_name.empty()) {
    if (!parameters.chat_id.empty()) return Status::failure("chat_id: only with preset = \"telegram\"");
    if (!parameters.room_id.empty()) return Status::failure("room_id: only with preset = \"matrix\"");
    return Status::success();
  }
  const auto found = std::find_if(kPresets.begin(), kPresets.end(), [&](const Preset& p) { return p.name == preset_name; });
  if (found == kPresets.end()) {
    return Status::failure("preset: unknown preset " + quote(preset_name) + " (use " + std::string(webhook_preset_names()) +
                           ")");
  }
  const Preset& preset = *found;
  const bool telegram = preset.name == "telegram";
  const bool matrix = preset.name == "matrix";
  if (!telegram && !parameters.chat_id.empty()) return Status::failure("chat_id: only with preset = \"telegram\"");
  if (!matrix && !parameters.room_id.empty()) return Status::failure("room_id: only with preset = \"matrix\"");
  if (telegram && !set.body) {
    if (parameters.chat_id.empty()) return Status::failure("chat_id: required by preset = \"telegram\"");
    if (Status status = check_parameter("chat_id", parameters.chat_id); !status.ok()) return status;
  }
  if (matrix) {
    if (parameters.room_id.empty()) return Status::failure("room_id: required by preset = \"matrix\" (e.g. \"!abc:example.org\")");
    if (Status status = check_parameter("room_id", parameters.room_id); !status.ok()) return status;
    // url is the homeserver; the room's send endpoint, with a transaction id
    // per notification, goes below it.
    std::string base = webhook.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string room_path;
    for (const char c : parameters.room_id) {
      const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '.' || c == '_' || c == '~';
      room_path += unreserved ? std::string(1, c)
                              : "%" + std::string(1, "0123456789ABCDEF"[static_cast<unsigned char>(c) >> 4]) +
                                    std::string(1, "0123456789ABCDEF"[static_cast<unsigned char>(c) & 15]);
    }
    webhook.url = base + "/_matrix/client/v3/rooms/" + room_path + "/send/m.room.message/{{txn_id}}";
  }
  if (!set.method) webhook.method = std::string(preset.method);
  if (!set.body) webhook.body = replace_once(std::string(preset.body), "<chat_id>", parameters.chat_id);
  if (!set.format) webhook.json_body = preset.json_body;
  for (const auto& preset_header : preset.headers) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const auto& name = preset_header.first;
    const auto& value = preset_header.second;
    if (name.empty()) continue;
    const bool overridden = std::any_of(webhook.headers.begin(), webhook.headers.end(), [&](const auto& header) {
      return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
    });
    if (!overridden) webhook.headers.emplace_back(name, value);
  }
  return Status::success();
}

Status check_webhook_templates(const WebhookOptions& webhook) {
  WebhookTemplate parsed;
  if (Status status = parse_webhook_template(webhook.url, parsed); !status.ok()) return Status::failure("url: " + status.error);
  for (const auto& [name, value] : webhook.headers) {
    if (Status status = parse_webhook_template(value, parsed); !status.ok()) {
      return Status::failure("headers." + name + ": " + status.error);
    }
  }
  if (Status status = parse_webhook_template(webhook.body, parsed); !status.ok()) return Status::failure("body: " + status.error);
  if (webhook.json_body && !webhook.body.empty()) {
    // Filled in with awkward values: quotes, backslashes, newlines and
    // "no data" for the value must all land inside strings.
    AlertEvent sample;
    sample.rule = "rule \"x\"";
    sample.instance = "a\\b";
    sample.to = AlertState::critical;
    sample.value = std::numeric_limits<double>::quiet_NaN();
    sample.threshold = "> 1";
    sample.description = "line one\nline \"two\"";
    const std::string body =
        render_webhook_template(parsed, template_fields(sample, "host", "txn-1"), TemplateEscaping::json);
    if (nlohmann::json::parse(body, nullptr, false).is_discarded()) {
      return Status::failure("body: not valid JSON once filled in (put fields inside strings, e.g. \"{{description}}\"; "
                             "set format = \"text\" for a plain body): " + escape_capped(body, 120));
    }
  }
  return Status::success();
}

std::string webhook_label(const WebhookOptions& webhook) {
  if (!webhook.name.empty()) return webhook.name;
  std::string base, path;
  if (http_url_problem(webhook.url, base, path).empty()) return base + (path == "/" ? "/" : "/...");
  return "webhook";
}

}  // namespace hostpulse
