#include "agent/pipeline/history.hpp"

#include "agent/pipeline/history_block.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hostpulse {

namespace {
constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
// A series' arena is compacted once this share of it (1 / n) is blocks that
// aged out, and grows by this share when a block does not fit: together they
// keep it within about a quarter of its live bytes.
constexpr std::size_t kArenaSlackDivisor = 8;
// The smallest arena worth allocating (a few closed blocks of a flat series).
constexpr std::size_t kMinArenaBytes = 64;
}  // namespace

History::History(std::size_t series_count, std::size_t capacity, std::size_t block_points)
    : capacity_(capacity),
      block_points_(std::clamp<std::size_t>(std::min(block_points, capacity), 1, kMaxBlockPoints)),
      slots_(capacity_ == 0 ? 1 : (capacity_ + block_points_ - 1) / block_points_ + 1) {
  if (capacity_ == 0) throw std::invalid_argument("history capacity must be at least 1");
  if (block_points == 0) throw std::invalid_argument("history blocks must hold at least 1 point");
  t_ms_.assign(capacity_, 0);
  encoded_.reserve(max_encoded_block_bytes(block_points_));
  std::vector<std::uint32_t> ids(series_count);
  for (std::size_t id = 0; id < series_count; ++id) ids[id] = static_cast<std::uint32_t>(id);
  add_series(ids);
}

void History::add_series(std::span<const std::uint32_t> ids, std::span<const int> decimals) {
  std::lock_guard lock(mutex_);
  const std::size_t new_columns = ids.size() > free_columns_.size() ? ids.size() - free_columns_.size() : 0;
  const std::size_t width = columns_.size() + new_columns;
  if (width * block_points_ > open_.capacity()) {
    const std::size_t grown = width + std::max(kMinGrowth, width / 8);
    open_.reserve(grown * block_points_);
    columns_.reserve(grown);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::uint32_t id = ids[i];
    if (id >= column_of_.size()) column_of_.resize(static_cast<std::size_t>(id) + 1, -1);
    if (column_of_[id] >= 0) continue;
    std::size_t index = 0;
    if (!free_columns_.empty()) {
      index = free_columns_.back();
      free_columns_.pop_back();
    } else {
      index = columns_.size();
      columns_.emplace_back();
      columns_.back().block_offset.assign(slots_, 0);
      open_.resize(columns_.size() * block_points_, kNoValue);
    }
    Column& column = columns_[index];
    column.id = id;
    column.decimals = i < decimals.size() ? decimals[i] : kFloatDecimals;
    column.retired_at = 0;
    // The previous series' values must not show through, and the points of
    // the open block before now are not this series'.
    column.first_block = open_block_;
    column.arena.clear();
    std::fill_n(open_.begin() + static_cast<std::ptrdiff_t>(index * block_points_), block_points_, kNoValue);
    column_of_[id] = static_cast<std::int32_t>(index);
    ++used_columns_;
  }
}

void History::retire_series(std::uint32_t id) {
  std::lock_guard lock(mutex_);
  if (id >= column_of_.size() || column_of_[id] < 0) return;
  Column& column = columns_[static_cast<std::size_t>(column_of_[id])];
  if (column.retired_at != 0) return;
  column.retired_at = next_seq_;
  ++retired_columns_;
}

void History::free_aged_out_locked() {
  for (std::size_t index = 0; index < columns_.size(); ++index) {
    Column& column = columns_[index];
    // Every point it had a value in is older than the ring.
    if (column.id == kFree || column.retired_at == 0 || next_seq_ < column.retired_at + capacity_) continue;
    column_of_[column.id] = -1;
    column.id = kFree;
    column.retired_at = 0;
    column.arena.clear();  // keeps its storage for the next series
    free_columns_.push_back(static_cast<std::uint32_t>(index));
    --used_columns_;
    --retired_columns_;
  }
}

bool History::holds_block_locked(const Column& column, std::uint64_t block) const {
  return column.id != kFree && block >= column.first_block && block >= retained_from_ && block < open_block_;
}

std::span<const std::uint8_t> History::block_bytes_locked(const Column& column, std::uint64_t block) const {
  const std::size_t begin = column.block_offset[block % slots_];
  const std::size_t end = block + 1 < open_block_ ? column.block_offset[(block + 1) % slots_] : column.arena.size();
  return std::span<const std::uint8_t>(column.arena).subspan(begin, end - begin);
}

void History::drop_aged_blocks_locked(Column& column) const {
  const std::uint64_t first_live = std::max(column.first_block, retained_from_);
  if (first_live >= open_block_) {
    column.arena.clear();
    return;
  }
  const std::size_t dead = column.block_offset[first_live % slots_];
  if (dead == 0 || dead * kArenaSlackDivisor < column.arena.size()) return;
  std::copy(column.arena.begin() + static_cast<std::ptrdiff_t>(dead), column.arena.end(), column.arena.begin());
  column.arena.resize(column.arena.size() - dead);
  for (std::uint64_t block = first_live; block < open_block_; ++block) {
    column.block_offset[block % slots_] -= static_cast<std::uint32_t>(dead);
  }
}

