#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source_settings.hpp"

namespace hostpulse {

// A source is one unit: a pure parser into its raw struct, a pure derive from
// two of those structs to values, and the series it declares. The platform's
// collector table lists every source by one line (collectors/linux/collector_table.cpp);
// nothing else in the agent names a source's fields.

enum class SeriesKind : std::uint8_t {
  gauge,    // a level read as it is (bytes in use, load)
  rate,     // per second, derived from a counter
  counter,  // the kernel's cumulative count, as it is
};
std::string_view series_kind_name(SeriesKind kind);

// How many decimal places a series' values are kept to: the stream's binary
// frames send them as integers of that scale. kFloatDecimals: no fixed scale.
inline constexpr int kFloatDecimals = -1;

// One series a source declares. `name` is its canonical name for a host-wide
// series ("mem.used_bytes") or a template with one placeholder for a series
// per entity ("cpu.{cpu}.busy_pct": one per CPU, labelled cpu="3" and named
// cpu.3.busy_pct). The family is the name without the placeholder part
// ("cpu.busy_pct"), shared by the host-wide series of that name if any.
struct SeriesSpec {
  std::string_view name;
  std::string_view unit;  // "percent", "bytes", "load", "count", "per_second", "seconds"
  SeriesKind kind = SeriesKind::gauge;
  std::string_view description;
  int decimals = kFloatDecimals;
};

// An entity a source saw this tick (a CPU, an interface, a mount), as the
// writer resolved it; invalid when the series cap refused a new entity.
struct EntityHandle {
  static constexpr std::uint32_t kInvalid = 0xffffffffu;
  std::uint32_t index = kInvalid;
  [[nodiscard]] bool valid() const { return index != kInvalid; }
};

// Where a source's derive writes this tick's values. Spec indexes are
// positions in the source's own declaration list. Implemented by the
// pipeline's series registry; sources never see series ids.
class SeriesWriter {
 public:
  virtual ~SeriesWriter() = default;
  // A host-wide series (a spec without a placeholder).
  virtual void set(std::size_t spec, double value) = 0;
  // Marks the entity `key` of label `label` as present this tick (adding its
  // series the first time) and returns the handle its values are written with.
  virtual EntityHandle entity(std::string_view label, std::string_view key) = 0;
  // A per-entity series of spec (whose placeholder names the entity's label).
  virtual void set(EntityHandle entity, std::size_t spec, double value) = 0;
  // Consecutive specs from first_spec at once (a CPU's eleven shares).
  virtual void set_all(std::size_t first_spec, std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) set(first_spec + i, values[i]);
  }
  virtual void set_all(EntityHandle entity, std::size_t first_spec, std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) set(entity, first_spec + i, values[i]);
  }
};

// Facts one source learns and another needs in the same tick (the load
// average per CPU divides by the CPUs that /proc/stat lists). Filled after
// every source has parsed, before any derives.
struct HostFacts {
  std::size_t cpus_online = 0;  // 0: not known this tick
};

struct DeriveContext {
  double elapsed_s = 0;  // since the previous read; rates are NaN when not > 0
  HostFacts facts;
};

// Prometheus families a source exposes from its raw reads, under
// node_exporter's names, labels and units where node_exporter has the
// family (node_cpu_seconds_total{cpu,mode}), so dashboards written for it
// work. Counters are the kernel's counters as they are, never derived rates.
// untyped: what node_exporter declares for the raw counters of vmstat and
// netstat (node_vmstat_pgfault), whose names have no "_total"; written as
// "untyped" in the text format and "unknown" in OpenMetrics.
enum class MetricType : std::uint8_t { gauge, counter, untyped };

// node_uname_info has the most labels of any family (six).
inline constexpr std::size_t kMaxMetricLabels = 6;

struct MetricSpec {
  // The sample name as exposed in the 0.0.4 text format, "_total" included
  // for counters ("node_forks_total"); OpenMetrics' family name drops it.
  std::string_view name;
  MetricType type = MetricType::gauge;
  std::string_view help;
  // Label names in the order the source gives their values; unused ones empty.
  std::array<std::string_view, kMaxMetricLabels> labels{};
  [[nodiscard]] std::size_t label_count() const {
    std::size_t count = 0;
    while (count < labels.size() && !labels[count].empty()) ++count;
    return count;
  }
};

