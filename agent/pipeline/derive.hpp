#pragma once

#include <span>

#include "agent/pipeline/schema.hpp"
#include "collectors/raw_sample.hpp"

namespace hostpulse {

// The one place raw counters become numbers people read (STYLE rule 4).
// Pure: writes one value per schema series into out (out.size() == schema.size()).
// NaN means "no value this tick": the source failed, the CPU was offline in
// either sample, a counter went backwards (reset), or no time passed.
//
// CPU percentages are shares of the jiffies that passed between the samples,
// so they sum to 100 over user..steal (guest and guest_nice are already
// inside user and nice). busy = 100 - idle - iowait. A single column that
// steps backwards (Linux's per-CPU iowait can) counts as zero rather than
// turning the whole CPU into a reset. Percentages and rates are rounded to 0.01.
void derive(const Schema& schema, const RawSample& previous, const RawSample& current,
            double elapsed_s, std::span<double> out);

}  // namespace hostpulse
