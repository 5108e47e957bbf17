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

// Resolves names and globs to series ids, in schema order per pattern, without
// duplicates. A name or glob that matches nothing is an error naming it, so a
// typo is reported instead of silently returning no data.
Status resolve_series(const Schema& schema, std::span<const std::string> patterns,
                      std::vector<std::uint32_t>& ids);

// Splits "a,b,c" (empty items are errors).
Status split_series_list(std::string_view text, std::vector<std::string>& patterns);

}  // namespace hostpulse
