// Feeds every parser cut-off fixtures and pseudo-random bytes. Run under
// ASan/UBSan (-DHOSTPULSE_SANITIZE=ON) this is what proves "never reads out of
// bounds, never crashes"; without sanitizers it still checks ok/!ok rules.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/linux/proc_loadavg.hpp"
#include "collectors/linux/proc_meminfo.hpp"
#include "collectors/linux/proc_stat.hpp"
#include "collectors/linux/proc_uptime.hpp"
#include "tests/collectors/fixture_files.hpp"

namespace hostpulse {
namespace {

using testing_support::kGoodCases;
using testing_support::read_fixture;

// Copies into a heap block of exactly text.size() bytes, so a parser reading
// one byte past the end hits ASan's redzone instead of the rest of a fixture
// or a std::string's terminating NUL.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view text) : bytes_(text.begin(), text.end()) {}
  [[nodiscard]] std::string_view view() const { return {bytes_.data(), bytes_.size()}; }

 private:
  std::vector<char> bytes_;
};

// Parsed results that must hold whenever a parser says ok, whatever the input.
void expect_invariants(const ProcStat& stat) {
  EXPECT_GE(stat.total.columns, 4u);
  EXPECT_LE(stat.total.columns, kCpuStateCount);
  EXPECT_LE(stat.cpus.size(), static_cast<std::size_t>(kMaxCpuId) + 1);
  for (const CpuLine& cpu : stat.cpus) {
    EXPECT_LE(cpu.cpu, kMaxCpuId);
    EXPECT_EQ(cpu.times.columns, stat.total.columns);
  }
}

void expect_invariants(const MemInfo& memory) {
  if (memory.available_estimated) {
    EXPECT_LE(memory.available_bytes, memory.total_bytes);
  }
  EXPECT_EQ(memory.total_bytes % 1024, 0u);
}

void expect_invariants(const LoadAvg& load) {
  for (const double value : {load.load_1m, load.load_5m, load.load_15m}) {
    EXPECT_TRUE(std::isfinite(value));
    EXPECT_FALSE(std::signbit(value));
  }
}

void expect_invariants(const Uptime& uptime) {
  EXPECT_TRUE(std::isfinite(uptime.uptime_s) && std::isfinite(uptime.idle_s));
  EXPECT_FALSE(std::signbit(uptime.uptime_s) || std::signbit(uptime.idle_s));
}

// Runs all four parsers; returns nothing because the only claim is "survives".
void parse_with_every_parser(std::string_view text, ProcStat& stat) {
  if (parse_proc_stat(text, stat).ok()) expect_invariants(stat);
  MemInfo memory;
  if (parse_proc_meminfo(text, memory).ok()) expect_invariants(memory);
  LoadAvg load;
  if (parse_proc_loadavg(text, load).ok()) expect_invariants(load);
  Uptime uptime;
  if (parse_proc_uptime(text, uptime).ok()) expect_invariants(uptime);
}

std::size_t count_lines(std::string_view text) { return static_cast<std::size_t>(std::ranges::count(text, '\n')); }

// A prefix is a cut-off read. Rule: ok only if it ends at a line break and
// holds every required line; then what was parsed matches the full file.
TEST(ParserRobustnessTest, StatPrefixes) {
  for (const std::string_view case_name : kGoodCases) {
    SCOPED_TRACE(case_name);
    const std::string full_text = read_fixture(case_name, "stat");
    ProcStat full;
    ASSERT_TRUE(parse_proc_stat(full_text, full).ok());
    ProcStat prefix_stat;
    for (std::size_t length = 0; length <= full_text.size(); ++length) {
      const ExactBuffer prefix(std::string_view(full_text).substr(0, length));
      const Status status = parse_proc_stat(prefix.view(), prefix_stat);
      // Every good fixture has the aggregate cpu line first.
      const bool expect_ok = length > 0 && full_text[length - 1] == '\n';
      ASSERT_EQ(status.ok(), expect_ok) << "prefix length " << length << ": " << status.error;
      if (!status.ok()) {
        EXPECT_FALSE(status.error.empty());
        continue;
      }
      ASSERT_EQ(prefix_stat.total.jiffies, full.total.jiffies);
      ASSERT_LE(prefix_stat.cpus.size(), full.cpus.size());
      for (std::size_t index = 0; index < prefix_stat.cpus.size(); ++index) {
        ASSERT_EQ(prefix_stat.cpus[index].cpu, full.cpus[index].cpu);
        ASSERT_EQ(prefix_stat.cpus[index].times.jiffies, full.cpus[index].times.jiffies);
      }
      for (const auto& [parsed, complete] :
           {std::pair{prefix_stat.context_switches, full.context_switches},
            std::pair{prefix_stat.processes_forked, full.processes_forked},
            std::pair{prefix_stat.boot_time_s, full.boot_time_s},
            std::pair<std::uint64_t, std::uint64_t>{prefix_stat.procs_running, full.procs_running}}) {
        ASSERT_TRUE(parsed == 0 || parsed == complete);
      }
    }
  }
}

TEST(ParserRobustnessTest, MeminfoPrefixes) {
  for (const std::string_view case_name : kGoodCases) {
    SCOPED_TRACE(case_name);
    const std::string full_text = read_fixture(case_name, "meminfo");
    MemInfo full;
    ASSERT_TRUE(parse_proc_meminfo(full_text, full).ok());
    for (std::size_t length = 0; length <= full_text.size(); ++length) {
      const ExactBuffer prefix(std::string_view(full_text).substr(0, length));
      MemInfo memory;
      const Status status = parse_proc_meminfo(prefix.view(), memory);
      // Every good fixture starts with MemTotal then MemFree.
      const bool expect_ok = length > 0 && full_text[length - 1] == '\n' && count_lines(prefix.view()) >= 2;
      ASSERT_EQ(status.ok(), expect_ok) << "prefix length " << length << ": " << status.error;
      if (!status.ok()) continue;
      ASSERT_EQ(memory.total_bytes, full.total_bytes);
      ASSERT_EQ(memory.free_bytes, full.free_bytes);
      for (const auto& [parsed, complete] : {std::pair{memory.cached_bytes, full.cached_bytes},
                                             std::pair{memory.swap_free_bytes, full.swap_free_bytes},
                                             std::pair{memory.slab_reclaimable_bytes, full.slab_reclaimable_bytes}}) {
        ASSERT_TRUE(parsed == 0 || parsed == complete);
      }
    }
  }
}

// The same prefixes with a '\n' appended get past the truncation check, so
// the parsers see lines cut anywhere: any verdict is fine, a crash is not.
TEST(ParserRobustnessTest, PrefixesCompletedWithNewline) {
  ProcStat stat;
  for (const std::string_view case_name : kGoodCases) {
    SCOPED_TRACE(case_name);
    for (const std::string_view file_name : {"stat", "meminfo", "loadavg", "uptime"}) {
      SCOPED_TRACE(file_name);
      const std::string full_text = read_fixture(case_name, file_name);
      for (std::size_t length = 0; length <= full_text.size(); ++length) {
        std::string completed = full_text.substr(0, length);
        completed += '\n';
        const ExactBuffer buffer(completed);
        parse_with_every_parser(buffer.view(), stat);
        ASSERT_FALSE(HasFailure()) << "prefix length " << length;
      }
    }
  }
}

TEST(ParserRobustnessTest, SingleLinePrefixes) {
  for (const std::string_view case_name : kGoodCases) {
    SCOPED_TRACE(case_name);
    for (const std::string_view file_name : {"loadavg", "uptime"}) {
      SCOPED_TRACE(file_name);
      const std::string full_text = read_fixture(case_name, file_name);
      for (std::size_t length = 0; length <= full_text.size(); ++length) {
        const ExactBuffer prefix(std::string_view(full_text).substr(0, length));
        LoadAvg load;
        Uptime uptime;
        const Status status = file_name == "loadavg" ? parse_proc_loadavg(prefix.view(), load)
                                                     : parse_proc_uptime(prefix.view(), uptime);
        ASSERT_EQ(status.ok(), length == full_text.size()) << "prefix length " << length << ": " << status.error;
      }
    }
  }
}

// Fragments that steer random input deep into the parsers instead of being
// rejected on the first byte.
constexpr std::array<std::string_view, 36> kFragments = {
    "cpu",   "cpu ",     "cpu0 ",        "cpu1 ",     "cpu8191 ",       "cpu9999 ",  " ",        "\t",
    "\n",    "\r\n",     "\r",           "0",         "1",              "12345 ",    "-",        "+",
    ".",     "/",        ":",            " kB",       "MemTotal:",      "MemFree:",  "MemAvailable:",
    "ctxt ", "intr 1 2", "procs_running ", "18446744073709551615", "18446744073709551616", "0.5 ", "inf",
    "nan",   "1e999",    "1/2 ",         "x",         std::string_view("\0", 1), "btime "};

std::string random_bytes(std::mt19937& engine, std::size_t length) {
  std::string text(length, '\0');
  for (char& byte : text) byte = static_cast<char>(engine() & 0xffu);
  return text;
}

std::string random_fragments(std::mt19937& engine, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += kFragments[engine() % kFragments.size()];
  return text;
}

TEST(ParserRobustnessTest, RandomInputNeverCrashes) {
  std::mt19937 engine(20251122);  // fixed: a failure must reproduce
  ProcStat stat;                  // shared, so the capacity-reuse path is fuzzed too
  for (int round = 0; round < 3000; ++round) {
    const std::size_t length = engine() % 300;
    std::string text = round % 2 == 0 ? random_bytes(engine, length) : random_fragments(engine, length / 4);
    // Half end in '\n' so they get past the truncation check.
    if (round % 4 < 2) text += '\n';
    const ExactBuffer buffer(text);
    parse_with_every_parser(buffer.view(), stat);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
}

TEST(ParserRobustnessTest, MutatedFixturesNeverCrash) {
  std::mt19937 engine(7);
  ProcStat stat;
  for (const std::string_view case_name : {"linux6_2cpu", "linux2_6_old", "extra_fields", "cpu_offline"}) {
    for (const std::string_view file_name : {"stat", "meminfo", "loadavg", "uptime"}) {
      const std::string original = read_fixture(case_name, file_name);
      for (int round = 0; round < 250; ++round) {
        std::string text = original;
        const std::size_t edits = 1 + engine() % 4;
        for (std::size_t edit = 0; edit < edits && !text.empty(); ++edit) {
          const std::size_t position = engine() % text.size();
          switch (engine() % 4) {
            case 0:
              text[position] = static_cast<char>(engine() & 0xffu);
              break;
            case 1:
              text.erase(position, 1 + engine() % 8);
              break;
            case 2:
              text.insert(position, kFragments[engine() % kFragments.size()]);
              break;
            default:
              text[position] = static_cast<char>(text[position] ^ 0x10);
              break;
          }
        }
        const ExactBuffer buffer(text);
        parse_with_every_parser(buffer.view(), stat);
        if (HasFailure()) {
          ADD_FAILURE() << case_name << "/" << file_name << " round " << round;
          return;
        }
      }
    }
  }
}

TEST(ParserRobustnessTest, HugeInputsStayBounded) {
  ProcStat stat;
  // One enormous line of digits, and a line of a million separators.
  const std::string digits = "cpu " + std::string(1 << 20, '9') + " 1 2 3\n";
  EXPECT_FALSE(parse_proc_stat(digits, stat).ok());
  const std::string spaces = "cpu" + std::string(1 << 20, ' ') + "1 2 3 4\n";
  EXPECT_TRUE(parse_proc_stat(spaces, stat).ok());
  // Every possible cpu id once: the largest legal file.
  std::string all_cpus = "cpu 1 1 1 1\n";
  for (std::uint32_t cpu = 0; cpu <= kMaxCpuId; ++cpu) all_cpus += "cpu" + std::to_string(cpu) + " 1 1 1 1\n";
  ASSERT_TRUE(parse_proc_stat(all_cpus, stat).ok());
  EXPECT_EQ(stat.cpus.size(), static_cast<std::size_t>(kMaxCpuId) + 1);
}

}  // namespace
}  // namespace hostpulse
