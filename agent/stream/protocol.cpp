#include "agent/stream/protocol.hpp"

#include <nlohmann/json.hpp>

#include "base/duration.hpp"

namespace hostpulse {
namespace {

using nlohmann::json;

// Cheap pre-check so a hostile "[[[[..." never reaches the parser.
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') --depth;
  }
  return true;
}

struct Fields {
  const json& object;
  RequestId id;

  ProtocolError error(std::string_view code, std::string message) const { return ProtocolError{id, code, std::move(message)}; }

  std::optional<ProtocolError> only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (std::string_view name : allowed) known = known || key == name;
      if (!known) {
        std::string list;
        for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
        return error(error_code::bad_field, "unknown field '" + key + "' (allowed: " + list + ")");
      }
    }
    return std::nullopt;
  }

  // One entry: a name or glob string, or {"family": glob, "labels": {name: glob}}.
  std::optional<ProtocolError> selector(const json& item, SeriesSelector& out) const {
    out = {};
    if (item.is_string()) {
      out.pattern = item.get<std::string>();
      if (out.pattern.empty() || out.pattern.size() > kMaxPatternLength) {
        return error(error_code::bad_field, "series: names must be 1 to " + std::to_string(kMaxPatternLength) + " characters");
      }
      return std::nullopt;
    }
    if (!item.is_object()) {
      return error(error_code::bad_field, "series: entries must be names, globs or {\"family\":..., \"labels\":{...}}");
    }
    for (const auto& [key, value] : item.items()) {
      if (key == "family") {
        if (!value.is_string()) return error(error_code::bad_field, "series: family must be a string");
        out.family = value.get<std::string>();
      } else if (key == "labels") {
        if (!value.is_object()) return error(error_code::bad_field, "series: labels must be an object of name: glob");
        for (const auto& [label, glob] : value.items()) {
          if (!glob.is_string()) return error(error_code::bad_field, "series: label '" + label + "' must be a string (a glob)");
          if (out.labels.size() == kMaxSelectorLabels) break;
          out.labels.push_back(SeriesLabel{.name = label, .value = glob.get<std::string>()});
        }
        if (value.size() > kMaxSelectorLabels) {
          return error(error_code::bad_field, "series: more than " + std::to_string(kMaxSelectorLabels) + " label matchers");
        }
      } else {
        return error(error_code::bad_field, "series: unknown field '" + key + "' in a matcher (allowed: family, labels)");
      }
    }
    if (out.family.empty()) return error(error_code::bad_field, "series: a matcher needs a non-empty family");
    if (Status status = validate_selector(out); !status.ok()) {
      return error(error_code::bad_field, "series: " + status.error);
    }
    return std::nullopt;
  }

  std::optional<ProtocolError> series(std::vector<SeriesSelector>& out, bool required) const {
    const auto it = object.find("series");
    if (it == object.end()) {
      if (required) return error(error_code::bad_field, "series: required (names or globs, e.g. [\"cpu.*\"])");
      out = {SeriesSelector{.pattern = "*", .family = {}, .labels = {}}};
      return std::nullopt;
    }
    out.clear();
    if (it->is_string() || it->is_object()) {
      out.emplace_back();
      return selector(*it, out.back());
    }
    if (!it->is_array()) return error(error_code::bad_field, "series: expected an array of names, globs or matchers");
    if (it->empty()) return error(error_code::bad_field, "series: must not be empty");
    if (it->size() > kMaxSeriesPatterns) {
      return error(error_code::bad_field, "series: more than " + std::to_string(kMaxSeriesPatterns) + " entries");
    }
    for (const json& item : *it) {
      out.emplace_back();
      if (auto e = selector(item, out.back())) return e;
    }
    return std::nullopt;
  }

  // Non-negative integer field within [min, max].
  std::optional<ProtocolError> integer(const json& parent, std::string_view name, std::uint64_t min, std::uint64_t max,
                                       std::uint64_t& out, const std::string& path) const {
    const auto it = parent.find(name);
    if (it == parent.end()) return std::nullopt;
    if (!it->is_number_integer() || (it->is_number_integer() && !it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
      return error(error_code::bad_field, path + ": expected a non-negative integer");
    }
    const std::uint64_t value = it->get<std::uint64_t>();
    if (value < min || value > max) {
      return error(error_code::bad_field, path + ": must be between " + std::to_string(min) + " and " +
                                              std::to_string(max) + " (got " + std::to_string(value) + ")");
    }
    out = value;
    return std::nullopt;
  }
};

