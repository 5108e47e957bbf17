#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/schema.hpp"
#include "base/status.hpp"

namespace hostpulse {

// '*' matches any run of characters (dots included), everything else itself:
// "cpu.*" matches "cpu.busy_pct" and "cpu.3.user_pct"; "cpu.*.busy_pct" only per-core.
bool glob_match(std::string_view pattern, std::string_view name);

// A selection by family and labels, the way alert rules and stream clients
// name series without spelling their names: the series is of `family` and
// has every listed label with a value matching its glob (value "*": the
// label is present, whatever its value). Labels not listed are not looked at,
// so { cpu = "*" } selects the per-core series of cpu.busy_pct, not the
// host-wide one. An empty family matches nothing.
// Every wanted label is present with a value matching its glob (the one
// label matcher: alert rules, subscriptions and REST queries use it).
bool label_globs_match(const SeriesInfo& info, std::span<const SeriesLabel> label_globs);
bool labels_match(const SeriesInfo& info, std::string_view family, std::span<const SeriesLabel> label_globs);

// Resolves names and globs to series ids, in schema order per pattern, without
// duplicates. A name or glob that matches nothing is an error naming it, so a
// typo is reported instead of silently returning no data.
Status resolve_series(const Schema& schema, std::span<const std::string> patterns,
                      std::vector<std::uint32_t>& ids);

// Splits "a,b,c" (empty items are errors).
Status split_series_list(std::string_view text, std::vector<std::string>& patterns);

}  // namespace hostpulse
