#include "agent/config/config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <sstream>

#include <toml.hpp>

#include "base/bounded_file.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"
#include "agent/api/access_control.hpp"
#include "agent/config/toml_prescan.hpp"
#include "base/quote.hpp"

namespace hostpulse {

Status validate_interval(std::chrono::milliseconds interval) {
  if (interval < kMinInterval || interval > kMaxInterval) {
    return Status::failure("must be between " + format_duration(kMinInterval) + " and " +
                           format_duration(kMaxInterval) + " (got " + format_duration(interval) + ")");
  }
  return Status::success();
}

namespace {

// Keys are shown as they are ("t.toml:3: http.surprise: unknown key") but a
// hostile file can make one megabytes long or put control bytes in it.
constexpr std::size_t kMaxShownKeyBytes = 80;
// Paths and rule names in messages: longer than any real one.
constexpr std::size_t kMaxShownNameBytes = 256;
// A rule's series, family and label names and globs: as long as a series
// name may be in a stream subscription.
constexpr std::size_t kMaxSelectorBytes = 256;
// Label matchers per rule: series carry one or two labels; more is a mistake.
constexpr std::size_t kMaxMatchLabels = 16;
// toml11's own first line of explanation can quote keys from the file.
constexpr std::size_t kMaxShownParserMessageBytes = 200;

// Walks one TOML table, turning every problem into "file:line: key: message".
class TableReader {
 public:
  TableReader(const toml::value& table, std::string source, std::string prefix)
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  Status error_at(const toml::value& value, const std::string& key, const std::string& message) const {
    const auto line = value.location().line();
    std::string text = source_;
    if (line > 0) text += ":" + std::to_string(line);
    return Status::failure(text + ": " + escape_capped(prefix_ + key, kMaxShownKeyBytes) + ": " + message);
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

  Status read_bool(const toml::value& value, const std::string& key, bool& out) const {
    if (!value.is_boolean()) return error_at(value, key, "expected true or false");
    out = value.as_boolean();
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
      {"max_connections_per_address",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, 1, 1'000'000, number);
         if (s.ok()) http.max_connections_per_address = static_cast<std::size_t>(number);
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

Status apply_series(const toml::value& table, const std::string& source, SeriesOptions& series) {
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "series", "expected a table");
  const TableReader reader(table, source, "series.");
  std::int64_t number = 0;
  return reader.each({
      {"max_live", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_integer(v, k, 100, 1'000'000, number);
         if (s.ok()) series.max_series = static_cast<std::size_t>(number);
         return s;
       }},
      {"retire_after", [&](const toml::value& v, const std::string& k) {
         return reader.read_duration(v, k, std::chrono::milliseconds(1000), std::chrono::hours(24), series.retire_after);
       }},
  });
}

Status apply_metrics(const toml::value& table, const std::string& source, MetricsOptions& metrics) {
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "metrics", "expected a table");
  const TableReader reader(table, source, "metrics.");
  return reader.each({
      {"enabled", [&](const toml::value& v, const std::string& k) { return reader.read_bool(v, k, metrics.enabled); }},
      {"public", [&](const toml::value& v, const std::string& k) { return reader.read_bool(v, k, metrics.public_access); }},
  });
}

Status apply_disk_options(const toml::value& table, const std::string& source, DiskOptions& disks) {
  if (!table.is_table()) return TableReader(table, source, "sources.").error_at(table, "disks", "expected a table");
  const TableReader reader(table, source, "sources.disks.");
  const auto flag = [&reader](bool& field) {
    return [&reader, &field](const toml::value& v, const std::string& k) { return reader.read_bool(v, k, field); };
  };
  return reader.each({
      {"partitions", flag(disks.partitions)},
      {"loop", flag(disks.loop)},
      {"ram", flag(disks.ram)},
  });
}

// [sources.<name>]: one table per source that has options.
Status apply_sources(const toml::value& table, const std::string& source, Config& config) {
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "sources", "expected a table");
  const TableReader reader(table, source, "sources.");
  return reader.each({
      {"disks", [&](const toml::value& v, const std::string&) { return apply_disk_options(v, source, config.disks); }},
  });
}

// Whether some value matches both thresholds (a rule that would fire and clear at once).
bool overlap(const Threshold& trigger, const Threshold& clear) {
  const bool trigger_above = trigger.comparison == Comparison::greater || trigger.comparison == Comparison::greater_equal;
  const bool clear_above = clear.comparison == Comparison::greater || clear.comparison == Comparison::greater_equal;
  if (trigger_above == clear_above) return true;  // same direction: large (or small) values match both
  const Threshold& upper = trigger_above ? trigger : clear;  // "> a"
  const Threshold& lower = trigger_above ? clear : trigger;  // "< b"
  if (lower.value > upper.value) return true;
  if (lower.value == upper.value) {
    return upper.comparison == Comparison::greater_equal && lower.comparison == Comparison::less_equal;
  }
  return false;
}

bool points_up(const Threshold& t) { return t.comparison == Comparison::greater || t.comparison == Comparison::greater_equal; }

Status apply_alert(const toml::value& table, const std::string& source, std::vector<AlertRule>& rules) {
  const TableReader reader(table, source, "alert.");
  if (!table.is_table()) return TableReader(table, source, "").error_at(table, "alert", "expected [[alert]] tables");
  AlertRule rule;
  rule.source = source;
  rule.line = table.location().line();
  std::string text;
  const auto threshold = [&](std::optional<Threshold>& field) {
    return [&field, &reader, &text](const toml::value& v, const std::string& k) {
      Status s = reader.read_string(v, k, text);
      if (!s.ok()) return s;
      Threshold parsed;
      s = parse_threshold(text, parsed);
      if (!s.ok()) return reader.error_at(v, k, s.error);
      field = parsed;
      return s;
    };
  };
  const auto duration = [&](std::chrono::milliseconds& field, std::chrono::milliseconds max) {
    return [&field, &reader, max](const toml::value& v, const std::string& k) {
      return reader.read_duration(v, k, std::chrono::milliseconds(0), max, field);
    };
  };
  std::chrono::milliseconds nodata{0};
  bool has_nodata = false;
  const toml::value* match_labels_value = nullptr;  // for an error placed at it
  Status status = reader.each({
      {"name", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, rule.name);
         if (s.ok() && (rule.name.empty() || rule.name.size() > 128)) return reader.error_at(v, k, "must be 1 to 128 characters");
         return s;
       }},
      {"series", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, rule.series);
         if (s.ok() && (rule.series.empty() || rule.series.size() > 256)) return reader.error_at(v, k, "must be 1 to 256 characters");
         return s;
       }},
      {"family", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, rule.family);
         if (s.ok() && (rule.family.empty() || rule.family.size() > kMaxSelectorBytes)) {
           return reader.error_at(v, k, "must be 1 to 256 characters");
         }
         if (s.ok() && rule.family.find('*') != std::string::npos) {
           return reader.error_at(v, k, "is a family name, not a glob (select series by glob with series = \"...\")");
         }
         return s;
       }},
      {"match_labels", [&](const toml::value& v, const std::string& k) {
         match_labels_value = &v;
         if (!v.is_table() || v.as_table().empty()) {
           return reader.error_at(v, k, "expected a table of label globs, e.g. { cpu = \"*\" }");
         }
         if (v.as_table().size() > kMaxMatchLabels) {
           return reader.error_at(v, k, "more than " + std::to_string(kMaxMatchLabels) + " labels");
         }
         for (const auto& [key, value] : v.as_table()) {
           if (key.empty() || key.size() > kMaxSelectorBytes) {
             return reader.error_at(v, k, "label names must be 1 to 256 characters");
           }
           if (!value.is_string()) {
             return reader.error_at(value, k + "." + key, "expected a string (a label value or glob such as \"*\")");
           }
           const std::string& glob = value.as_string().str;
           if (glob.empty() || glob.size() > kMaxSelectorBytes) {
             return reader.error_at(value, k + "." + key, "must be 1 to 256 characters");
           }
           rule.match_labels.push_back(SeriesLabel{.name = key, .value = glob});
         }
         return Status::success();
       }},
      {"reduce", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, text);
         if (!s.ok()) return s;
         if (text == "last") rule.reduce = Reducer::last;
         else if (text == "avg") rule.reduce = Reducer::avg;
         else if (text == "min") rule.reduce = Reducer::min;
         else if (text == "max") rule.reduce = Reducer::max;
         else return reader.error_at(v, k, "unknown reducer " + quote(text) + " (use last, avg, min or max)");
         return s;
       }},
      {"window", duration(rule.window, std::chrono::hours(1))},
      {"warn", threshold(rule.warn)},
      {"warn_clear", threshold(rule.warn_clear)},
      {"crit", threshold(rule.crit)},
      {"crit_clear", threshold(rule.crit_clear)},
      {"for", duration(rule.for_duration, std::chrono::hours(24))},
      {"keep_firing_for", duration(rule.keep_firing_for, std::chrono::hours(24))},
      {"nodata_after", [&](const toml::value& v, const std::string& k) {
         has_nodata = true;
         return reader.read_duration(v, k, std::chrono::seconds(1), std::chrono::hours(24), nodata);
       }},
      {"description", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, rule.description);
         if (s.ok() && rule.description.size() > 1024) return reader.error_at(v, k, "longer than 1024 characters");
         return s;
       }},
      {"severity", [&](const toml::value& v, const std::string& k) { return reader.read_string(v, k, rule.severity); }},
      {"enabled", [&](const toml::value& v, const std::string& k) {
         if (!v.is_boolean()) return reader.error_at(v, k, "expected true or false");
         rule.enabled = v.as_boolean();
         return Status::success();
       }},
      {"labels", [&](const toml::value& v, const std::string& k) {
         if (!v.is_table()) return reader.error_at(v, k, "expected a table of strings, e.g. { team = \"ops\" }");
         for (const auto& [key, value] : v.as_table()) {
           if (!value.is_string()) return reader.error_at(value, k + "." + key, "expected a string");
           rule.labels.emplace_back(key, value.as_string().str);
         }
         return Status::success();
       }},
  });
  if (!status.ok()) return status;
  if (has_nodata) rule.nodata_after = nodata;
  const auto rule_error = [&](const std::string& message) {
    return Status::failure(source + ":" + std::to_string(rule.line) + ": alert " +
                           (rule.name.empty() ? std::string("'?'") : quote(rule.name, kMaxShownNameBytes)) + ": " + message);
  };
  if (rule.name.empty()) return rule_error("name: required");
  if (rule.series.empty() && rule.family.empty()) {
    return rule_error("series or family: required (a series name or glob such as \"cpu.*.busy_pct\", or a family such as "
                      "\"cpu.busy_pct\" with match_labels = { cpu = \"*\" })");
  }
  if (match_labels_value != nullptr && rule.family.empty()) {
    return reader.error_at(*match_labels_value, "match_labels",
                           "needs family (labels are matched within one family, e.g. family = \"cpu.busy_pct\")");
  }
  if (!rule.warn && !rule.crit) return rule_error("needs warn, crit or both");
  if (rule.warn_clear && !rule.warn) return rule_error("warn_clear given without warn");
  if (rule.crit_clear && !rule.crit) return rule_error("crit_clear given without crit");
  if (rule.warn && rule.warn_clear && overlap(*rule.warn, *rule.warn_clear)) {
    return rule_error("warn_clear '" + rule.warn_clear->to_string() + "' overlaps warn '" + rule.warn->to_string() +
                      "': it must lie on the other side of the threshold");
  }
  if (rule.crit && rule.crit_clear && overlap(*rule.crit, *rule.crit_clear)) {
    return rule_error("crit_clear '" + rule.crit_clear->to_string() + "' overlaps crit '" + rule.crit->to_string() +
                      "': it must lie on the other side of the threshold");
  }
  if (rule.warn && rule.crit && points_up(*rule.warn) != points_up(*rule.crit)) {
    return rule_error("warn and crit point in different directions ('" + rule.warn->to_string() + "', '" +
                      rule.crit->to_string() + "')");
  }
  if (rule.warn && rule.crit) {
    // Critical is the more severe level: it must lie at or beyond warning.
    const bool up = points_up(*rule.crit);
    if (up ? rule.crit->value < rule.warn->value : rule.crit->value > rule.warn->value) {
      return rule_error("crit '" + rule.crit->to_string() + "' is less severe than warn '" + rule.warn->to_string() +
                        "': crit must be " + (up ? "at or above" : "at or below") + " the warning threshold");
    }
  }
  if (rule.reduce != Reducer::last && rule.window.count() == 0) {
    return rule_error("reduce = \"" + std::string(reducer_name(rule.reduce)) + "\" needs a window, e.g. window = \"30s\"");
  }
  for (const AlertRule& existing : rules) {
    if (existing.name == rule.name) {
      return rule_error("name already used by the rule at " + existing.source + ":" + std::to_string(existing.line));
    }
  }
  rules.push_back(std::move(rule));
  return Status::success();
}

