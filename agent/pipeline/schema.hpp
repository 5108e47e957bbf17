#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/source.hpp"

namespace hostpulse {

struct SeriesLabel {
  std::string name;   // e.g. "cpu"
  std::string value;  // e.g. "3" (unescaped)
  bool operator==(const SeriesLabel&) const = default;
};

// A series is one number per tick. Its id is its index in the schema, never
// reused while the process runs (so it lives only as long as the process;
// anything kept longer keys on the name). Names are the canonical public ones
// (agent/pipeline/series_name.hpp) the stream, REST API, alerts and dashboard
// all use.
struct SeriesInfo {
  std::uint32_t id = 0;
  std::string name;                 // e.g. "cpu.3.busy_pct"
  std::string family;               // e.g. "cpu.busy_pct"
  std::vector<SeriesLabel> labels;  // e.g. {cpu="3"}; empty for host-wide series
  std::string_view unit;            // "percent", "bytes", "load", "count", "per_second", "seconds"
  std::string_view kind;            // "gauge", "rate" or "counter"
  std::string_view description;
  int decimals = kFloatDecimals;    // 2: kept to hundredths, 0: whole numbers
  bool live = true;                 // false once its entity went away (retired)
  std::uint64_t first_seq = 0;      // the first point it may have a value in
  std::uint64_t retired_seq = 0;    // the first point it has none in, once retired (0: live)
};

// An immutable list of every series the agent has had since it started,
// retired ones included (flagged). The registry publishes a new one when
// series appear or retire; readers keep the snapshot they took.
class Schema {
 public:
  Schema() = default;
  // series[i].id must be i.
  explicit Schema(std::vector<SeriesInfo> series, std::uint64_t version = 0);

  [[nodiscard]] std::size_t size() const { return series_.size(); }
  [[nodiscard]] const SeriesInfo& operator[](std::size_t id) const { return series_[id]; }
  [[nodiscard]] std::span<const SeriesInfo> series() const { return series_; }
  // The live series of that name, else the newest retired one.
  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name) const;
  [[nodiscard]] std::size_t live_count() const { return live_count_; }
  // Counts the schemas published since start (0 for the first).
  [[nodiscard]] std::uint64_t version() const { return version_; }

 private:
  std::vector<SeriesInfo> series_;
  std::map<std::string, std::uint32_t, std::less<>> by_name_;
  std::size_t live_count_ = 0;
  std::uint64_t version_ = 0;
};

using SchemaSnapshot = std::shared_ptr<const Schema>;

// What changed between two schemas, in id order.
struct SchemaChange {
  std::vector<std::uint32_t> added;
  std::vector<std::uint32_t> retired;
  [[nodiscard]] bool empty() const { return added.empty() && retired.empty(); }
};

}  // namespace hostpulse
