#pragma once

// Counts every call of the global operator new in this program (defined in
// allocation_counter.cpp, which replaces the global operators). Benchmarks
// read the counter around their loop to report allocations per iteration.

#include <cstdint>

namespace hostpulse::bench {

std::uint64_t allocations();

}  // namespace hostpulse::bench