Status apply_alerts(const toml::value& value, const std::string& source, std::vector<AlertRule>& rules) {
  if (!value.is_array()) return TableReader(value, source, "").error_at(value, "alert", "expected [[alert]] tables");
  for (const toml::value& table : value.as_array()) {
    Status status = apply_alert(table, source, rules);
    if (!status.ok()) return status;
  }
  return Status::success();
}

Status apply_webhooks(const toml::value& value, const std::string& source, std::vector<WebhookOptions>& webhooks) {
  if (!value.is_array()) return TableReader(value, source, "").error_at(value, "webhook", "expected [[webhook]] tables");
  for (const toml::value& table : value.as_array()) {
    const TableReader reader(table, source, "webhook.");
    if (!table.is_table()) {
      return TableReader(table, source, "").error_at(table, "webhook", "expected [[webhook]] tables");
    }
    WebhookOptions webhook;
    webhook.source = source;
    webhook.line = table.location().line();
    std::int64_t number = 0;
    Status status = reader.each({
        {"url", [&](const toml::value& v, const std::string& k) {
           Status s = reader.read_string(v, k, webhook.url);
           if (!s.ok()) return s;
           std::string base, path;
           s = parse_webhook_url(webhook.url, base, path);
           return s.ok() ? s : reader.error_at(v, k, s.error);
         }},
        {"timeout", [&](const toml::value& v, const std::string& k) {
           return reader.read_duration(v, k, std::chrono::milliseconds(100), std::chrono::minutes(1), webhook.timeout);
         }},
        {"repeat_interval", [&](const toml::value& v, const std::string& k) {
           return reader.read_duration(v, k, std::chrono::milliseconds(0), std::chrono::hours(24 * 7), webhook.repeat_interval);
         }},
        {"max_attempts", [&](const toml::value& v, const std::string& k) {
           Status s = reader.read_integer(v, k, 1, 100, number);
           if (s.ok()) webhook.max_attempts = static_cast<std::uint32_t>(number);
           return s;
         }},
        {"headers", [&](const toml::value& v, const std::string& k) {
           if (!v.is_table()) return reader.error_at(v, k, "expected a table of strings, e.g. { Authorization = \"Bearer ...\" }");
           for (const auto& [name, header] : v.as_table()) {
             if (!header.is_string()) return reader.error_at(header, k + "." + name, "expected a string");
             const std::string& text = header.as_string().str;
             if (text.find_first_of("\r\n") != std::string::npos || name.find_first_of("\r\n: ") != std::string::npos) {
               return reader.error_at(header, k + "." + name, "header names and values must be single-line");
             }
             webhook.headers.emplace_back(name, text);
           }
           return Status::success();
         }},
    });
    if (!status.ok()) return status;
    if (webhook.url.empty()) {
      return Status::failure(source + ":" + std::to_string(webhook.line) + ": webhook.url: required");
    }
    webhooks.push_back(std::move(webhook));
  }
  return Status::success();
}

