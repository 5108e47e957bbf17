#include "agent/pipeline/history.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hostpulse {

History::History(std::size_t series_count, std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("history capacity must be at least 1");
  t_ms_.assign(capacity_, 0);
  for (std::size_t id = 0; id < series_count; ++id) add_series(static_cast<std::uint32_t>(id));
}

void History::add_series(std::uint32_t id) {
  std::lock_guard lock(mutex_);
  if (id >= column_of_.size()) column_of_.resize(static_cast<std::size_t>(id) + 1, -1);
  if (column_of_[id] >= 0) return;
  column_of_[id] = static_cast<std::int32_t>(columns_.size());
  columns_.push_back(Column{.id = id, .retired_at_seq = 0,
                            .ring = std::vector<double>(capacity_, std::numeric_limits<double>::quiet_NaN())});
}

void History::retire_series(std::uint32_t id) {
  std::lock_guard lock(mutex_);
  if (id >= column_of_.size() || column_of_[id] < 0) return;
  Column& column = columns_[static_cast<std::size_t>(column_of_[id])];
  if (column.retired_at_seq != 0) return;
  column.retired_at_seq = next_seq_;
  ++retired_columns_;
}

void History::free_aged_out_locked() {
  for (std::size_t index = 0; index < columns_.size();) {
    const Column& column = columns_[index];
    // Every point it had a value in is older than the ring.
    if (column.retired_at_seq == 0 || next_seq_ < column.retired_at_seq + capacity_) {
      ++index;
      continue;
    }
    column_of_[column.id] = -1;
    if (index + 1 != columns_.size()) {
      columns_[index] = std::move(columns_.back());
      column_of_[columns_[index].id] = static_cast<std::int32_t>(index);
    }
    columns_.pop_back();
    --retired_columns_;
  }
}

std::uint64_t History::append(std::int64_t t_ms, std::span<const double> values) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  const std::size_t slot = slot_of(seq);
  for (Column& column : columns_) {
    column.ring[slot] = column.id < values.size() ? values[column.id] : std::numeric_limits<double>::quiet_NaN();
  }
  t_ms_[slot] = t_ms;
  size_ = std::min(size_ + 1, capacity_);
  if (retired_columns_ > 0) free_aged_out_locked();
  return seq;
}

const History::Column* History::column_locked(std::uint32_t id) const {
  if (id >= column_of_.size() || column_of_[id] < 0) return nullptr;
  return &columns_[static_cast<std::size_t>(column_of_[id])];
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
  for (std::uint64_t seq = seq_first; seq <= columns.seq_last; ++seq) columns.t_ms.push_back(t_ms_[slot_of(seq)]);
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::vector<double>& out = columns.values[i];
    const Column* column = column_locked(series[i]);
    if (column == nullptr) {
      out.assign(count, std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    out.reserve(count);
    for (std::uint64_t seq = seq_first; seq <= columns.seq_last; ++seq) out.push_back(column->ring[slot_of(seq)]);
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

std::size_t History::column_count() const {
  std::lock_guard lock(mutex_);
  return columns_.size();
}

std::size_t History::memory_bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t bytes = t_ms_.capacity() * sizeof(std::int64_t) + column_of_.capacity() * sizeof(std::int32_t);
  for (const Column& column : columns_) bytes += column.ring.capacity() * sizeof(double);
  return bytes;
}

Status check_history_reply_size(std::size_t points, std::size_t series, std::size_t max_values) {
  const std::size_t values = points * series;
  if (values <= max_values) return Status::success();
  return Status::failure("reply would hold " + std::to_string(values) + " values (" + std::to_string(points) +
                         " points x " + std::to_string(series) + " series; limit " + std::to_string(max_values) +
                         "): ask for fewer series or a shorter range");
}

}  // namespace hostpulse
