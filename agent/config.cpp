#include "agent/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include <boost/asio/ip/address.hpp>
#include <toml.hpp>

#include "agent/duration.hpp"
#include "agent/log.hpp"
#include "agent/net/access_control.hpp"

namespace hostpulse {

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Status parse_listen_address(std::string_view text, ListenAddress& out) {
  const auto fail = [&](std::string_view why) {
    return Status::failure("invalid listen address '" + std::string(text) + "': " + std::string(why) +
                           " (expected ADDR:PORT, e.g. 127.0.0.1:9870 or [::1]:9870)");
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("missing ':PORT'");
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':PORT'");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses go in brackets");
  }
  if (host.empty()) return fail("missing address");
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("port must be a number from 0 to 65535");
  }
  std::string host_string(host);
  if (host_string == "localhost") {
    host_string = "127.0.0.1";
  } else {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host_string, ec);
    if (ec) return fail("address must be an IP literal or localhost");
    host_string = address.to_string();
  }
  out.host = std::move(host_string);
  out.port = static_cast<std::uint16_t>(port);
  return Status::success();
}

Status validate_interval(std::chrono::milliseconds interval) {
  if (interval < kMinInterval || interval > kMaxInterval) {
    return Status::failure("must be between " + format_duration(kMinInterval) + " and " +
                           format_duration(kMaxInterval) + " (got " + format_duration(interval) + ")");
  }
  return Status::success();
}

namespace {

// Walks one TOML table, turning every problem into "file:line: key: message".
class TableReader {
 public:
  TableReader(const toml::value& table, std::string source, std::string prefix)
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  Status error_at(const toml::value& value, const std::string& key, const std::string& message) const {
    const auto line = value.location().line();
    std::string text = source_;
    if (line > 0) text += ":" + std::to_string(line);
    return Status::failure(text + ": " + prefix_ + key + ": " + message);
  }

  // Applies handler(value) to each key; unknown keys are errors.
  using Handler = std::function<Status(const toml::value&, const std::string& key)>;
  Status each(const std::vector<std::pair<std::string_view, Handler>>& handlers) const {
    // Report problems in file order, not hash order.
    std::vector<std::pair<const std::string*, const toml::value*>> entries;
    for (const auto& [key, value] : table_.as_table()) entries.emplace_back(&key, &value);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.second->location().line() < b.second->location().line();
    });
    for (const auto& [key_pointer, value_pointer] : entries) {
      const std::string& key = *key_pointer;
      const toml::value& value = *value_pointer;
      const Handler* handler = nullptr;
      for (const auto& [name, candidate] : handlers) {
        if (name == key) handler = &candidate;
      }
      if (handler == nullptr) {
        std::string known;
        for (const auto& [name, candidate] : handlers) known += (known.empty() ? "" : ", ") + std::string(name);
        return error_at(value, key, "unknown key (known keys: " + known + ")");
      }
      Status status = (*handler)(value, key);
      if (!status.ok()) return status;
    }
    return Status::success();
  }

  Status read_string(const toml::value& value, const std::string& key, std::string& out) const {
    if (!value.is_string()) return error_at(value, key, "expected a string");
    out = value.as_string().str;
    return Status::success();
  }

  Status read_integer(const toml::value& value, const std::string& key, std::int64_t min, std::int64_t max,
                      std::int64_t& out) const {
    if (!value.is_integer()) return error_at(value, key, "expected an integer");
    const std::int64_t number = value.as_integer();
    if (number < min || number > max) {
      return error_at(value, key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                      " (got " + std::to_string(number) + ")");
    }
    out = number;
    return Status::success();
  }

  // A duration is a string like "30s" or an integer number of milliseconds.
  Status read_duration(const toml::value& value, const std::string& key, std::chrono::milliseconds min,
                       std::chrono::milliseconds max, std::chrono::milliseconds& out) const {
    std::chrono::milliseconds parsed{};
    if (value.is_integer()) {
      parsed = std::chrono::milliseconds(value.as_integer());
    } else if (value.is_string()) {
      Status status = parse_duration(value.as_string().str, parsed);
      if (!status.ok()) return error_at(value, key, status.error);
    } else {
      return error_at(value, key, "expected a duration such as \"1s\" or an integer of milliseconds");
    }
    if (parsed < min || parsed > max) {
      return error_at(value, key, "must be between " + format_duration(min) + " and " + format_duration(max) +
                                      " (got " + format_duration(parsed) + ")");
    }
    out = parsed;
    return Status::success();
  }

 private:
  const toml::value& table_;
  std::string source_;
  std::string prefix_;
};

