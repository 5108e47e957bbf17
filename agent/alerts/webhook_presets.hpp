#pragma once

// Ready-made request shapes for chat and push services, as each documents
// its incoming-message API, and the check every webhook's templates pass
// before the agent accepts them.

#include <string>
#include <string_view>

#include "agent/alerts/webhook_notifier.hpp"
#include "base/status.hpp"

namespace hostpulse {

// What a preset needs beyond the URL: Telegram's chat, Matrix's room.
struct WebhookPresetParameters {
  std::string chat_id;  // telegram
  std::string room_id;  // matrix, e.g. "!abc:example.org"
};

// The presets' names: slack, discord, telegram, matrix, ntfy, gotify.
std::string_view webhook_preset_names();

// Fills method, body, json_body, headers and (for matrix) the URL's path in
// from the preset, keeping what the table set itself (a body or a header of
// the same name wins). Errors: an unknown preset, a missing or odd
// parameter, a parameter given without its preset.
// Which of the keys a preset sets the table had itself.
struct WebhookKeysSet {
  bool body = false;
  bool method = false;
  bool format = false;
};
Status apply_webhook_preset(std::string_view preset, const WebhookPresetParameters& parameters, WebhookKeysSet set,
                            WebhookOptions& webhook);

// Every template of the webhook parses (known fields, closed braces), and a
// JSON body is valid JSON once filled in. The error names the part
// ("body: unknown field 'sevrity' at byte 12 (fields: ...)").
Status check_webhook_templates(const WebhookOptions& webhook);

// How a webhook is named in logs and messages: its name, else the URL's
// scheme and host only (Slack, Discord and Telegram URLs carry their secret
// in the path).
std::string webhook_label(const WebhookOptions& webhook);

}  // namespace hostpulse
