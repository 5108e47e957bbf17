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

// Fixed-capacity ring of points, each with a global seq (1, 2, 3, ... never
// reused) and a wall-clock time. All memory is allocated in the constructor:
// appending never allocates, and when full the oldest point is overwritten.
// Thread-safe: the sampler appends while HTTP and stream sessions read.
class History {
 public:
  History(std::size_t series_count, std::size_t capacity);

  // Stores one point (values.size() must equal series_count) and returns its seq.
  std::uint64_t append(std::int64_t t_ms, std::span<const double> values);

  // Points with seq > after_seq, oldest first, at most max_points of the newest.
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
  [[nodiscard]] std::size_t series_count() const { return series_count_; }
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  // Copies ring slots [first_index, first_index + count) (oldest first) into columns.
  HistoryColumns copy_locked(std::uint64_t seq_first, std::size_t count,
                             std::span<const std::uint32_t> series) const;
  [[nodiscard]] std::size_t slot_of(std::uint64_t seq) const { return static_cast<std::size_t>((seq - 1) % capacity_); }

  const std::size_t series_count_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<double> values_;        // capacity_ rows of series_count_ values
  std::vector<std::int64_t> t_ms_;    // capacity_ timestamps
  std::uint64_t next_seq_ = 1;
  std::size_t size_ = 0;
};

}  // namespace hostpulse
