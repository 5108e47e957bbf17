#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hostpulse {

// The first byte of text that is not part of well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF) and what is wrong
// there. Text from outside (URLs, config and rule files) is checked with this
// before it reaches JSON or a parser that assumes valid UTF-8.
struct Utf8Error {
  std::size_t offset = 0;
  std::string reason;
};

namespace utf8_detail {
inline std::string hex_byte(unsigned char byte) {
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  return std::string("0x") + kHexDigits[byte >> 4] + kHexDigits[byte & 0x0f];
}
inline bool is_continuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }
}  // namespace utf8_detail

inline std::optional<Utf8Error> find_invalid_utf8(std::string_view text) {
  using utf8_detail::hex_byte;
  using utf8_detail::is_continuation;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    // The valid range of the second byte depends on the first: narrower
    // ranges exclude overlong forms (E0, F0), surrogates (ED) and code points
    // past U+10FFFF (F4).
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) second_min = 0xa0;
      if (lead == 0xed) second_max = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) second_min = 0x90;
      if (lead == 0xf4) second_max = 0x8f;
    } else if (lead == 0xc0 || lead == 0xc1) {
      return Utf8Error{i, "overlong encoding (byte " + hex_byte(lead) + ")"};
    } else if (is_continuation(lead)) {
      return Utf8Error{i, "byte " + hex_byte(lead) + " cannot start a character"};
    } else {
      return Utf8Error{i, "byte " + hex_byte(lead) + " is never valid in UTF-8"};
    }
    if (i + length > text.size()) return Utf8Error{i, "sequence cut off at the end of the text"};
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (!is_continuation(second)) {
      return Utf8Error{i, "byte " + hex_byte(lead) + " is not followed by a continuation byte"};
    }
    if (second < second_min || second > second_max) {
      const char* what = lead == 0xed ? "surrogate code point" : lead == 0xf4 ? "code point past U+10FFFF" : "overlong encoding";
      return Utf8Error{i, std::string(what) + " (bytes " + hex_byte(lead) + " " + hex_byte(second) + ")"};
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (!is_continuation(static_cast<unsigned char>(text[i + k]))) {
        return Utf8Error{i, "byte " + hex_byte(lead) + " is not followed by enough continuation bytes"};
      }
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace hostpulse
