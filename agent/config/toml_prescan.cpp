#include "agent/config/toml_prescan.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "base/utf8.hpp"

namespace hostpulse {
namespace {

// Walks the text as TOML's lexer would, as far as nesting and keys are
// concerned. Brackets inside strings and comments are content; a '[' that
// starts a line outside any array opens a [table] or [[array of tables]]
// header, which is not nesting.
class NestingScanner {
 public:
  enum class Problem : std::uint8_t { none, too_deep, too_many_key_parts, too_many_values_on_line };

  explicit NestingScanner(std::string_view text) : text_(text) {}

  Problem scan() {
    // The open arrays ('[') and inline tables ('{'), innermost last; never
    // longer than the limit, as the scan stops there.
    std::string open;
    // Only whitespace seen since the last newline.
    bool line_start = true;
    // A key is expected: at the start of a top-level line, in a header, and
    // after '{' or ',' in an inline table. Dots there separate key parts.
    bool in_key = true;
    std::size_t key_parts = 1;
    // Commas outside strings on the current line (a multi-line string in
    // between starts a new one).
    std::size_t commas = 0;
    std::size_t comma_line = line_;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (c == '\n') {
        ++line_;
        line_start = true;
        if (open.empty()) {
          in_key = true;
          key_parts = 1;
        }
        ++position_;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++position_;
        continue;
      }
      const bool at_line_start = line_start;
      line_start = false;
      switch (c) {
        case '#':
          skip_to_end_of_line();
          continue;
        case '"':
        case '\'':
          if (!skip_string(c)) return Problem::none;  // never closed: toml11 reports it
          continue;
        case '[':
        case '{':
          if (c == '[' && at_line_start && open.empty()) {
            position_ += next_is("[[") ? 2 : 1;
            in_key = true;
            key_parts = 1;
            continue;
          }
          open.push_back(c);
          if (open.size() > kMaxTomlNestingDepth) return Problem::too_deep;
          in_key = c == '{';
          key_parts = 1;
          break;
        case ']':
        case '}':
          // A header's closing brackets were never counted and stray closers
          // are toml11's to report: never going below zero keeps every later
          // opener counted.
          if (!open.empty()) open.pop_back();
          in_key = false;
          break;
        case ',':
          if (comma_line != line_) {
            comma_line = line_;
            commas = 0;
          }
          if (++commas >= kMaxTomlValuesPerLine) return Problem::too_many_values_on_line;
          if (!open.empty() && open.back() == '{') {
            in_key = true;
            key_parts = 1;
          }
          break;
        case '=':
          in_key = false;
          break;
        case '.':
          if (in_key && ++key_parts > kMaxTomlKeyParts) return Problem::too_many_key_parts;
          break;
        default:
          break;
      }
      ++position_;
    }
    return Problem::none;
  }

  // The line the scan stopped on.
  [[nodiscard]] std::size_t line() const { return line_; }

 private:
  bool next_is(std::string_view prefix) const { return text_.substr(position_, prefix.size()) == prefix; }

  void skip_to_end_of_line() {
    while (position_ < text_.size() && text_[position_] != '\n') ++position_;
  }

  // Skips the string starting at position_ (quote is '"' or '\''). False when
  // a multi-line string is never closed.
  bool skip_string(char quote) {
    const bool escapes = quote == '"';
    const std::string_view triple = quote == '"' ? "\"\"\"" : "\'\'\'";
    if (next_is(triple)) {
      position_ += 3;
      while (position_ < text_.size()) {
        const char c = text_[position_];
        if (c == '\n') ++line_;
        if (escapes && c == '\\') {
          // The escaped byte is content (\" does not close); a newline after
          // the backslash is a line-ending backslash and still a line.
          if (position_ + 1 < text_.size() && text_[position_ + 1] == '\n') ++line_;
          position_ += 2;
          continue;
        }
        if (c == quote) {
          std::size_t run = 0;
          while (position_ + run < text_.size() && text_[position_ + run] == quote) ++run;
          position_ += run;
          // Up to two quotes right before the closing three are content
          // ("""a"""""); more than five are toml11's error to report, and
          // ending the string here keeps whatever follows counted.
          if (run >= 3) return true;
          continue;
        }
        ++position_;
      }
      return false;
    }
    // A single-line string ends at its quote or, if unterminated, at the end
    // of its line, so everything on the following lines is still counted.
    ++position_;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (c == '\n') return true;
      if (escapes && c == '\\') {
        position_ += (position_ + 1 < text_.size() && text_[position_ + 1] != '\n') ? 2 : 1;
        continue;
      }
      ++position_;
      if (c == quote) return true;
    }
    return true;
  }

  std::string_view text_;
  std::size_t position_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

Status prescan_toml(std::string_view text, std::string_view file_name) {
  const std::string name(file_name);
  if (const std::optional<Utf8Error> problem = find_invalid_utf8(text)) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(problem->offset), '\n');
    return Status::failure(name + ":" + std::to_string(line) + ": invalid UTF-8: " + problem->reason);
  }
  NestingScanner scanner(text);
  switch (scanner.scan()) {
    case NestingScanner::Problem::none:
      break;
    case NestingScanner::Problem::too_deep:
      return Status::failure(name + ":" + std::to_string(scanner.line()) + ": nesting too deep (more than " +
                             std::to_string(kMaxTomlNestingDepth) + " levels of arrays/inline tables)");
    case NestingScanner::Problem::too_many_key_parts:
      return Status::failure(name + ":" + std::to_string(scanner.line()) + ": key with more than " +
                             std::to_string(kMaxTomlKeyParts) + " dotted parts");
    case NestingScanner::Problem::too_many_values_on_line:
      return Status::failure(name + ":" + std::to_string(scanner.line()) + ": more than " +
                             std::to_string(kMaxTomlValuesPerLine) +
                             " values on one line (put the items of a long array on lines of their own)");
  }
  return Status::success();
}

}  // namespace hostpulse
