#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.hpp"

namespace hostpulse {

struct RequestTarget {
  std::string path;  // percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order

  // The value of a query parameter given once; nullptr when absent.
  [[nodiscard]] const std::string* parameter(std::string_view name) const;
};

// Splits "/path?a=1&b=x%20y" and percent-decodes both parts ('+' is a space in
// the query). Bad escapes, NUL bytes, more than kMaxQueryParameters
// parameters and repeated parameters are errors.
inline constexpr std::size_t kMaxQueryParameters = 32;
Status parse_request_target(std::string_view target, RequestTarget& out);

}  // namespace hostpulse
