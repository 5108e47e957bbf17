#include "agent/alerts/alert_rule.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "agent/pipeline/series_match.hpp"
#include "base/quote.hpp"

namespace hostpulse {

bool Threshold::matches(double sample) const {
  switch (comparison) {
    case Comparison::greater: return sample > value;
    case Comparison::greater_equal: return sample >= value;
    case Comparison::less: return sample < value;
    case Comparison::less_equal: return sample <= value;
  }
  return false;
}

std::string Threshold::to_string() const {
  static constexpr std::string_view kSymbols[] = {">", ">=", "<", "<="};
  return fmt::format("{} {}", kSymbols[static_cast<std::size_t>(comparison)], value);
}

Status parse_threshold(std::string_view text, Threshold& out) {
  const auto fail = [&](std::string_view why) {
    return Status::failure("invalid threshold " + quote(text) + ": " + std::string(why) +
                           " (expected a comparison and a number, e.g. \"> 80\" or \"<= 5\")");
  };
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  Threshold parsed;
  if (text.substr(i, 2) == ">=") {
    parsed.comparison = Comparison::greater_equal;
    i += 2;
  } else if (text.substr(i, 2) == "<=") {
    parsed.comparison = Comparison::less_equal;
    i += 2;
  } else if (text.substr(i, 1) == ">") {
    parsed.comparison = Comparison::greater;
    i += 1;
  } else if (text.substr(i, 1) == "<") {
    parsed.comparison = Comparison::less;
    i += 1;
  } else {
    return fail("missing comparison");
  }
  while (i < text.size() && text[i] == ' ') ++i;
  std::size_t end = text.size();
  while (end > i && text[end - 1] == ' ') --end;
  if (i == end) return fail("missing number");
  const auto [next, error] = std::from_chars(text.data() + i, text.data() + end, parsed.value);
  if (error != std::errc() || next != text.data() + end || !std::isfinite(parsed.value)) return fail("not a number");
  out = parsed;
  return Status::success();
}

namespace {
bool same(const std::optional<Threshold>& a, const std::optional<Threshold>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->comparison == b->comparison && a->value == b->value);
}
}  // namespace

bool AlertRule::same_behaviour(const AlertRule& o) const {
  return name == o.name && series == o.series && family == o.family && match_labels == o.match_labels &&
         reduce == o.reduce && window == o.window && same(warn, o.warn) &&
         same(warn_clear, o.warn_clear) && same(crit, o.crit) && same(crit_clear, o.crit_clear) &&
         for_duration == o.for_duration && keep_firing_for == o.keep_firing_for && nodata_after == o.nodata_after &&
         description == o.description && summary == o.summary && severity == o.severity && labels == o.labels && enabled == o.enabled;
}

bool AlertRule::selects(const SeriesInfo& info) const {
  if (series.empty() && family.empty()) return false;
  if (!series.empty() && !glob_match(series, info.name)) return false;
  return family.empty() || labels_match(info, family, match_labels);
}

std::string AlertRule::selector_text() const {
  std::string text;
  if (!series.empty()) text = "series '" + series + "'";
  if (!family.empty()) {
    if (!text.empty()) text += " and ";
    text += "family '" + family + "'";
    if (!match_labels.empty()) {
      text += " {";
      for (std::size_t i = 0; i < match_labels.size(); ++i) {
        if (i > 0) text += ",";
        text += match_labels[i].name + "=\"" + match_labels[i].value + "\"";
      }
      text += "}";
    }
  }
  return text;
}

std::string_view reducer_name(Reducer reducer) {
  static constexpr std::string_view kNames[] = {"last", "avg", "min", "max"};
  return kNames[static_cast<std::size_t>(reducer)];
}

std::string_view state_name(AlertState state) {
  static constexpr std::string_view kNames[] = {"ok", "pending", "warning", "critical", "nodata"};
  return kNames[static_cast<std::size_t>(state)];
}

}  // namespace hostpulse