// Where a source's expose writes its samples each tick. Spec indexes are
// positions in the source's metrics list; label values follow the spec's
// label names, one each. Implemented by the pipeline's metrics store.
class MetricWriter {
 public:
  virtual ~MetricWriter() = default;
  virtual void sample(std::size_t spec, std::span<const std::string_view> label_values, double value) = 0;
  void sample(std::size_t spec, double value) { sample(spec, std::span<const std::string_view>{}, value); }
  void sample(std::size_t spec, std::initializer_list<std::string_view> label_values, double value) {
    sample(spec, std::span<const std::string_view>(label_values.begin(), label_values.size()), value);
  }
};

// A number as a label value (cpu="3"), formatted without allocating.
class NumberLabel {
 public:
  explicit NumberLabel(std::uint64_t value) {
    size_ = static_cast<std::size_t>(std::to_chars(buffer_, buffer_ + sizeof buffer_, value).ptr - buffer_);
  }
  [[nodiscard]] std::string_view view() const { return {buffer_, size_}; }

 private:
  char buffer_[20];  // the digits of 2^64 - 1
  std::size_t size_ = 0;
};

// What the collector set holds per source: the last two parsed reads.
class Source {
 public:
  virtual ~Source() = default;
  // Reads this tick into the current read. primary is the text of the
  // definition's procfs_path, already read ("" when it names none); a source
  // that reads more files (sysfs attributes per interface) reads them here.
  // Status::unavailable: the host has no such data (no PSI, no battery).
  virtual Status read(std::string_view primary) = 0;
  // Marks this tick as failed without parsing (the file could not be read).
  virtual void fail() = 0;
  virtual void contribute(HostFacts& facts) const = 0;
  // Writes values from the previous and current read; nothing when the
  // current one failed (the values stay "no value").
  virtual void derive(const DeriveContext& context, SeriesWriter& out) const = 0;
  // The current read becomes the previous one (buffers are reused, so a
  // steady tick allocates nothing).
  virtual void advance() = 0;
  // Whether the current read parsed.
  [[nodiscard]] virtual bool current_ok() const = 0;
  // Writes the current read's Prometheus samples (nothing when it failed).
  virtual void expose(MetricWriter& out) const = 0;
};

// The functions a source is made of. derive gets previous == nullptr when
// the previous read failed or there was none: gauges can still be written.
template <class Raw>
struct SourceFunctions {
  Status (*parse)(std::string_view text, Raw& out);
  void (*derive)(const Raw* previous, const Raw& current, const DeriveContext& context, SeriesWriter& out);
  void (*contribute)(const Raw& current, HostFacts& facts) = nullptr;
  void (*expose)(const Raw& current, MetricWriter& out) = nullptr;
};

template <class Raw, const SourceFunctions<Raw>& Functions>
class TypedSource final : public Source {
 public:
  TypedSource() = default;
  explicit TypedSource(const SourceSettings& /*settings*/) {}
  Status read(std::string_view text) override {
    Status status = Functions.parse(text, reads_[current_]);
    ok_[current_] = status.ok();
    return status;
  }
  Status parse(std::string_view text) { return read(text); }
  void fail() override { ok_[current_] = false; }
  void contribute(HostFacts& facts) const override {
    if (ok_[current_] && Functions.contribute != nullptr) Functions.contribute(reads_[current_], facts);
  }
  void derive(const DeriveContext& context, SeriesWriter& out) const override {
    if (!ok_[current_]) return;
    const std::size_t previous = 1 - current_;
    Functions.derive(ok_[previous] ? &reads_[previous] : nullptr, reads_[current_], context, out);
  }
  void advance() override {
    current_ = 1 - current_;
    ok_[current_] = false;
  }
  [[nodiscard]] bool current_ok() const override { return ok_[current_]; }
  void expose(MetricWriter& out) const override {
    if (ok_[current_] && Functions.expose != nullptr) Functions.expose(reads_[current_], out);
  }

  // For tests and benchmarks that look at what was parsed.
  [[nodiscard]] const Raw& current() const { return reads_[current_]; }

 private:
  Raw reads_[2]{};
  bool ok_[2] = {false, false};
  std::size_t current_ = 0;
};

