#include "bench/bench_fixtures.hpp"

#include <stdexcept>

namespace hostpulse::bench {

RawSample load_sample(const std::string& procfs_root) {
  CollectorSet collectors(HostPaths{procfs_root, "/sys"});
  RawSample sample;
  for (std::size_t i = 0; i < collectors.size(); ++i) {
    const Status status = collectors.collect_one(i, sample);
    if (!status.ok()) throw std::runtime_error(std::string(collectors.definition(i).name) + ": " + status.error);
  }
  return sample;
}

Schema schema_for(const RawSample& sample) {
  std::vector<std::uint32_t> cpu_ids;
  for (const CpuLine& line : sample.stat.cpus) cpu_ids.push_back(line.cpu);
  return Schema::canonical(cpu_ids);
}

namespace {

// A small LCG: the same numbers on every run and machine.
std::uint32_t next_random(std::uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}

void advance_cpu(CpuTimes& times, std::uint32_t& random) {
  const std::uint32_t user = next_random(random) % 60;
  const std::uint32_t system = next_random(random) % (100 - user) / 3;
  const std::uint32_t iowait = next_random(random) % 3;
  const std::uint32_t softirq = next_random(random) % 2;
  const std::uint32_t idle = 100 - user - system - iowait - softirq;
  times.jiffies[static_cast<std::size_t>(CpuState::user)] += user;
  times.jiffies[static_cast<std::size_t>(CpuState::system)] += system;
  times.jiffies[static_cast<std::size_t>(CpuState::iowait)] += iowait;
  times.jiffies[static_cast<std::size_t>(CpuState::softirq)] += softirq;
  times.jiffies[static_cast<std::size_t>(CpuState::idle)] += idle;
}

}  // namespace

RawSample advance(const RawSample& previous, std::uint32_t step) {
  RawSample next = previous;
  std::uint32_t random = 0x9e3779b9u ^ (step * 2654435761u);
  for (CpuLine& line : next.stat.cpus) advance_cpu(line.times, random);
  // The aggregate is the sum of the cores, as in the kernel.
  for (std::size_t state = 0; state < kCpuStateCount; ++state) {
    std::uint64_t before = 0;
    std::uint64_t after = 0;
    for (const CpuLine& line : previous.stat.cpus) before += line.times.jiffies[state];
    for (const CpuLine& line : next.stat.cpus) after += line.times.jiffies[state];
    next.stat.total.jiffies[state] += after - before;
  }
  next.stat.context_switches += 4000 + next_random(random) % 3000;
  next.stat.processes_forked += next_random(random) % 20;
  const std::uint64_t churn = 4096u * (next_random(random) % 5000);
  next.memory.free_bytes = next.memory.free_bytes > churn ? next.memory.free_bytes - churn : next.memory.free_bytes + churn;
  next.memory.available_bytes += 4096u * (next_random(random) % 100);
  next.memory.dirty_bytes = 4096u * (next_random(random) % 2000);
  next.uptime.uptime_s += 1.0;
  return next;
}

RawSample previous_of(const RawSample& current, std::uint32_t step) {
  const RawSample ahead = advance(current, step);
  RawSample previous = current;
  const auto rewind = [](std::uint64_t now, std::uint64_t later) { return now - (later - now); };
  for (std::size_t c = 0; c < previous.stat.cpus.size(); ++c) {
    for (std::size_t s = 0; s < kCpuStateCount; ++s) {
      previous.stat.cpus[c].times.jiffies[s] =
          rewind(current.stat.cpus[c].times.jiffies[s], ahead.stat.cpus[c].times.jiffies[s]);
    }
  }
  for (std::size_t s = 0; s < kCpuStateCount; ++s) {
    previous.stat.total.jiffies[s] = rewind(current.stat.total.jiffies[s], ahead.stat.total.jiffies[s]);
  }
  previous.stat.context_switches = rewind(current.stat.context_switches, ahead.stat.context_switches);
  previous.stat.processes_forked = rewind(current.stat.processes_forked, ahead.stat.processes_forked);
  return previous;
}

}  // namespace hostpulse::bench
