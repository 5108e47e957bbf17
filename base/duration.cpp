#include "base/duration.hpp"

#include <charconv>
#include <cstdint>

#include "base/quote.hpp"

namespace hostpulse {
namespace {

// Ten years: far past any sane window or timeout, far below overflow.
constexpr std::int64_t kMaxMilliseconds = 10LL * 366 * 24 * 3600 * 1000;

}  // namespace

Status parse_duration(std::string_view text, std::chrono::milliseconds& out) {
  const auto fail = [&](std::string_view why) {
    return Status::failure("invalid duration " + quote(text) + ": " + std::string(why) +
                           " (expected e.g. 500ms, 30s, 5m, 1h, 1m30s)");
  };
  if (text.empty()) return fail("empty");
  std::int64_t total = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::int64_t number = 0;
    const char* begin = text.data() + position;
    const char* end = text.data() + text.size();
    const auto [next, error] = std::from_chars(begin, end, number);
    if (error == std::errc::result_out_of_range) return fail("number too large");
    if (error != std::errc() || number < 0) return fail("expected a number");
    position = static_cast<std::size_t>(next - text.data());
    if (position < text.size() && (text[position] == '.' || text[position] == ',')) {
      return fail("fractions are not supported, use a smaller unit (1500ms, 90s)");
    }
    std::size_t unit_end = position;
    while (unit_end < text.size() && text[unit_end] >= 'a' && text[unit_end] <= 'z') ++unit_end;
    const std::string_view unit = text.substr(position, unit_end - position);
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit.empty()) return fail("missing unit");
    else return fail("unknown unit " + quote(unit));
    if (number > kMaxMilliseconds / scale || total + number * scale > kMaxMilliseconds) {
      return fail("longer than ten years");
    }
    total += number * scale;
    position = unit_end;
  }
  out = std::chrono::milliseconds(total);
  return Status::success();
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string text;
  if (ms < 0) {
    text = "-";
    ms = -ms;
  }
  struct Unit { std::int64_t scale; const char* name; };
  static constexpr Unit kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& unit : kUnits) {
    if (ms >= unit.scale) {
      text += std::to_string(ms / unit.scale) + unit.name;
      ms %= unit.scale;
    }
  }
  return text;
}

}  // namespace hostpulse
