#include "collectors/linux/proc_vmstat.hpp"

#include <array>
#include <cstddef>
#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

struct UsedCounter {
  std::string_view key;
  VmStatCounter VmStat::*counter;
};

// In the order the kernel prints them.
constexpr std::array<UsedCounter, 7> kCounters = {{
    {"pgpgin", &VmStat::pages_in_kib},
    {"pgpgout", &VmStat::pages_out_kib},
    {"pswpin", &VmStat::swap_ins},
    {"pswpout", &VmStat::swap_outs},
    {"pgfault", &VmStat::faults},
    {"pgmajfault", &VmStat::major_faults},
    {"oom_kill", &VmStat::oom_kills},
}};

std::string line_prefix(std::size_t line_number, std::string_view key) {
  return "vmstat line " + std::to_string(line_number) + ": " + std::string(key) + ": ";
}

}  // namespace

Status parse_proc_vmstat(std::string_view text, VmStat& out) {
  if (Status complete = procfs_text::check_complete(text, "vmstat"); !complete.ok()) return complete;

  out = VmStat{};
  // Line each counter was found on (0: not yet), for duplicates.
  std::array<std::size_t, kCounters.size()> found_on_line{};
  bool any = false;

  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    const std::string_view key = next_field(rest);
    std::size_t index = 0;
    while (index < kCounters.size() && kCounters[index].key != key) ++index;
    if (index == kCounters.size()) continue;  // one of the hundreds we do not keep

    const std::size_t line_number = lines.line_number();
    if (found_on_line[index] != 0) {
      return Status::failure(line_prefix(line_number, key) + "appears twice (first on line " +
                             std::to_string(found_on_line[index]) + ")");
    }
    found_on_line[index] = line_number;
    VmStatCounter& counter = out.*kCounters[index].counter;
    const std::string_view value = next_field(rest);
    if (const NumberError error = procfs_text::parse_unsigned(value, counter.value); error != NumberError::none) {
      return Status::failure(line_prefix(line_number, key) + procfs_text::describe(error, value));
    }
    if (const std::string_view extra = next_field(rest); !extra.empty()) {
      return Status::failure(line_prefix(line_number, key) + "unexpected " + quote(extra) + " after the value");
    }
    counter.present = true;
    any = true;
  }
  if (!any) {
    return Status::failure("vmstat: none of pgpgin, pgpgout, pswpin, pswpout, pgfault, pgmajfault, oom_kill found");
  }
  return Status::success();
}

namespace {

using derive_math::rate;

enum Spec : std::size_t { kPageIns, kPageOuts, kSwapIns, kSwapOuts, kMajorFaults, kOomKills };

constexpr SeriesSpec kSeries[] = {
    {"vm.page_ins_per_s", "per_second", SeriesKind::rate, "KiB paged in from disk per second (pgpgin)", 2},
    {"vm.page_outs_per_s", "per_second", SeriesKind::rate, "KiB paged out to disk per second (pgpgout)", 2},
    {"vm.swap_ins_per_s", "per_second", SeriesKind::rate, "Pages swapped in per second (pswpin)", 2},
    {"vm.swap_outs_per_s", "per_second", SeriesKind::rate, "Pages swapped out per second (pswpout)", 2},
    {"vm.major_faults_per_s", "per_second", SeriesKind::rate,
     "Page faults that needed disk I/O, per second (pgmajfault)", 2},
    {"vm.oom_kills", "count", SeriesKind::counter, "Processes killed by the OOM killer since boot (oom_kill)", 0},
};
static_assert(std::size(kSeries) == kOomKills + 1);

// node_exporter's vmstat collector with its default field filter
// ^(oom_kill|pgpg|pswp|pg.*fault).*: the kernel's counters, untyped, under
// the kernel's names.
constexpr MetricSpec kMetrics[] = {
    {"node_vmstat_pgpgin", MetricType::untyped, "/proc/vmstat information field pgpgin.", {}},
    {"node_vmstat_pgpgout", MetricType::untyped, "/proc/vmstat information field pgpgout.", {}},
    {"node_vmstat_pswpin", MetricType::untyped, "/proc/vmstat information field pswpin.", {}},
    {"node_vmstat_pswpout", MetricType::untyped, "/proc/vmstat information field pswpout.", {}},
    {"node_vmstat_pgfault", MetricType::untyped, "/proc/vmstat information field pgfault.", {}},
    {"node_vmstat_pgmajfault", MetricType::untyped, "/proc/vmstat information field pgmajfault.", {}},
    {"node_vmstat_oom_kill", MetricType::untyped, "/proc/vmstat information field oom_kill.", {}},
};
static_assert(std::size(kMetrics) == kCounters.size(), "one family per counter kept, in the same order");

constexpr SourceFunctions<VmStat> kFunctions{&parse_proc_vmstat, &derive_proc_vmstat, nullptr,
                                             &expose_proc_vmstat};

void set_rate(const VmStat* previous, const VmStat& current, VmStatCounter VmStat::*counter, std::size_t spec,
              double elapsed_s, SeriesWriter& out) {
  const VmStatCounter& after = current.*counter;
  if (previous == nullptr || !after.present || !(previous->*counter).present) return;
  out.set(spec, rate((previous->*counter).value, after.value, elapsed_s));
}

}  // namespace

void derive_proc_vmstat(const VmStat* previous, const VmStat& current, const DeriveContext& context,
                        SeriesWriter& out) {
  set_rate(previous, current, &VmStat::pages_in_kib, kPageIns, context.elapsed_s, out);
  set_rate(previous, current, &VmStat::pages_out_kib, kPageOuts, context.elapsed_s, out);
  set_rate(previous, current, &VmStat::swap_ins, kSwapIns, context.elapsed_s, out);
  set_rate(previous, current, &VmStat::swap_outs, kSwapOuts, context.elapsed_s, out);
  set_rate(previous, current, &VmStat::major_faults, kMajorFaults, context.elapsed_s, out);
  if (current.oom_kills.present) out.set(kOomKills, static_cast<double>(current.oom_kills.value));
}

SourceDefinition proc_vmstat_source() {
  return {.name = "proc_vmstat", .procfs_path = "vmstat", .series = kSeries,
          .create = &create_source<VmStat, kFunctions>, .metrics = kMetrics};
}

void expose_proc_vmstat(const VmStat& current, MetricWriter& out) {
  // A counter the kernel lacks (oom_kill before 4.13) has no sample, as in node_exporter.
  for (std::size_t index = 0; index < kCounters.size(); ++index) {
    const VmStatCounter& counter = current.*kCounters[index].counter;
    if (counter.present) out.sample(index, static_cast<double>(counter.value));
  }
}

}  // namespace hostpulse
