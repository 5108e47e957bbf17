#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/schema.hpp"
#include "base/status.hpp"

namespace hostpulse {

enum class Comparison : std::uint8_t { greater, greater_equal, less, less_equal };

// "> 80", ">= 5", "< 70", "<= 0.5"
struct Threshold {
  Comparison comparison = Comparison::greater;
  double value = 0;

  [[nodiscard]] bool matches(double sample) const;
  [[nodiscard]] std::string to_string() const;
};
Status parse_threshold(std::string_view text, Threshold& out);

enum class Reducer : std::uint8_t { last, avg, min, max };
std::string_view reducer_name(Reducer reducer);

enum class AlertState : std::uint8_t { ok, pending, warning, critical, nodata };
std::string_view state_name(AlertState state);

// One [[alert]] table. A rule gives one instance per live series it selects
// (e.g. "cpu.*.busy_pct": one per core), including series that appear later.
struct AlertRule {
  std::string name;
  // What it selects: series by name or * glob, family and match_labels, or
  // both (then a series must satisfy both). At least one is set.
  std::string series;                  // name or * glob; empty: any name
  std::string family;                  // e.g. "cpu.busy_pct"; empty: any family
  std::vector<SeriesLabel> match_labels;  // label name -> value glob; only with family
  Reducer reduce = Reducer::last;
  std::chrono::milliseconds window{0};  // 0: the latest sample only
  std::optional<Threshold> warn, warn_clear, crit, crit_clear;
  std::chrono::milliseconds for_duration{0};      // must hold this long before firing
  std::chrono::milliseconds keep_firing_for{0};   // keep firing this long after clearing
  std::optional<std::chrono::milliseconds> nodata_after;
  std::string description;             // "{{value}}", "{{series}}", "{{threshold}}" are interpolated
  std::string summary;                 // a one-line title for receivers that show one; interpolated the same way
  std::string severity;                // free text for receivers; defaults to the level
  std::vector<std::pair<std::string, std::string>> labels;
  bool enabled = true;
  // Where it was defined, for messages.
  std::string source;
  std::size_t line = 0;

  // The trigger of a firing level: crit for CRITICAL, else warn (crit when
  // the rule has no warn).
  [[nodiscard]] const std::optional<Threshold>& trigger_for(AlertState level) const {
    return level == AlertState::critical || !warn ? crit : warn;
  }

  // Whether this rule applies to that series (live or not).
  [[nodiscard]] bool selects(const SeriesInfo& info) const;
  // What it selects, for messages: "series 'cpu.*.busy_pct'", "family 'cpu.busy_pct' {cpu=\"*\"}".
  [[nodiscard]] std::string selector_text() const;

  // Same behaviour (ignores where it was defined).
  [[nodiscard]] bool same_behaviour(const AlertRule& other) const;
};

}  // namespace hostpulse