// A source that reads more than one file: the directory entries and sysfs
// attributes of every interface, disk or sensor. State is built once from the
// settings and keeps what the reads need between ticks (a FileReader per
// attribute of each entity), so a steady tick allocates nothing; read does
// the I/O through it and leaves the parsed values in out.
template <class Raw, class State>
struct StatefulFunctions {
  Status (*read)(State& state, std::string_view primary, Raw& out);
  void (*derive)(const Raw* previous, const Raw& current, const DeriveContext& context, SeriesWriter& out);
  void (*contribute)(const Raw& current, HostFacts& facts) = nullptr;
  void (*expose)(const Raw& current, MetricWriter& out) = nullptr;
};

template <class Raw, class State, const StatefulFunctions<Raw, State>& Functions>
class StatefulSource final : public Source {
 public:
  explicit StatefulSource(const SourceSettings& settings) : state_(settings) {}
  Status read(std::string_view primary) override {
    Status status = Functions.read(state_, primary, reads_[current_]);
    ok_[current_] = status.ok();
    return status;
  }
  void fail() override { ok_[current_] = false; }
  void contribute(HostFacts& facts) const override {
    if (ok_[current_] && Functions.contribute != nullptr) Functions.contribute(reads_[current_], facts);
  }
  void derive(const DeriveContext& context, SeriesWriter& out) const override {
    if (!ok_[current_]) return;
    const std::size_t previous = 1 - current_;
    Functions.derive(ok_[previous] ? &reads_[previous] : nullptr, reads_[current_], context, out);
  }
  void advance() override {
    current_ = 1 - current_;
    ok_[current_] = false;
  }
  [[nodiscard]] bool current_ok() const override { return ok_[current_]; }
  void expose(MetricWriter& out) const override {
    if (ok_[current_] && Functions.expose != nullptr) Functions.expose(reads_[current_], out);
  }

  [[nodiscard]] const Raw& current() const { return reads_[current_]; }
  [[nodiscard]] State& state() { return state_; }

 private:
  State state_;
  Raw reads_[2]{};
  bool ok_[2] = {false, false};
  std::size_t current_ = 0;
};

// One line of the platform table.
struct SourceDefinition {
  std::string_view name;         // e.g. "proc_stat"; shown in /api/v1/health
  // Relative to HostPaths::proc, e.g. "stat"; read by the collector set and
  // handed to Source::read. Empty: the source reads everything itself.
  std::string_view procfs_path;
  std::span<const SeriesSpec> series;
  std::unique_ptr<Source> (*create)(const SourceSettings& settings);
  // A required source's missing procfs file is a failure (the agent is
  // useless without /proc/stat). For any other, a missing one (ENOENT)
  // means this host or kernel lacks it (/proc/net/snmp without IPv4, a
  // fake --procfs tree): the source is unavailable, not failing.
  bool required = false;
  // The Prometheus families its expose writes (MetricSpec). A source with
  // none has its series exposed as gauges named hostpulse_<family>
  // (cgroup.cpu_pct -> hostpulse_cgroup_cpu_pct); one with some leaves its
  // series out, since the families carry the same data as counters.
  std::span<const MetricSpec> metrics{};
};

template <class Raw, const SourceFunctions<Raw>& Functions>
std::unique_ptr<Source> create_source(const SourceSettings& settings) {
  return std::make_unique<TypedSource<Raw, Functions>>(settings);
}

template <class Raw, class State, const StatefulFunctions<Raw, State>& Functions>
std::unique_ptr<Source> create_stateful_source(const SourceSettings& settings) {
  return std::make_unique<StatefulSource<Raw, State, Functions>>(settings);
}

// Helpers every derive uses, so the rounding rules live in one place.
namespace derive_math {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// Percentages and rates are kept to 0.01: a 1 s tick on one CPU sees only
// ~100 jiffies, so more digits would be noise, and shorter numbers make
// smaller frames.
inline double hundredths(double value) { return std::isfinite(value) ? std::round(value * 100.0) / 100.0 : value; }

// Per second between two reads of a counter; NaN when it went backwards
// (reset) or no time passed.
inline double rate(std::uint64_t before, std::uint64_t after, double elapsed_s) {
  if (after < before || !(elapsed_s > 0)) return kNoValue;
  return hundredths(static_cast<double>(after - before) / elapsed_s);
}

inline double bytes(std::uint64_t value) { return static_cast<double>(value); }

}  // namespace derive_math

}  // namespace hostpulse
