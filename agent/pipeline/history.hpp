#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "base/status.hpp"

namespace hostpulse {

// Points in columnar form: what REST history answers and the stream sends.
struct HistoryColumns {
  std::uint64_t seq_first = 0;  // 0 when empty
  std::uint64_t seq_last = 0;
  std::vector<std::int64_t> t_ms;               // wall-clock ms since the epoch
  std::vector<std::uint32_t> series;            // series ids, in request order
  std::vector<std::vector<double>> values;      // values[i][k]: series[i] at t_ms[k]; NaN = no value

  [[nodiscard]] std::size_t points() const { return t_ms.size(); }
};

// One cap for the REST API and the stream: a history reply holds at most
// max_values values (points x series); more is an error that says how to
// narrow the request.
Status check_history_reply_size(std::size_t points, std::size_t series, std::size_t max_values);

// A ring of the last `capacity` points, each with a global seq (1, 2, 3, ...
// never reused) and a wall-clock time, and one column of values per series.
// Columns live side by side in one matrix (a row per point), so appending a
// point writes one contiguous row. A series gets a column (a free one, else
// the matrix grows) when it is added, its earlier points reading as "no
// value"; a retired series' column is freed once its points have aged out of
// the ring, for a later series to reuse. Appending never allocates; when full
// the oldest point is overwritten. Thread-safe: the sampler appends while
// HTTP and stream sessions read.
class History {
 public:
  // Series 0 .. series_count-1 are added from the start.
  History(std::size_t series_count, std::size_t capacity);

  // New series (ids never reused); their columns read NaN before now. The
  // matrix grows once for the lot, by at least an eighth, so memory stays
  // within ~12 % of what the columns need and growth copies are rare.
  void add_series(std::span<const std::uint32_t> ids);
  void add_series(std::uint32_t id) { add_series(std::span<const std::uint32_t>(&id, 1)); }
  // A series that will get no more values: its column is freed after one ring.
  void retire_series(std::uint32_t id);

  // Stores one point (values indexed by series id, at least as many as the
  // highest id added) and returns its seq.
  std::uint64_t append(std::int64_t t_ms, std::span<const double> values);

  // Points with seq > after_seq, oldest first, at most max_points of the
  // newest. Series without a column (never added, or freed) read NaN.
  [[nodiscard]] HistoryColumns since_seq(std::uint64_t after_seq, std::span<const std::uint32_t> series,
                                         std::size_t max_points = SIZE_MAX) const;
  // Points with t_ms >= from_ms, oldest first.
  [[nodiscard]] HistoryColumns since_time(std::int64_t from_ms, std::span<const std::uint32_t> series) const;
  // The newest point, or an empty result when nothing was appended yet.
  [[nodiscard]] HistoryColumns latest(std::span<const std::uint32_t> series) const;

  [[nodiscard]] std::uint64_t last_seq() const;
  [[nodiscard]] std::uint64_t first_seq() const;  // oldest retained, 0 when empty
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::size_t column_count() const;  // series with a column now
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  static constexpr std::uint32_t kFree = 0xffffffffu;
  // The matrix grows by at least this many columns (and an eighth of its width).
  static constexpr std::size_t kMinGrowth = 16;

  // Copies ring slots for seqs [seq_first, seq_first + count) (oldest first) into columns.
  HistoryColumns copy_locked(std::uint64_t seq_first, std::size_t count,
                             std::span<const std::uint32_t> series) const;
  void free_aged_out_locked();
  void grow_locked(std::size_t width);
  [[nodiscard]] std::size_t row_of(std::uint64_t seq) const { return static_cast<std::size_t>((seq - 1) % capacity_); }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::size_t width_ = 0;                     // columns per row in values_
  std::vector<double> values_;                // capacity_ rows of width_ values
  std::vector<std::uint32_t> column_ids_;     // by column: its series id, kFree when unused
  std::vector<std::uint64_t> retired_at_;     // by column: the seq it retired at, 0 while live
  std::vector<std::uint32_t> free_columns_;
  std::vector<std::int32_t> column_of_;       // by series id; -1: no column
  std::vector<std::int64_t> t_ms_;            // capacity_ timestamps
  std::uint64_t next_seq_ = 1;
  std::size_t size_ = 0;
  std::size_t used_columns_ = 0;
  std::size_t retired_columns_ = 0;
};

}  // namespace hostpulse
