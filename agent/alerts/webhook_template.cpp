#include "agent/alerts/webhook_template.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agent/alerts/alertmanager_alert.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

// Field names are short words; a longer "name" is not a field, and the
// message quoting it stays short.
constexpr std::size_t kMaxShownFieldBytes = 40;

std::string_view status_of(const AlertEvent& event) {
  if (event.to == AlertState::warning || event.to == AlertState::critical) return "firing";
  if (event.to == AlertState::nodata) return "nodata";
  return "resolved";
}

std::string format_value(double value) {
  if (!std::isfinite(value)) return "no data";
  std::string text = fmt::format("{:.2f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
  return result;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

void append_escaped(std::string& out, std::string_view value, TemplateEscaping escaping) {
  switch (escaping) {
    case TemplateEscaping::text:
      out += value;
      return;
    case TemplateEscaping::json:
      out += json_string_contents(value);
      return;
    case TemplateEscaping::header:
      for (const char c : value) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
      return;
    case TemplateEscaping::url:
      for (const char c : value) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
          out += c;
        } else {
          out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
      }
      return;
  }
}

}  // namespace

TemplateFields template_fields(const AlertEvent& event, const std::string& host, const std::string& txn_id) {
  const std::string_view status = status_of(event);
  const bool resolved = status == "resolved";
  std::string priority = "2", gotify_priority = "2";
  if (event.to == AlertState::critical) {
    priority = "5";
    gotify_priority = "8";
  } else if (event.to == AlertState::warning) {
    priority = "4";
    gotify_priority = "5";
  } else if (event.to == AlertState::nodata) {
    priority = "3";
    gotify_priority = "5";
  }
  const std::string level(state_name(resolved ? event.from : event.to));
  return TemplateFields{
      event.rule,
      event.instance,
      host,
      std::string(state_name(event.from)),
      std::string(state_name(event.to)),
      std::string(status),
      event.severity,
      format_value(event.value),
      event.threshold,
      event.description,
      event.summary,
      event.summary.empty() ? "[" + upper(status) + "] " + event.rule + " on " + event.instance + " (" + level + ")"
                            : event.summary,
      std::to_string(event.t_ms),
      format_rfc3339_ms(event.t_ms),
      std::to_string(event.incident_ms),
      event.reason,
      txn_id,
      priority,
      gotify_priority,
  };
}

Status parse_webhook_template(std::string_view text, WebhookTemplate& out) {
  WebhookTemplate parsed;
  std::string literal;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string_view::npos) {
      literal += text.substr(at);
      break;
    }
    literal += text.substr(at, open - at);
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::failure("'{{' at byte " + std::to_string(open) + " is not closed with '}}'");
    }
    const std::string_view name = trim(text.substr(open + 2, close - open - 2));
    const auto found = std::find(kTemplateFieldNames.begin(), kTemplateFieldNames.end(), name);
    if (found == kTemplateFieldNames.end()) {
      std::string known;
      for (const std::string_view field : kTemplateFieldNames) known += (known.empty() ? "" : ", ") + std::string(field);
      return Status::failure("unknown field " + quote(name, kMaxShownFieldBytes) + " at byte " + std::to_string(open) +
                             " (fields: " + known + ")");
    }
    parsed.pieces.push_back(WebhookTemplate::Piece{
        .literal = std::move(literal), .field = static_cast<int>(found - kTemplateFieldNames.begin())});
    literal.clear();
    at = close + 2;
  }
  parsed.pieces.push_back(WebhookTemplate::Piece{.literal = std::move(literal), .field = -1});
  out = std::move(parsed);
  return Status::success();
}

std::string render_webhook_template(const WebhookTemplate& parsed, const TemplateFields& fields,
                                    TemplateEscaping escaping) {
  std::string out;
  for (const WebhookTemplate::Piece& piece : parsed.pieces) {
    out += piece.literal;
    if (piece.field >= 0) append_escaped(out, fields[static_cast<std::size_t>(piece.field)], escaping);
  }
  return out;
}

std::string json_string_contents(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out += fmt::format("\\u{:04x}", byte);
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace hostpulse
