#pragma once

#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/uptime: "350735.47 234388.90" (seconds up, idle seconds summed over CPUs).
struct Uptime {
  double uptime_s = 0;
  double idle_s = 0;
};

// Exactly one line, ending in '\n' (else reported as truncated); both values
// finite and not negative. idle_s is normally larger than uptime_s.
Status parse_proc_uptime(std::string_view text, Uptime& out);

// The source: time since boot.
void derive_proc_uptime(const Uptime* previous, const Uptime& current, const DeriveContext& context,
                        SeriesWriter& out);
SourceDefinition proc_uptime_source();

}  // namespace hostpulse