Status apply_http(const toml::value& table, const std::string& source, HttpOptions& http) {
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "http", "expected a table");
  const TableReader reader(table, source, "http.");
  std::int64_t number = 0;
  return reader.each({
      {"header_limit_bytes",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, 1024, 1 << 20, number);
         if (s.ok()) http.header_limit_bytes = static_cast<std::size_t>(number);
         return s;
       }},
      {"body_limit_bytes",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, 0, 16 << 20, number);
         if (s.ok()) http.body_limit_bytes = static_cast<std::size_t>(number);
         return s;
       }},
      {"request_timeout",
       [&](const toml::value& v, const std::string& k) {
         return reader.read_duration(v, k, std::chrono::milliseconds(100), std::chrono::minutes(10), http.request_timeout);
       }},
      {"idle_timeout",
       [&](const toml::value& v, const std::string& k) {
         return reader.read_duration(v, k, std::chrono::milliseconds(100), std::chrono::hours(1), http.idle_timeout);
       }},
      {"max_connections",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, 1, 1'000'000, number);
         if (s.ok()) http.max_connections = static_cast<std::size_t>(number);
         return s;
       }},
  });
}

Status apply_stream(const toml::value& table, const std::string& source, StreamOptions& stream) {
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "stream", "expected a table");
  const TableReader reader(table, source, "stream.");
  std::int64_t number = 0;
  const auto size = [&](std::size_t& field, std::int64_t min, std::int64_t max) {
    return [&field, &reader, &number, min, max](const toml::value& v, const std::string& k) {
      Status s = reader.read_integer(v, k, min, max, number);
      if (s.ok()) field = static_cast<std::size_t>(number);
      return s;
    };
  };
  const auto duration = [&](std::chrono::milliseconds& field, std::chrono::milliseconds min, std::chrono::milliseconds max) {
    return [&field, &reader, min, max](const toml::value& v, const std::string& k) {
      return reader.read_duration(v, k, min, max, field);
    };
  };
  std::size_t messages_per_second = stream.max_messages_per_second;
  std::size_t max_errors = stream.max_errors;
  Status status = reader.each({
      {"max_connections", size(stream.max_connections, 1, 1'000'000)},
      {"max_connections_per_ip", size(stream.max_connections_per_ip, 1, 1'000'000)},
      {"max_message_bytes", size(stream.max_message_bytes, 256, 16 << 20)},
      {"max_messages_per_second", size(messages_per_second, 1, 10'000)},
      {"max_subscriptions", size(stream.max_subscriptions, 1, 1'000)},
      {"max_errors", size(max_errors, 1, 1'000'000)},
      {"handshake_timeout", duration(stream.handshake_timeout, std::chrono::milliseconds(100), std::chrono::minutes(5))},
      {"ping_interval", duration(stream.ping_interval, std::chrono::milliseconds(100), std::chrono::hours(1))},
      {"max_queue_bytes", size(stream.max_queue_bytes, 64 * 1024, std::int64_t{1} << 30)},
      {"max_lag_bytes", size(stream.max_lag_bytes, 1024, std::int64_t{1} << 30)},
      {"socket_send_buffer_bytes", size(stream.socket_send_buffer_bytes, 0, 64 << 20)},
      {"max_history_values", size(stream.max_history_values, 1000, 100'000'000)},
  });
  stream.max_messages_per_second = static_cast<std::uint32_t>(messages_per_second);
  stream.max_errors = static_cast<std::uint32_t>(max_errors);
  return status;
}

Status apply_root(const toml::value& root, const std::string& source, Config& config) {
  const TableReader reader(root, source, "");
  std::int64_t number = 0;
  std::string text;
  return reader.each({
      {"listen",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, text);
         if (!s.ok()) return s;
         s = parse_listen_address(text, config.listen);
         return s.ok() ? s : reader.error_at(v, k, s.error);
       }},
      {"interval",
       [&](const toml::value& v, const std::string& k) {
         return reader.read_duration(v, k, kMinInterval, kMaxInterval, config.interval);
       }},
      {"procfs", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, config.procfs);
         return s.ok() && config.procfs.empty() ? reader.error_at(v, k, "must not be empty") : s;
       }},
      {"sysfs", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, config.sysfs);
         return s.ok() && config.sysfs.empty() ? reader.error_at(v, k, "must not be empty") : s;
       }},
      {"log_level",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, text);
         if (!s.ok()) return s;
         const auto level = parse_log_level(text);
         if (!level) return reader.error_at(v, k, "unknown level '" + text + "' (use " + std::string(kLogLevelNames) + ")");
         config.log_level = *level;
         return s;
       }},
      {"history_points",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, static_cast<std::int64_t>(kMinHistoryPoints),
                                        static_cast<std::int64_t>(kMaxHistoryPoints), number);
         if (s.ok()) config.history_points = static_cast<std::size_t>(number);
         return s;
       }},
      {"http", [&](const toml::value& v, const std::string&) { return apply_http(v, source, config.http); }},
      {"stream", [&](const toml::value& v, const std::string&) { return apply_stream(v, source, config.stream); }},
      {"token_file", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, config.token_file);
         return s.ok() && config.token_file.empty() ? reader.error_at(v, k, "must not be empty (leave the key out for no token)") : s;
       }},
      {"allowed_origins",
       [&](const toml::value& v, const std::string& k) {
         if (!v.is_array()) return reader.error_at(v, k, "expected an array of origins like [\"https://ops.example.com\"]");
         std::vector<std::string> origins;
         for (const toml::value& item : v.as_array()) {
           if (!item.is_string() || item.as_string().str.empty()) {
             return reader.error_at(v, k, "entries must be non-empty strings such as \"https://ops.example.com\" or \"*\"");
           }
           origins.push_back(item.as_string().str);
         }
         config.allowed_origins = std::move(origins);
         return Status::success();
       }},
      {"allow_unauthenticated",
       [&](const toml::value& v, const std::string& k) {
         if (!v.is_boolean()) return reader.error_at(v, k, "expected true or false");
         config.allow_unauthenticated = v.as_boolean();
         return Status::success();
       }},
  });
}

}  // namespace

