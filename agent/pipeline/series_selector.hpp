#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "agent/pipeline/schema.hpp"
#include "base/status.hpp"

namespace hostpulse {

// Which series a subscription, a REST query or a rule asks for: a canonical
// name or glob ("cpu.*.busy_pct"; '*' matches any characters, dots
// included), or a family glob with label matchers ({family "cpu.busy_pct",
// labels {cpu: "*"}}: every per-CPU series of that family). One of the two.
struct SeriesSelector {
  std::string pattern;  // a name or a glob over canonical names; empty when family is used
  std::string family;   // a glob over families
  std::vector<SeriesLabel> labels;  // label name -> glob over its value

  [[nodiscard]] bool matches(const SeriesInfo& info) const;
  // For messages: the pattern, or family{label="glob",...}.
  [[nodiscard]] std::string describe() const;
  bool operator==(const SeriesSelector&) const = default;
};

// Limits on a selector from outside (stream, REST, config).
inline constexpr std::size_t kMaxSelectorTextBytes = 256;  // a pattern, family, label name or value
inline constexpr std::size_t kMaxSelectorLabels = 16;

// Checks sizes and that exactly one of pattern and family is given.
Status validate_selector(const SeriesSelector& selector);

std::vector<SeriesSelector> selectors_from_patterns(std::span<const std::string> patterns);

// Series ids matching the selectors, in schema (id) order per selector,
// without duplicates. Retired series count only with include_retired. With
// require_match, a selector that matches nothing is an error naming it (a
// typo is reported instead of silently returning no data).
Status resolve_selectors(const Schema& schema, std::span<const SeriesSelector> selectors, bool include_retired,
                         bool require_match, std::vector<std::uint32_t>& ids);

}  // namespace hostpulse
