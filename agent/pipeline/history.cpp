#include "agent/pipeline/history.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace hostpulse {

History::History(std::size_t series_count, std::size_t capacity)
    : series_count_(series_count), capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("history capacity must be at least 1");
  values_.assign(series_count_ * capacity_, 0.0);
  t_ms_.assign(capacity_, 0);
}

std::uint64_t History::append(std::int64_t t_ms, std::span<const double> values) {
  assert(values.size() == series_count_);
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  const std::size_t slot = slot_of(seq);
  std::copy_n(values.begin(), std::min(values.size(), series_count_),
              values_.begin() + static_cast<std::ptrdiff_t>(slot * series_count_));
  t_ms_[slot] = t_ms;
  size_ = std::min(size_ + 1, capacity_);
  return seq;
}

HistoryColumns History::copy_locked(std::uint64_t seq_first, std::size_t count,
                                    std::span<const std::uint32_t> series) const {
  HistoryColumns columns;
  columns.series.assign(series.begin(), series.end());
  columns.values.resize(series.size());
  if (count == 0) return columns;
  columns.seq_first = seq_first;
  columns.seq_last = seq_first + count - 1;
  columns.t_ms.reserve(count);
  for (auto& column : columns.values) column.reserve(count);
  for (std::uint64_t seq = seq_first; seq <= columns.seq_last; ++seq) {
    const std::size_t slot = slot_of(seq);
    columns.t_ms.push_back(t_ms_[slot]);
    const double* row = values_.data() + slot * series_count_;
    for (std::size_t i = 0; i < series.size(); ++i) {
      columns.values[i].push_back(series[i] < series_count_ ? row[series[i]] : 0.0);
    }
  }
  return columns;
}

HistoryColumns History::since_seq(std::uint64_t after_seq, std::span<const std::uint32_t> series,
                                  std::size_t max_points) const {
  std::lock_guard lock(mutex_);
  const std::uint64_t last = next_seq_ - 1;
  const std::uint64_t oldest = last - size_ + 1;  // == 1 when empty and last == 0
  std::uint64_t first = std::max(after_seq + 1, oldest);
  if (size_ == 0 || after_seq >= last) return copy_locked(0, 0, series);
  std::size_t count = static_cast<std::size_t>(last - first + 1);
  if (count > max_points) {
    first += count - max_points;
    count = max_points;
  }
  return copy_locked(first, count, series);
}

HistoryColumns History::since_time(std::int64_t from_ms, std::span<const std::uint32_t> series) const {
  std::lock_guard lock(mutex_);
  if (size_ == 0) return copy_locked(0, 0, series);
  const std::uint64_t last = next_seq_ - 1;
  std::uint64_t first = last - size_ + 1;
  // Wall-clock time can step backwards (NTP), so scan rather than bisect:
  // take the newest run of points at or after from_ms.
  std::uint64_t seq = last;
  while (seq >= first && t_ms_[slot_of(seq)] >= from_ms) {
    if (seq == first) {
      seq = first - 1;
      break;
    }
    --seq;
  }
  first = seq + 1;
  if (first > last) return copy_locked(0, 0, series);
  return copy_locked(first, static_cast<std::size_t>(last - first + 1), series);
}

HistoryColumns History::latest(std::span<const std::uint32_t> series) const {
  std::lock_guard lock(mutex_);
  if (size_ == 0) return copy_locked(0, 0, series);
  return copy_locked(next_seq_ - 1, 1, series);
}

std::uint64_t History::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

std::uint64_t History::first_seq() const {
  std::lock_guard lock(mutex_);
  return size_ == 0 ? 0 : next_seq_ - size_;
}

std::size_t History::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

std::size_t History::memory_bytes() const {
  return values_.capacity() * sizeof(double) + t_ms_.capacity() * sizeof(std::int64_t);
}

Status check_history_reply_size(std::size_t points, std::size_t series, std::size_t max_values) {
  const std::size_t values = points * series;
  if (values <= max_values) return Status::success();
  return Status::failure("reply would hold " + std::to_string(values) + " values (" + std::to_string(points) +
                         " points x " + std::to_string(series) + " series; limit " + std::to_string(max_values) +
                         "): ask for fewer series or a shorter range");
}

}  // namespace hostpulse
