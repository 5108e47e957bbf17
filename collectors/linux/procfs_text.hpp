#pragma once

// Shared scanning rules for the text files under procfs. The parsers here must
// survive anything (a bind-mounted fake /proc, a corrupt fixture), so every
// helper works on std::string_view, never reads past its end, and reports
// problems as values instead of throwing.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "base/quote.hpp"
#include "base/status.hpp"

namespace hostpulse::procfs_text {

// The kernel ends every procfs line with '\n'. Text that does not was cut
// off, and a cut number ("12345" read as "12") would otherwise parse as a
// smaller, valid-looking value, so parsers reject it up front.
inline Status check_complete(std::string_view text, std::string_view file_name) {
  if (text.empty()) return Status::failure(std::string(file_name) + ": file is empty");
  if (text.back() != '\n') {
    return Status::failure(std::string(file_name) +
                           ": text does not end with a newline (truncated read?)");
  }
  return Status::success();
}

// Hands out one line at a time without the '\n' (and without a trailing '\r',
// so files that went through a CRLF conversion still parse).
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : rest_(text) {}

  bool next(std::string_view& line) {
    if (rest_.empty()) return false;
    const std::size_t newline = rest_.find('\n');
    if (newline == std::string_view::npos) {
      line = rest_;
      rest_ = {};
    } else {
      line = rest_.substr(0, newline);
      rest_.remove_prefix(newline + 1);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number_;
    return true;
  }

  // 1-based number of the line most recently returned by next().
  [[nodiscard]] std::size_t line_number() const { return line_number_; }

 private:
  std::string_view rest_;
  std::size_t line_number_ = 0;
};

inline bool is_field_separator(char c) { return c == ' ' || c == '\t'; }

// Removes and returns the next run of non-separator characters; empty when the
// line has no more fields.
inline std::string_view next_field(std::string_view& line) {
  std::size_t start = 0;
  while (start < line.size() && is_field_separator(line[start])) ++start;
  std::size_t end = start;
  while (end < line.size() && !is_field_separator(line[end])) ++end;
  const std::string_view field = line.substr(start, end - start);
  line.remove_prefix(end);
  return field;
}

enum class NumberError : std::uint8_t { none, not_a_number, negative, out_of_range, not_finite };

// Whole-token parse: "12x", "0x1f", "+3" and "" are not numbers.
template <typename Unsigned>
NumberError parse_unsigned(std::string_view token, Unsigned& value) {
  const char* const end = token.data() + token.size();
  const auto [stop, error] = std::from_chars(token.data(), end, value);
  if (error == std::errc::result_out_of_range) return NumberError::out_of_range;
  if (error != std::errc{} || stop != end) {
    const bool looks_negative = token.size() > 1 && token[0] == '-' && token[1] >= '0' && token[1] <= '9';
    return looks_negative ? NumberError::negative : NumberError::not_a_number;
  }
  return NumberError::none;
}

// Gauges such as load and uptime: finite and not negative (not even -0).
inline NumberError parse_non_negative_double(std::string_view token, double& value) {
  const char* const end = token.data() + token.size();
  const auto [stop, error] = std::from_chars(token.data(), end, value);
  if (error == std::errc::result_out_of_range) return NumberError::out_of_range;
  if (error != std::errc{} || stop != end) return NumberError::not_a_number;
  if (!std::isfinite(value)) return NumberError::not_finite;
  if (std::signbit(value)) return NumberError::negative;
  return NumberError::none;
}

// Quotes a token for an error message (escaped and capped: garbage can hold
// control bytes or be megabytes long).
using ::hostpulse::quote;

// "expected a number, got 'x'" and friends. target names the type the value
// had to fit ("64 bits", "a double") so an overflow message states the limit.
inline std::string describe(NumberError error, std::string_view token,
                            std::string_view target = "64 bits") {
  switch (error) {
    case NumberError::none:
      break;
    case NumberError::not_a_number:
      return token.empty() ? std::string("expected a number, got nothing")
                           : "expected a number, got " + quote(token);
    case NumberError::negative:
      return "expected a non-negative number, got " + quote(token);
    case NumberError::out_of_range:
      return "value " + quote(token) + " does not fit in " + std::string(target);
    case NumberError::not_finite:
      return "expected a finite number, got " + quote(token);
  }
  return "no error";
}

}  // namespace hostpulse::procfs_text
