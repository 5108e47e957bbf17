#include "agent/pipeline/series_selector.hpp"

#include "agent/pipeline/series_match.hpp"

namespace hostpulse {

bool SeriesSelector::matches(const SeriesInfo& info) const {
  if (!pattern.empty()) {
    return pattern.find('*') == std::string::npos ? pattern == info.name : glob_match(pattern, info.name);
  }
  return glob_match(family, info.family) && label_globs_match(info, labels);
}

std::string SeriesSelector::describe() const {
  if (!pattern.empty()) return pattern;
  std::string text = family + "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) text += ",";
    text += labels[i].name + "=\"" + labels[i].value + "\"";
  }
  return text + "}";
}

Status validate_selector(const SeriesSelector& selector) {
  if (selector.pattern.empty() == selector.family.empty()) {
    return Status::failure("give a name or glob, or a family (with labels), not both or neither");
  }
  if (!selector.pattern.empty() && !selector.labels.empty()) return Status::failure("labels go with a family");
  if (selector.pattern.size() > kMaxSelectorTextBytes || selector.family.size() > kMaxSelectorTextBytes) {
    return Status::failure("longer than " + std::to_string(kMaxSelectorTextBytes) + " characters");
  }
  if (selector.labels.size() > kMaxSelectorLabels) {
    return Status::failure("more than " + std::to_string(kMaxSelectorLabels) + " label matchers");
  }
  for (const auto& [label, value] : selector.labels) {
    if (label.empty() || label.size() > kMaxSelectorTextBytes || value.size() > kMaxSelectorTextBytes) {
      return Status::failure("label names must be 1 to " + std::to_string(kMaxSelectorTextBytes) +
                             " characters, values at most that");
    }
  }
  return Status::success();
}

std::vector<SeriesSelector> selectors_from_patterns(std::span<const std::string> patterns) {
  std::vector<SeriesSelector> selectors;
  selectors.reserve(patterns.size());
  for (const std::string& pattern : patterns) selectors.push_back(SeriesSelector{.pattern = pattern, .family = {}, .labels = {}});
  return selectors;
}

Status resolve_selectors(const Schema& schema, std::span<const SeriesSelector> selectors, bool include_retired,
                         bool require_match, std::vector<std::uint32_t>& ids) {
  ids.clear();
  std::vector<bool> taken(schema.size(), false);
  for (const SeriesSelector& selector : selectors) {
    bool matched = false;
    for (const SeriesInfo& info : schema.series()) {
      if (!include_retired && !info.live) continue;
      if (!selector.matches(info)) continue;
      matched = true;
      if (!taken[info.id]) {
        taken[info.id] = true;
        ids.push_back(info.id);
      }
    }
    if (!matched && require_match) {
      const bool is_glob = selector.describe().find('*') != std::string::npos || !selector.family.empty();
      return Status::failure(std::string(is_glob ? "no series matches '" : "unknown series '") + selector.describe() + "'");
    }
  }
  return Status::success();
}

}  // namespace hostpulse
