#pragma once

// allocs_per_iter for a Google Benchmark: calls of the global operator new
// between construction and report(), divided by the iterations. Needs
// bench/allocation_counter.cpp in the same program.

#include <benchmark/benchmark.h>

#include <cstdint>

#include "bench/allocation_counter.hpp"

namespace hostpulse::bench {

class AllocationProbe {
 public:
  explicit AllocationProbe(benchmark::State& state) : state_(state), start_(allocations()) {}
  void report() {
    const auto counted = static_cast<double>(allocations() - start_);
    state_.counters["allocs_per_iter"] =
        benchmark::Counter(counted / static_cast<double>(state_.iterations()));
  }

 private:
  benchmark::State& state_;
  std::uint64_t start_;
};

}  // namespace hostpulse::bench
