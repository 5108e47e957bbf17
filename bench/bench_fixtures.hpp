#pragma once

// Shared by the benchmarks: realistic consecutive samples built from the
// captured /proc fixtures, so derive and the encoders see numbers shaped like
// a real host's (percentages with two decimals, byte counts, rates).

#include <cstdint>
#include <string>
#include <vector>

#include "agent/pipeline/schema.hpp"
#include "collectors/collector_table.hpp"

namespace hostpulse::bench {

// Reads every collector once from procfs_root (a fixture folder or /proc).
// Throws std::runtime_error naming the collector when one fails.
RawSample load_sample(const std::string& procfs_root);

// The schema the agent would build for this sample's online CPUs.
Schema schema_for(const RawSample& sample);

// A deterministic "one second later": every CPU accrues about 100 jiffies
// spread over its states, counters move, memory shifts a little. step varies
// the spread so successive points differ.
RawSample advance(const RawSample& previous, std::uint32_t step);

// The mirror image: a sample "one second earlier" than current, so a sample
// read from a fixture can be the current side of a realistic derive.
RawSample previous_of(const RawSample& current, std::uint32_t step);

}  // namespace hostpulse::bench
