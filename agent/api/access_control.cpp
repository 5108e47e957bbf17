#include "agent/api/access_control.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include <boost/asio/ip/address.hpp>

#include "base/bounded_file.hpp"

namespace hostpulse {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

// Calls f(item) for each comma-separated item, trimmed.
template <typename F>
void for_each_item(std::string_view list, char separator, F&& f) {
  while (!list.empty()) {
    const auto comma = list.find(separator);
    f(trim(list.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

std::string cookie_value(std::string_view cookie_header, std::string_view name) {
  std::string value;
  for_each_item(cookie_header, ';', [&](std::string_view item) {
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=') {
      value = std::string(item.substr(name.size() + 1));
    }
  });
  return value;
}

// "http://host:port" -> "host:port" (the scheme's default port is left implicit).
std::string_view origin_authority(std::string_view origin) {
  const auto scheme_end = origin.find("://");
  return scheme_end == std::string_view::npos ? origin : origin.substr(scheme_end + 3);
}

std::string lowercase(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<std::string> host_name_of(std::string_view host_header) {
  std::string_view name = host_header;
  if (!name.empty() && name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1)))) return std::nullopt;
    name = name.substr(1, close - 1);
    if (!has_only_address_literal_characters(name)) return std::nullopt;
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(name), ec);
    if (ec) return std::nullopt;
    return lowercase(name);
  }
  const auto colon = name.find(':');
  if (colon != std::string_view::npos) {
    if (!all_digits(name.substr(colon + 1))) return std::nullopt;
    name = name.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  // No empty labels: "a..b", ".a" and "a.." name nothing.
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '.' || c == '_';
    if (!allowed) return std::nullopt;
  }
  return lowercase(name);
}

bool has_only_address_literal_characters(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
  });
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Length is not secret (tokens have a known format); contents are.
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

Status read_token_file(const std::string& path, std::string& token) {
  std::string text;
  if (Status status = read_bounded_file(path, kMaxTokenFileBytes, text); !status.ok()) {
    return Status::failure("token_file: " + status.error);
  }
  const std::string_view trimmed = trim(std::string_view(text).substr(0, text.find('\n')));
  if (trimmed.size() < 16) return Status::failure("token_file: '" + path + "': token must be at least 16 characters");
  // The token travels as "bearer.<token>" in Sec-WebSocket-Protocol, whose
  // values must be HTTP tokens (RFC 7230): letters, digits and !#$%&'*+-.^_`|~
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  for (char c : trimmed) {
    const bool alphanumeric = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alphanumeric && kExtra.find(c) == std::string_view::npos) {
      return Status::failure("token_file: '" + path +
                             "': token may contain only letters, digits and !#$%&'*+-.^_`|~ "
                             "(e.g. generate one with: head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')");
    }
  }
  token = std::string(trimmed);
  return Status::success();
}

bool is_loopback_address(std::string_view address) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  return !ec && parsed.is_loopback();
}

AccessControl::AccessControl(std::string token, std::vector<std::string> allowed_origins,
                             std::vector<std::string> allowed_hosts)
    : token_(std::move(token)), allowed_origins_(std::move(allowed_origins)) {
  for (const std::string& host : allowed_hosts) {
    if (host == "*") {
      any_host_ = true;
    } else if (auto name = host_name_of(host)) {
      allowed_hosts_.push_back(std::move(*name));
    }
  }
}

bool AccessControl::host_allowed(const RequestCredentials& credentials) const {
  // No Host at all: not a browser (the HTTP layer requires one on HTTP/1.1).
  if (credentials.host.empty() || any_host_) return true;
  const std::optional<std::string> name = host_name_of(credentials.host);
  if (!name) return false;
  // An IP literal cannot be rebound: a rebinding page always names its own domain.
  boost::system::error_code ec;
  boost::asio::ip::make_address(*name, ec);
  if (!ec) return true;
  // localhost and *.localhost resolve to loopback by definition (RFC 6761).
  if (*name == "localhost" || (name->size() > 10 && name->ends_with(".localhost"))) return true;
  return std::find(allowed_hosts_.begin(), allowed_hosts_.end(), *name) != allowed_hosts_.end();
}

bool AccessControl::authorized(const RequestCredentials& credentials) const {
  if (!token_required()) return true;
  const std::string_view authorization = trim(credentials.authorization);
  if (iequals_prefix(authorization, "Bearer ") && constant_time_equals(trim(authorization.substr(7)), token_)) {
    return true;
  }
  bool by_protocol = false;
  for_each_item(credentials.protocols, ',', [&](std::string_view item) {
    if (item.substr(0, kBearerSubprotocolPrefix.size()) == kBearerSubprotocolPrefix &&
        constant_time_equals(item.substr(kBearerSubprotocolPrefix.size()), token_)) {
      by_protocol = true;
    }
  });
  return by_protocol || valid_session(credentials.cookie);
}

bool AccessControl::origin_allowed(const RequestCredentials& credentials) const {
  if (credentials.origin.empty()) return true;
  // The agent's own pages (same host:port) always; others only when listed.
  if (!credentials.host.empty() && origin_authority(credentials.origin) == credentials.host) return true;
  return std::any_of(allowed_origins_.begin(), allowed_origins_.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == credentials.origin; });
}

bool AccessControl::offers_stream_subprotocol(std::string_view protocols) {
  bool offered = false;
  for_each_item(protocols, ',', [&](std::string_view item) { offered = offered || item == kStreamSubprotocol; });
  return offered;
}

std::optional<std::string> AccessControl::login(std::string_view token) {
  if (!token_required() || !constant_time_equals(trim(token), token_)) return std::nullopt;
  std::random_device random;  // the kernel's CSPRNG on Linux
  std::string id;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) {
    const unsigned value = random();
    id.push_back(kHex[value & 15]);
    id.push_back(kHex[(value >> 4) & 15]);
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const auto& entry) { return entry.second <= now; });
  if (sessions_.size() >= kMaxSessions) {
    const auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
    sessions_.erase(oldest);
  }
  sessions_[id] = now + kSessionLifetime;
  return id;
}

void AccessControl::logout(std::string_view cookie_header) {
  const std::string id = cookie_value(cookie_header, kSessionCookieName);
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

bool AccessControl::valid_session(std::string_view cookie_header) const {
  if (cookie_header.empty()) return false;
  const std::string id = cookie_value(cookie_header, kSessionCookieName);
  if (id.empty()) return false;
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(id);
  return it != sessions_.end() && it->second > std::chrono::steady_clock::now();
}

}  // namespace hostpulse