Status load_config_text(std::string_view text, const std::string& source_name, Config& config) {
  toml::value root;
  try {
    std::istringstream stream{std::string(text)};
    root = toml::parse(stream, source_name);
  } catch (const toml::exception& e) {
    // toml11 explains with a multi-line excerpt; keep its first line, add ours.
    std::string what = e.what();
    const auto newline = what.find('\n');
    if (newline != std::string::npos) what.resize(newline);
    if (what.rfind("[error] ", 0) == 0) what.erase(0, 8);
    const auto line = e.location().line();
    return Status::failure(source_name + (line > 0 ? ":" + std::to_string(line) : std::string()) +
                           ": TOML syntax error: " + what);
  } catch (const std::exception& e) {
    return Status::failure(source_name + ": cannot parse: " + e.what());
  }
  // Apply to a copy so a bad file leaves the caller's config untouched.
  Config updated = config;
  Status status = apply_root(root, source_name, updated);
  if (!status.ok()) return status;
  config = std::move(updated);
  return Status::success();
}

Status load_config_file(const std::string& path, Config& config) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::failure(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  // A config file is a few KiB; refuse something that is clearly not one.
  if (contents.tellp() > (1 << 20)) return Status::failure(path + ": larger than 1 MiB, not a config file");
  return load_config_text(contents.str(), path, config);
}

Status load_access_token(const Config& config, std::string& token) {
  token.clear();
  if (!config.token_file.empty()) {
    Status status = read_token_file(config.token_file, token);
    if (!status.ok()) return status;
  }
  if (token.empty() && !config.allow_unauthenticated && !is_loopback_address(config.listen.host)) {
    return Status::failure("listen: " + config.listen.to_string() +
                           " is reachable from other hosts and no token_file is set; set token_file, or pass "
                           "--allow-unauthenticated (config: allow_unauthenticated = true) to serve without a token");
  }
  return Status::success();
}

}  // namespace hostpulse