// rules_dir_line: where rules_dir was set (0: not set), for errors about the
// folder, which is checked only when it is read.
Status apply_root(const toml::value& root, const std::string& source, Config& config, std::size_t& rules_dir_line) {
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
      {"rootfs", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, config.rootfs);
         if (s.ok() && (config.rootfs.empty() || config.rootfs.front() != '/')) {
           return reader.error_at(v, k, "must be an absolute path");
         }
         return s;
       }},
      {"log_level",
       [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, text);
         if (!s.ok()) return s;
         const auto level = parse_log_level(text);
         if (!level) return reader.error_at(v, k, "unknown level " + quote(text) + " (use " + std::string(kLogLevelNames) + ")");
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
      {"series", [&](const toml::value& v, const std::string&) { return apply_series(v, source, config.series); }},
      {"sources", [&](const toml::value& v, const std::string&) { return apply_sources(v, source, config); }},
      {"metrics", [&](const toml::value& v, const std::string&) { return apply_metrics(v, source, config.metrics); }},
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
      {"allowed_hosts",
       [&](const toml::value& v, const std::string& k) {
         if (!v.is_array()) return reader.error_at(v, k, "expected an array of host names like [\"metrics.example.com\"]");
         std::vector<std::string> hosts;
         for (const toml::value& item : v.as_array()) {
           if (!item.is_string() || (item.as_string().str != "*" && !host_name_of(item.as_string().str))) {
             return reader.error_at(v, k, "entries must be host names such as \"metrics.example.com\" (optionally with a port) or \"*\"");
           }
           hosts.push_back(item.as_string().str);
         }
         config.allowed_hosts = std::move(hosts);
         return Status::success();
       }},
      {"rules_dir", [&](const toml::value& v, const std::string& k) {
         Status s = reader.read_string(v, k, config.rules_dir);
         if (!s.ok()) return s;
         if (config.rules_dir.empty()) return reader.error_at(v, k, "must not be empty");
         // A relative rules_dir is relative to the config file that names it.
         std::filesystem::path directory(config.rules_dir);
         if (directory.is_relative()) directory = std::filesystem::path(source).parent_path() / directory;
         config.rules_dir = directory.lexically_normal().string();
         // Its files are read after this file's own [[alert]] tables (load_config_text).
         rules_dir_line = v.location().line();
         return s;
       }},
      {"alert", [&](const toml::value& v, const std::string&) { return apply_alerts(v, source, config.alerts); }},
      {"webhook", [&](const toml::value& v, const std::string&) { return apply_webhooks(v, source, config.webhooks); }},
      {"allow_unauthenticated",
       [&](const toml::value& v, const std::string& k) {
         if (!v.is_boolean()) return reader.error_at(v, k, "expected true or false");
         config.allow_unauthenticated = v.as_boolean();
         return Status::success();
       }},
  });
}

}  // namespace