ClientMessage parse_subscribe(const Fields& f) {
  SubscribeRequest request;
  request.id = f.id;
  if (auto e = f.only({"type", "id", "series", "format", "batch", "every", "resume_from", "alerts"})) return *e;
  if (const auto it = f.object.find("alerts"); it != f.object.end()) {
    if (!it->is_boolean()) return f.error(error_code::bad_field, "alerts: expected true or false");
    request.alerts = it->get<bool>();
  }
  if (auto e = f.series(request.series, false)) return *e;
  if (const auto it = f.object.find("format"); it != f.object.end()) {
    if (*it == "json") request.format = StreamFormat::json;
    else if (*it == "msgpack") request.format = StreamFormat::msgpack;
    else return f.error(error_code::bad_field, "format: must be \"json\" or \"msgpack\"");
  }
  if (const auto it = f.object.find("batch"); it != f.object.end()) {
    if (!it->is_object()) return f.error(error_code::bad_field, "batch: expected an object {max_samples, max_delay_ms}");
    for (const auto& [key, value] : it->items()) {
      if (key != "max_samples" && key != "max_delay_ms") {
        return f.error(error_code::bad_field, "batch: unknown field '" + key + "' (allowed: max_samples, max_delay_ms)");
      }
    }
    std::uint64_t number = request.batch.max_samples;
    if (auto e = f.integer(*it, "max_samples", 1, kMaxBatchSamples, number, "batch.max_samples")) return *e;
    request.batch.max_samples = static_cast<std::uint32_t>(number);
    number = static_cast<std::uint64_t>(request.batch.max_delay.count());
    if (auto e = f.integer(*it, "max_delay_ms", 0, static_cast<std::uint64_t>(kMaxBatchDelay.count()), number,
                           "batch.max_delay_ms")) {
      return *e;
    }
    request.batch.max_delay = std::chrono::milliseconds(number);
  }
  std::uint64_t every = 1;
  if (auto e = f.integer(f.object, "every", 1, kMaxEvery, every, "every")) return *e;
  request.every = static_cast<std::uint32_t>(every);
  if (f.object.contains("resume_from")) {
    std::uint64_t seq = 0;
    if (auto e = f.integer(f.object, "resume_from", 0, UINT64_MAX, seq, "resume_from")) return *e;
    request.resume_from = seq;
  }
  return request;
}

ClientMessage parse_unsubscribe(const Fields& f) {
  UnsubscribeRequest request;
  request.id = f.id;
  if (auto e = f.only({"type", "id", "sub"})) return *e;
  if (!f.object.contains("sub")) return f.error(error_code::bad_field, "sub: required (the id from \"subscribed\")");
  std::uint64_t sub = 0;
  if (auto e = f.integer(f.object, "sub", 1, UINT32_MAX, sub, "sub")) return *e;
  request.subscription = static_cast<std::uint32_t>(sub);
  return request;
}

ClientMessage parse_history(const Fields& f) {
  HistoryRequest request;
  request.id = f.id;
  if (auto e = f.only({"type", "id", "series", "since_seq", "last"})) return *e;
  if (auto e = f.series(request.series, true)) return *e;
  if (f.object.contains("since_seq") && f.object.contains("last")) {
    return f.error(error_code::bad_field, "give since_seq or last, not both");
  }
  if (f.object.contains("since_seq")) {
    std::uint64_t seq = 0;
    if (auto e = f.integer(f.object, "since_seq", 0, UINT64_MAX, seq, "since_seq")) return *e;
    request.since_seq = seq;
  }
  if (const auto it = f.object.find("last"); it != f.object.end()) {
    std::chrono::milliseconds window{};
    if (!it->is_string()) return f.error(error_code::bad_field, "last: expected a duration string like \"5m\"");
    const Status status = parse_duration(it->get<std::string>(), window);
    if (!status.ok()) return f.error(error_code::bad_field, "last: " + status.error);
    if (window.count() == 0) return f.error(error_code::bad_field, "last: must be longer than 0s");
    request.last = window;
  }
  return request;
}

}  // namespace

ClientMessage parse_client_message(std::string_view text) {
  if (!nesting_within(text, kMaxJsonDepth)) {
    return ProtocolError{{}, error_code::bad_json, "message nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
  }
  const json message = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return ProtocolError{{}, error_code::bad_json, "message is not valid JSON"};
  if (!message.is_object()) return ProtocolError{{}, error_code::bad_message, "message must be a JSON object with a \"type\""};

  Fields fields{message, {}};
  if (const auto it = message.find("id"); it != message.end()) {
    const bool ok = (it->is_string() && it->get_ref<const std::string&>().size() <= kMaxRequestIdLength) ||
                    it->is_number_integer();
    if (!ok) return ProtocolError{{}, error_code::bad_field, "id: must be a string of at most 64 characters or an integer"};
    fields.id = it->dump();
  }
  const auto type = message.find("type");
  if (type == message.end() || !type->is_string()) {
    return fields.error(error_code::bad_message, "missing \"type\" (subscribe, unsubscribe, history or ping)");
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "subscribe") return parse_subscribe(fields);
  if (name == "unsubscribe") return parse_unsubscribe(fields);
  if (name == "history") return parse_history(fields);
  if (name == "ping") {
    if (auto e = fields.only({"type", "id"})) return *e;
    return PingRequest{fields.id};
  }
  return fields.error(error_code::unknown_type,
                      "unknown message type '" + name.substr(0, 64) + "' (subscribe, unsubscribe, history or ping)");
}

}  // namespace hostpulse
