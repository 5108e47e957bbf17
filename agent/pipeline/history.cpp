#include "agent/pipeline/history.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hostpulse {

namespace {
constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
}  // namespace

History::History(std::size_t series_count, std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("history capacity must be at least 1");
  t_ms_.assign(capacity_, 0);
  std::vector<std::uint32_t> ids(series_count);
  for (std::size_t id = 0; id < series_count; ++id) ids[id] = static_cast<std::uint32_t>(id);
  add_series(ids);
}

void History::grow_locked(std::size_t width) {
  std::vector<double> grown(capacity_ * width, kNoValue);
  for (std::size_t row = 0; row < capacity_ && width_ > 0; ++row) {
    std::copy_n(values_.begin() + static_cast<std::ptrdiff_t>(row * width_), width_,
                grown.begin() + static_cast<std::ptrdiff_t>(row * width));
  }
  values_ = std::move(grown);
  width_ = width;
}

void History::add_series(std::span<const std::uint32_t> ids) {
  std::lock_guard lock(mutex_);
  const std::size_t new_columns = ids.size() > free_columns_.size() ? ids.size() - free_columns_.size() : 0;
  if (column_ids_.size() + new_columns > width_) {
    const std::size_t needed = column_ids_.size() + new_columns - width_;
    grow_locked(width_ + std::max({needed, kMinGrowth, width_ / 8}));
  }
  for (const std::uint32_t id : ids) {
    if (id >= column_of_.size()) column_of_.resize(static_cast<std::size_t>(id) + 1, -1);
    if (column_of_[id] >= 0) continue;
    std::size_t column = 0;
    if (!free_columns_.empty()) {
      column = free_columns_.back();
      free_columns_.pop_back();
      // The previous series' values must not show through.
      for (std::size_t row = 0; row < capacity_; ++row) values_[row * width_ + column] = kNoValue;
    } else {
      column = column_ids_.size();
      column_ids_.push_back(kFree);
      retired_at_.push_back(0);
    }
    column_ids_[column] = id;
    retired_at_[column] = 0;
    column_of_[id] = static_cast<std::int32_t>(column);
    ++used_columns_;
  }
}

void History::retire_series(std::uint32_t id) {
  std::lock_guard lock(mutex_);
  if (id >= column_of_.size() || column_of_[id] < 0) return;
  const auto column = static_cast<std::size_t>(column_of_[id]);
  if (retired_at_[column] != 0) return;
  retired_at_[column] = next_seq_;
  ++retired_columns_;
}

void History::free_aged_out_locked() {
  for (std::size_t column = 0; column < column_ids_.size(); ++column) {
    // Every point it had a value in is older than the ring.
    if (column_ids_[column] == kFree || retired_at_[column] == 0 || next_seq_ < retired_at_[column] + capacity_) continue;
    column_of_[column_ids_[column]] = -1;
    column_ids_[column] = kFree;
    retired_at_[column] = 0;
    free_columns_.push_back(static_cast<std::uint32_t>(column));
    --used_columns_;
    --retired_columns_;
  }
}

std::uint64_t History::append(std::int64_t t_ms, std::span<const double> values) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  const std::size_t row = row_of(seq);
  double* out = values_.data() + row * width_;
  const std::size_t columns = column_ids_.size();
  const std::size_t known = values.size();
  for (std::size_t column = 0; column < columns; ++column) {
    const std::uint32_t id = column_ids_[column];
    out[column] = id < known ? values[id] : kNoValue;  // kFree is never < known
  }
  t_ms_[row] = t_ms;
  size_ = std::min(size_ + 1, capacity_);
  if (retired_columns_ > 0) free_aged_out_locked();
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
  for (std::uint64_t seq = seq_first; seq <= columns.seq_last; ++seq) columns.t_ms.push_back(t_ms_[row_of(seq)]);
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::vector<double>& out = columns.values[i];
    const std::uint32_t id = series[i];
    if (id >= column_of_.size() || column_of_[id] < 0) {
      out.assign(count, kNoValue);
      continue;
    }
    const auto column = static_cast<std::size_t>(column_of_[id]);
    out.reserve(count);
    for (std::uint64_t seq = seq_first; seq <= columns.seq_last; ++seq) {
      out.push_back(values_[row_of(seq) * width_ + column]);
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
  while (seq >= first && t_ms_[row_of(seq)] >= from_ms) {
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

std::size_t History::column_count() const {
  std::lock_guard lock(mutex_);
  return used_columns_;
}

std::size_t History::memory_bytes() const {
  std::lock_guard lock(mutex_);
  return values_.capacity() * sizeof(double) + t_ms_.capacity() * sizeof(std::int64_t) +
         column_of_.capacity() * sizeof(std::int32_t) +
         column_ids_.capacity() * (sizeof(std::uint32_t) + sizeof(std::uint64_t));
}

Status check_history_reply_size(std::size_t points, std::size_t series, std::size_t max_values) {
  const std::size_t values = points * series;
  if (values <= max_values) return Status::success();
  return Status::failure("reply would hold " + std::to_string(values) + " values (" + std::to_string(points) +
                         " points x " + std::to_string(series) + " series; limit " + std::to_string(max_values) +
                         "): ask for fewer series or a shorter range");
}

}  // namespace hostpulse