namespace {

// Parses TOML text; a syntax error names the source and line. The text goes
// through prescan_toml first: toml11 must never see what crashes it.
Status parse_toml(std::string_view text, const std::string& source, toml::value& root) {
  if (Status checked = prescan_toml(text, source); !checked.ok()) return checked;
  try {
    std::istringstream stream{std::string(text)};
    root = toml::parse(stream, source);
  } catch (const toml::exception& e) {
    // toml11 explains with a multi-line excerpt; keep its first line, add ours.
    std::string what = e.what();
    const auto newline = what.find('\n');
    if (newline != std::string::npos) what.resize(newline);
    if (what.rfind("[error] ", 0) == 0) what.erase(0, 8);
    const auto line = e.location().line();
    return Status::failure(source + (line > 0 ? ":" + std::to_string(line) : std::string()) +
                           ": TOML syntax error: " + escape_capped(what, kMaxShownParserMessageBytes));
  } catch (const std::exception& e) {
    return Status::failure(source + ": cannot parse: " + escape_capped(e.what(), kMaxShownParserMessageBytes));
  }
  return Status::success();
}

Status parse_config(std::string_view text, const std::string& source, Config& config, std::size_t& rules_dir_line) {
  toml::value root;
  Status parsed = parse_toml(text, source, root);
  if (!parsed.ok()) return parsed;
  // Apply to a copy so a bad file leaves the caller's config untouched.
  Config updated = config;
  rules_dir_line = 0;
  Status status = apply_root(root, source, updated, rules_dir_line);
  if (!status.ok()) return status;
  config = std::move(updated);
  return Status::success();
}

}  // namespace

