#pragma once

#include <string>
#include <string_view>

#include "base/status.hpp"

namespace hostpulse {

// Canonical series names: a family's dotted name with, for a series per
// entity, the entity's label value in the place its template gives
// ("cpu.{cpu}.busy_pct" with cpu="3" is cpu.3.busy_pct). Persisted history and
// the fleet key on these names, so they must be unambiguous for any
// interface, device or mount-point string. This file is the one place that
// defines how a label value is written inside a name.
//
// Escaping: bytes outside [A-Za-z0-9_-/:@+] are written as %XX (two
// upper-case hex digits), so a value can never contain the name's own '.'
// separators, the glob '*', '%' itself, spaces, quotes, braces or control
// bytes; UTF-8 is escaped byte by byte. "eth0.100" -> "eth0%2E100",
// "/mnt/my disk" -> "/mnt/my%20disk". Names without labels are unchanged.
std::string escape_label_value(std::string_view value);
// The inverse; fails on a malformed escape.
Status unescape_label_value(std::string_view text, std::string& value);

// A series template split at its placeholder. "cpu.{cpu}.busy_pct" has
// prefix "cpu.", label "cpu", suffix ".busy_pct"; "mem.used_bytes" has no label.
struct SeriesTemplate {
  std::string_view prefix;
  std::string_view label;  // empty: a host-wide series
  std::string_view suffix;
  [[nodiscard]] bool per_entity() const { return !label.empty(); }
};
// Fails on more than one placeholder, an unclosed one, or a placeholder not
// between dots (or at an end), which would make the family ambiguous.
Status parse_series_template(std::string_view name, SeriesTemplate& out);

// "cpu.busy_pct" for both "cpu.{cpu}.busy_pct" and "cpu.busy_pct".
std::string series_family(const SeriesTemplate& parts);
// The canonical name for one entity (value unescaped); the template itself
// for a host-wide series.
std::string series_name(const SeriesTemplate& parts, std::string_view label_value);

}  // namespace hostpulse
