#pragma once

// Quoting untrusted text in error messages. Garbage (a corrupt procfs file, a
// hostile config file) can hold control bytes or be megabytes long, and an
// error message ends up in a log or on a terminal, so what is shown is
// escaped and capped.

#include <cstddef>
#include <string>
#include <string_view>

namespace hostpulse {

// Enough to recognise a value in a message; anything longer is cut with "...".
inline constexpr std::size_t kMaxQuotedBytes = 40;

// The text with bytes outside printable ASCII (and the backslash) written as
// \xNN, cut after max_shown_bytes input bytes.
inline std::string escape_capped(std::string_view text, std::size_t max_shown_bytes = kMaxQuotedBytes) {
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  std::string escaped;
  const std::size_t shown = text.size() < max_shown_bytes ? text.size() : max_shown_bytes;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      escaped += static_cast<char>(byte);
    } else {
      escaped += "\\x";
      escaped += kHexDigits[byte >> 4];
      escaped += kHexDigits[byte & 0x0f];
    }
  }
  if (shown < text.size()) escaped += "...";
  return escaped;
}

// escape_capped in single quotes: "expected a number, got 'x'".
inline std::string quote(std::string_view text, std::size_t max_shown_bytes = kMaxQuotedBytes) {
  return "'" + escape_capped(text, max_shown_bytes) + "'";
}

}  // namespace hostpulse