Status parse_config_text(std::string_view text, std::string_view file_name, Config& config) {
  std::size_t rules_dir_line = 0;
  return parse_config(text, std::string(file_name), config, rules_dir_line);
}

namespace {

// Appends the rules of one file; on error `rules` may hold some of them, so
// callers apply it to a copy they drop on error.
Status append_rules_text(std::string_view text, const std::string& source, std::vector<AlertRule>& rules) {
  toml::value root;
  Status status = parse_toml(text, source, root);
  if (!status.ok()) return status;
  const TableReader reader(root, source, "");
  return reader.each({{"alert", [&](const toml::value& v, const std::string&) {
                         return apply_alerts(v, source, rules);
                       }}});
}

}  // namespace

Status parse_rules_text(std::string_view text, std::string_view file_name, std::vector<AlertRule>& rules) {
  std::vector<AlertRule> updated = rules;
  Status status = append_rules_text(text, std::string(file_name), updated);
  if (!status.ok()) return status;
  rules = std::move(updated);
  return Status::success();
}

Status load_rules_dir(const std::string& directory, std::vector<AlertRule>& rules) {
  const auto folder_error = [&](const std::error_code& ec) {
    return Status::failure("cannot read folder " + quote(directory, kMaxShownNameBytes) + ": " + ec.message());
  };
  std::error_code ec;
  std::filesystem::directory_iterator entry(directory, ec);
  if (ec) return folder_error(ec);
  // Every *.toml name, whatever it is: read_bounded_file refuses what is not
  // a regular file, on the descriptor it reads (no check-then-open race).
  std::vector<std::filesystem::path> files;
  for (; entry != std::filesystem::directory_iterator(); entry.increment(ec)) {
    if (ec) return folder_error(ec);
    if (entry->path().extension() != ".toml") continue;
    // Stop listing here: a folder of millions of names must not become a vector of them.
    if (files.size() == kMaxRulesFiles) {
      return Status::failure("more than " + std::to_string(kMaxRulesFiles) + " rule files in " +
                             quote(directory, kMaxShownNameBytes));
    }
    files.push_back(entry->path());
  }
  if (ec) return folder_error(ec);
  std::sort(files.begin(), files.end());
  std::vector<AlertRule> updated = rules;
  std::size_t total_bytes = 0;
  for (const auto& file : files) {
    std::string text;
    Status status = read_bounded_file(file.string(), kMaxConfigFileBytes, text);
    if (!status.ok()) return status;
    total_bytes += text.size();
    if (total_bytes > kMaxRulesDirBytes) {
      return Status::failure(file.string() + ": the rule files in " + quote(directory, kMaxShownNameBytes) +
                             " together exceed " + describe_byte_count(kMaxRulesDirBytes));
    }
    // Into the folder's one copy: copying every rule so far for each file
    // would be quadratic in a folder of many files.
    status = append_rules_text(text, file.string(), updated);
    if (!status.ok()) return status;
  }
  rules = std::move(updated);
  return Status::success();
}