void History::close_open_blocks_locked() {
  const std::uint64_t seq_first = open_block_ * block_points_ + 1;
  for (std::size_t index = 0; index < columns_.size(); ++index) {
    Column& column = columns_[index];
    if (column.id == kFree) continue;
    drop_aged_blocks_locked(column);
    encode_block(seq_first,
                 std::span<const double>(open_).subspan(index * block_points_, block_points_), column.decimals,
                 encoded_);
    const std::size_t needed = column.arena.size() + encoded_.size();
    if (needed > column.arena.capacity()) {
      column.arena.reserve(std::max(kMinArenaBytes, needed + needed / kArenaSlackDivisor));
    }
    column.block_offset[open_block_ % slots_] = static_cast<std::uint32_t>(column.arena.size());
    column.arena.insert(column.arena.end(), encoded_.begin(), encoded_.end());
  }
  ++open_block_;
  ++block_closes_;
}

std::uint64_t History::append(std::int64_t t_ms, std::span<const double> values) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  size_ = std::min(size_ + 1, capacity_);
  const std::uint64_t block = block_of(seq);
  if (block != open_block_) {
    // Blocks wholly older than the ring are no longer needed.
    retained_from_ = block_of(seq - size_ + 1);
    close_open_blocks_locked();
  }
  const std::size_t position = static_cast<std::size_t>((seq - 1) % block_points_);
  const std::size_t known = values.size();
  for (std::size_t index = 0; index < columns_.size(); ++index) {
    const std::uint32_t id = columns_[index].id;
    open_[index * block_points_ + position] = id < known ? values[id] : kNoValue;  // kFree is never < known
  }
  t_ms_[row_of(seq)] = t_ms;
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
  std::vector<double> decoded;
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::vector<double>& out = columns.values[i];
    out.assign(count, kNoValue);
    const std::uint32_t id = series[i];
    if (id >= column_of_.size() || column_of_[id] < 0) continue;
    const auto index = static_cast<std::size_t>(column_of_[id]);
    const Column& column = columns_[index];
    std::uint64_t seq = seq_first;
    while (seq <= columns.seq_last) {
      const std::uint64_t block = block_of(seq);
      const std::size_t from = static_cast<std::size_t>((seq - 1) % block_points_);
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(block_points_ - from, columns.seq_last - seq + 1));
      double* into = out.data() + (seq - seq_first);
      if (block == open_block_) {
        std::copy_n(open_.begin() + static_cast<std::ptrdiff_t>(index * block_points_ + from), take, into);
      } else if (holds_block_locked(column, block)) {
        decoded.resize(block_points_);
        // A block this history encoded decodes; should it not, its points
        // read as no value rather than as garbage.
        if (decode_block(block_bytes_locked(column, block), decoded).ok()) {
          std::copy_n(decoded.begin() + static_cast<std::ptrdiff_t>(from), take, into);
        }
      }
      seq += take;
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

std::size_t History::memory_bytes() const { return memory().total_bytes; }

HistoryMemory History::memory() const {
  std::lock_guard lock(mutex_);
  HistoryMemory memory{.open_bytes = used_columns_ * block_points_ * sizeof(double), .block_closes = block_closes_};
  std::size_t total = open_.capacity() * sizeof(double) + t_ms_.capacity() * sizeof(std::int64_t) +
                      column_of_.capacity() * sizeof(std::int32_t) + free_columns_.capacity() * sizeof(std::uint32_t) +
                      encoded_.capacity() + columns_.capacity() * sizeof(Column);
  for (const Column& column : columns_) {
    total += column.arena.capacity() + column.block_offset.capacity() * sizeof(std::uint32_t);
    if (column.id == kFree) continue;
    const std::uint64_t first_live = std::max(column.first_block, retained_from_);
    if (first_live >= open_block_) continue;
    memory.closed_blocks += static_cast<std::size_t>(open_block_ - first_live);
    memory.closed_bytes += column.arena.size() - column.block_offset[first_live % slots_];
  }
  memory.closed_points = memory.closed_blocks * block_points_;
  memory.total_bytes = total;
  return memory;
}

std::vector<std::uint8_t> History::closed_block(std::uint32_t id, std::uint64_t block_number) const {
  std::lock_guard lock(mutex_);
  if (id >= column_of_.size() || column_of_[id] < 0) return {};
  const Column& column = columns_[static_cast<std::size_t>(column_of_[id])];
  if (!holds_block_locked(column, block_number)) return {};
  const std::span<const std::uint8_t> bytes = block_bytes_locked(column, block_number);
  return {bytes.begin(), bytes.end()};
}

Status check_history_reply_size(std::size_t points, std::size_t series, std::size_t max_values) {
  const std::size_t values = points * series;
  if (values <= max_values) return Status::success();
  return Status::failure("reply would hold " + std::to_string(values) + " values (" + std::to_string(points) +
                         " points x " + std::to_string(series) + " series; limit " + std::to_string(max_values) +
                         "): ask for fewer series or a shorter range");
}

}  // namespace hostpulse
