#include "agent/pipeline/series_match.hpp"

#include <algorithm>

#include "agent/pipeline/series_selector.hpp"

namespace hostpulse {

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative matcher with one backtrack point: linear-ish, no recursion, so a
  // hostile pattern like "*a*a*a*b" cannot blow the stack.
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool labels_match(const SeriesInfo& info, std::string_view family, std::span<const SeriesLabel> label_globs) {
  if (family.empty() || info.family != family) return false;
  return label_globs_match(info, label_globs);
}

bool label_globs_match(const SeriesInfo& info, std::span<const SeriesLabel> label_globs) {
  return std::all_of(label_globs.begin(), label_globs.end(), [&](const SeriesLabel& wanted) {
    return std::any_of(info.labels.begin(), info.labels.end(), [&](const SeriesLabel& label) {
      return label.name == wanted.name && glob_match(wanted.value, label.value);
    });
  });
}

Status resolve_series(const Schema& schema, std::span<const std::string> patterns,
                      std::vector<std::uint32_t>& ids) {
  return resolve_selectors(schema, selectors_from_patterns(patterns), false, true, ids);
}

Status split_series_list(std::string_view text, std::vector<std::string>& patterns) {
  patterns.clear();
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (item.empty()) return Status::failure("empty series name in list");
    if (item.size() > 256) return Status::failure("series name longer than 256 characters");
    patterns.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return Status::success();
}

}  // namespace hostpulse