Status load_config_text(std::string_view text, const std::string& source_name, Config& config) {
  Config updated = config;
  std::size_t rules_dir_line = 0;
  Status status = parse_config(text, source_name, updated, rules_dir_line);
  if (!status.ok()) return status;
  if (!updated.rules_dir.empty() && updated.rules_dir != config.rules_dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(updated.rules_dir, ec)) {
      return Status::failure(source_name + (rules_dir_line > 0 ? ":" + std::to_string(rules_dir_line) : "") +
                             ": rules_dir: " + quote(updated.rules_dir, kMaxShownNameBytes) + " is not a readable folder");
    }
    status = load_rules_dir(updated.rules_dir, updated.alerts);
    if (!status.ok()) return status;
  }
  config = std::move(updated);
  return Status::success();
}

Status load_config_file(const std::string& path, Config& config) {
  std::string contents;
  Status status = read_bounded_file(path, kMaxConfigFileBytes, contents);
  if (!status.ok()) return status;
  return load_config_text(contents, path, config);
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

Status check_startup_requirements(const Config& config, std::string& token) {
  if (Status status = load_access_token(config, token); !status.ok()) return status;
  // The collectors read everything below procfs; without it there is nothing to serve.
  // sysfs is optional (a container may not have it: those sources report
  // themselves unavailable), but a rootfs that was asked for must exist.
  struct stat info {};
  if (::stat(config.procfs.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Status::failure("procfs: " + quote(config.procfs, kMaxShownNameBytes) +
                           " is not a directory (set --procfs or procfs in the config)");
  }
  if (::stat(config.rootfs.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Status::failure("rootfs: " + quote(config.rootfs, kMaxShownNameBytes) +
                           " is not a directory (set --rootfs or rootfs in the config)");
  }
  return Status::success();
}

}  // namespace hostpulse
