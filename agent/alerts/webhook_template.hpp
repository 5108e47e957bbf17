#pragma once

// Webhook templates: text with {{field}} placeholders replaced by an alert's
// fields, nothing else. No expressions, conditions, loops or includes: a
// template can only place the fields below, escaped for where they land.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/alerts/alert_instance.hpp"
#include "base/status.hpp"

namespace hostpulse {

// Every field a template may name, in the order of TemplateFields.
inline constexpr std::array<std::string_view, 19> kTemplateFieldNames = {
    "rule",        "instance", "host",      "from",          "to",       "status",   "severity",
    "value",       "threshold", "description", "summary",    "title",    "t",        "time",
    "incident_ms", "reason",   "txn_id",    "priority",      "gotify_priority"};

// The values of one notification, indexed like kTemplateFieldNames.
using TemplateFields = std::array<std::string, kTemplateFieldNames.size()>;

// status: "firing" (warning, critical), "nodata" or "resolved".
// title: the rule's summary, else "<STATUS> <rule> on <instance>".
// value: as in descriptions ("no data" without one); t: the event's time in
// ms; time: the same in RFC 3339; txn_id: unique per notification (Matrix
// deduplicates a retried PUT by it); priority: ntfy's 1..5 (critical 5,
// warning 4, nodata 3, resolved 2); gotify_priority: Gotify's 0..10
// (critical 8, warning and nodata 5, resolved 2).
TemplateFields template_fields(const AlertEvent& event, const std::string& host, const std::string& txn_id);

// How a substituted value is written.
enum class TemplateEscaping : std::uint8_t {
  json,    // inside a JSON string: quotes, backslashes, control characters escaped
  text,    // as it is
  header,  // as it is, control characters (CR, LF, ...) as spaces: one header line
  url,     // percent-encoded except unreserved characters (RFC 3986)
};

// A parsed template: literals and fields, alternating.
struct WebhookTemplate {
  struct Piece {
    std::string literal;  // before the field
    int field = -1;       // index into TemplateFields; -1: the last piece, literal only
  };
  std::vector<Piece> pieces;
};

// Parses text; an unknown field or "{{" without "}}" is an error naming it
// and its position ("unknown field 'sevrity' at byte 12 (fields: rule, ...)").
// Spaces inside the braces are allowed ("{{ rule }}").
Status parse_webhook_template(std::string_view text, WebhookTemplate& out);

std::string render_webhook_template(const WebhookTemplate& parsed, const TemplateFields& fields,
                                    TemplateEscaping escaping);

// The contents of a JSON string for text (no surrounding quotes).
std::string json_string_contents(std::string_view text);

}  // namespace hostpulse
