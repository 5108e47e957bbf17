#include "agent/api/url.hpp"

#include "base/quote.hpp"
#include "base/utf8.hpp"

namespace hostpulse {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status decode(std::string_view text, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return Status::failure("truncated %-escape");
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return Status::failure("bad %-escape " + quote(text.substr(i, 3)));
      c = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return Status::failure("NUL byte in URL");
    out.push_back(c);
  }
  // Names and values end up in JSON replies and logs, which need UTF-8.
  if (const auto bad = find_invalid_utf8(out)) {
    return Status::failure("invalid UTF-8 after decoding, at byte " + std::to_string(bad->offset) + ": " + bad->reason);
  }
  return Status::success();
}

}  // namespace

const std::string* RequestTarget::parameter(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

Status parse_request_target(std::string_view target, RequestTarget& out) {
  out = RequestTarget{};
  if (target.empty() || target.front() != '/') return Status::failure("request target must start with '/'");
  const auto question = target.find('?');
  Status status = decode(target.substr(0, question), false, out.path);
  if (!status.ok()) return Status::failure("path: " + status.error);
  if (question == std::string_view::npos) return Status::success();

  std::string_view query = target.substr(question + 1);
  const auto fragment = query.find('#');
  if (fragment != std::string_view::npos) query = query.substr(0, fragment);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (out.query.size() == kMaxQueryParameters) {
      return Status::failure("more than " + std::to_string(kMaxQueryParameters) + " query parameters");
    }
    const auto equals = pair.find('=');
    std::string key, value;
    status = decode(pair.substr(0, equals), true, key);
    if (status.ok() && equals != std::string_view::npos) status = decode(pair.substr(equals + 1), true, value);
    if (!status.ok()) return Status::failure("query: " + status.error);
    if (out.parameter(key) != nullptr) return Status::failure("query parameter " + quote(key) + " given twice");
    out.query.emplace_back(std::move(key), std::move(value));
  }
  return Status::success();
}

}  // namespace hostpulse
