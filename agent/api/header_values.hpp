#pragma once

#include <charconv>
#include <string_view>

// Parsing of HTTP list headers with q-values (Accept, Accept-Encoding,
// If-None-Match), shared by the asset server and /metrics.
namespace hostpulse::header_values {

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Calls visit(item) for each comma-separated, trimmed, non-empty item.
template <typename Visit>
void for_each_list_item(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) visit(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// "gzip;q=0.5" -> 0.5; no q -> 1; an unreadable q -> 0 (ignore the coding).
inline double quality(std::string_view parameters) {
  double q = 1.0;
  while (!parameters.empty()) {
    const std::size_t semicolon = parameters.find(';');
    const std::string_view parameter = trim(parameters.substr(0, semicolon));
    if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
      const std::string_view number = trim(parameter.substr(2));
      const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), q);
      if (error != std::errc() || end != number.data() + number.size() || q < 0 || q > 1) return 0.0;
    }
    if (semicolon == std::string_view::npos) break;
    parameters.remove_prefix(semicolon + 1);
  }
  return q;
}

}  // namespace hostpulse::header_values
