#include "agent/pipeline/series_name.hpp"

namespace hostpulse {
namespace {

bool kept_as_is(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '/' || c == ':' || c == '@' || c == '+';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical: one spelling per name
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char raw : value) {
    const auto c = static_cast<unsigned char>(raw);
    if (kept_as_is(c)) {
      out.push_back(raw);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Status unescape_label_value(std::string_view text, std::string& value) {
  value.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      if (!kept_as_is(static_cast<unsigned char>(c))) {
        return Status::failure("byte " + std::to_string(i) + " must be escaped as %XX");
      }
      value.push_back(c);
      continue;
    }
    if (i + 2 >= text.size()) return Status::failure("truncated escape at byte " + std::to_string(i));
    const int h = hex_value(text[i + 1]);
    const int l = hex_value(text[i + 2]);
    if (h < 0 || l < 0) return Status::failure("bad escape at byte " + std::to_string(i) + " (expected %XX, upper-case hex)");
    value.push_back(static_cast<char>(h * 16 + l));
    i += 2;
  }
  return Status::success();
}

Status parse_series_template(std::string_view name, SeriesTemplate& out) {
  out = SeriesTemplate{.prefix = name, .label = {}, .suffix = {}};
  const std::size_t open = name.find('{');
  if (open == std::string_view::npos) {
    if (name.find('}') != std::string_view::npos) return Status::failure("'}' without '{' in " + std::string(name));
    return Status::success();
  }
  const std::size_t close = name.find('}', open);
  if (close == std::string_view::npos) return Status::failure("unclosed placeholder in " + std::string(name));
  if (name.find('{', open + 1) != std::string_view::npos || name.find('}', close + 1) != std::string_view::npos) {
    return Status::failure("more than one placeholder in " + std::string(name));
  }
  const std::string_view label = name.substr(open + 1, close - open - 1);
  if (label.empty()) return Status::failure("empty placeholder in " + std::string(name));
  const bool starts_part = open == 0 || name[open - 1] == '.';
  const bool ends_part = close + 1 == name.size() || name[close + 1] == '.';
  if (!starts_part || !ends_part || name.size() == close - open + 1) {
    return Status::failure("placeholder must be a whole dotted part of " + std::string(name));
  }
  out.prefix = name.substr(0, open);
  out.label = label;
  out.suffix = name.substr(close + 1);
  return Status::success();
}

std::string series_family(const SeriesTemplate& parts) {
  if (!parts.per_entity()) return std::string(parts.prefix);
  // Drop the placeholder and one of the dots around it.
  std::string_view prefix = parts.prefix;
  std::string_view suffix = parts.suffix;
  if (!prefix.empty()) {
    prefix.remove_suffix(1);
  } else if (!suffix.empty()) {
    suffix.remove_prefix(1);
  }
  return std::string(prefix) + std::string(suffix);
}

std::string series_name(const SeriesTemplate& parts, std::string_view label_value) {
  if (!parts.per_entity()) return std::string(parts.prefix);
  return std::string(parts.prefix) + escape_label_value(label_value) + std::string(parts.suffix);
}

}  // namespace hostpulse
