#include "bench/bench_fixtures.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hostpulse::bench {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

template <class Raw>
void parse_file(const std::string& path, Status (*parse)(std::string_view, Raw&), Raw& out) {
  const Status status = parse(read_text(path), out);
  if (!status.ok()) throw std::runtime_error(path + ": " + status.error);
}

}  // namespace

HostReads load_reads(const std::string& procfs_root) {
  HostReads reads;
  parse_file(procfs_root + "/stat", &parse_proc_stat, reads.stat);
  parse_file(procfs_root + "/meminfo", &parse_proc_meminfo, reads.memory);
  parse_file(procfs_root + "/loadavg", &parse_proc_loadavg, reads.load);
  parse_file(procfs_root + "/uptime", &parse_proc_uptime, reads.uptime);
  return reads;
}

ReadsDeriver::ReadsDeriver() : registry_(core_sources()) {}

void ReadsDeriver::derive(const HostReads& previous, const HostReads& current, double elapsed_s,
                          std::vector<double>& values) {
  const std::span<const SourceDefinition> sources = core_sources();
  registry_.begin_tick(++seq_, values);
  const DeriveContext context{.elapsed_s = elapsed_s, .facts = {.cpus_online = current.stat.cpus.size()}};
  bool ok[4] = {true, true, true, true};
  for (std::size_t index = 0; index < sources.size() && index < 4; ++index) {
    SeriesWriter& out = registry_.writer(index);
    const std::string_view name = sources[index].name;
    if (name == "proc_stat") derive_proc_stat(&previous.stat, current.stat, context, out);
    if (name == "proc_meminfo") derive_proc_meminfo(&previous.memory, current.memory, context, out);
    if (name == "proc_loadavg") derive_proc_loadavg(&previous.load, current.load, context, out);
    if (name == "proc_uptime") derive_proc_uptime(&previous.uptime, current.uptime, context, out);
  }
  registry_.end_tick(std::span<const bool>(ok, std::min<std::size_t>(sources.size(), 4)));
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

HostReads advance(const HostReads& previous, std::uint32_t step) {
  HostReads next = previous;
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

HostReads previous_of(const HostReads& current, std::uint32_t step) {
  const HostReads ahead = advance(current, step);
  HostReads previous = current;
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
