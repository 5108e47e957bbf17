#pragma once

#include <cstddef>
#include <string_view>

#include "base/status.hpp"

namespace hostpulse {

// toml11 parses nested arrays and inline tables by recursion, so a few KiB of
// "a = [[[[…" overflow the stack (SIGSEGV). hostpulse's own files nest at most
// two levels (an [[alert]] table's labels = { … }); 32 is far beyond any sane
// file and far below what the stack holds.
inline constexpr std::size_t kMaxTomlNestingDepth = 32;

// toml11 takes quadratic time in the parts of a dotted key (a.b.c…: 4,000
// parts take seconds, the 500,000 of a 1 MiB file would take hours, on the
// thread that serves HTTP during a reload). hostpulse's keys have at most
// three parts; 32 is the same allowance as for nesting.
inline constexpr std::size_t kMaxTomlKeyParts = 32;

// toml11's time grows with (values on a line) x (length of that line): one
// line of 16,000 inline-table keys takes 17 s, and a 1 MiB line of 500,000
// array items minutes. hostpulse's one-line arrays and inline tables (origins,
// labels, headers) hold a handful of items; at 64, a 1 MiB file of such lines
// parses in about a second, what any 1 MiB file costs. Arrays written one
// item per line have no such limit.
inline constexpr std::size_t kMaxTomlValuesPerLine = 64;

// Checks what toml11 cannot be trusted with, before it sees the text:
//  - the text is UTF-8 (no overlong forms, surrogates or code points past
//    U+10FFFF; toml11 reads past its buffer on some invalid sequences), and
//  - arrays and inline tables nest at most kMaxTomlNestingDepth deep, and
//  - keys (in key = value, [headers] and inline tables) have at most
//    kMaxTomlKeyParts dotted parts, and
//  - no line holds more than kMaxTomlValuesPerLine values (commas).
// Pure (no filesystem); the config file and every rules file go through it.
// Errors name the file and line:
//   "rules.toml:3: nesting too deep (more than 32 levels of arrays/inline tables)"
//   "rules.toml:1: invalid UTF-8: byte 0xff is never valid in UTF-8"
// The scan knows TOML's lexical rules (basic, literal and multi-line strings,
// escapes, comments, [table] and [[array]] headers), so brackets inside
// strings and comments are not counted, nor dots in quoted keys and values.
// It is not a TOML validator: syntax errors are left to toml11.
Status prescan_toml(std::string_view text, std::string_view file_name);

}  // namespace hostpulse
