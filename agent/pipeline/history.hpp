#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "base/status.hpp"
#include "collectors/source.hpp"

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

// How much memory history holds, and how well its closed blocks compress.
struct HistoryMemory {
  std::size_t closed_blocks = 0;       // compressed blocks retained, every series
  std::size_t closed_points = 0;       // values in them (points x series)
  std::size_t closed_bytes = 0;        // their encoded bytes
  std::size_t open_bytes = 0;          // the open blocks: one point a double, per series
  std::size_t total_bytes = 0;         // everything, allocated capacity included
  std::uint64_t block_closes = 0;      // appends that closed the open blocks, since start
};

// The last `capacity` points, each with a global seq (1, 2, 3, ... never
// reused) and a wall-clock time, and one value per series.
//
// Points fall into blocks of block_points consecutive seqs, the same for
// every series (block n holds seqs n * block_points + 1 ...). The timeline
// (seq -> t_ms) is shared by all series and stays a plain ring: 8 bytes a
// point whatever the number of series, and the time scan of since_time needs
// no decode. Values are per series: the open block (the newest points) as
// plain doubles, written each append without allocating; when it fills, the
// next append compresses it (history_block.hpp: scaled integers when the
// series declares decimals and its values fit, else XOR floats) into the
// series' arena of closed blocks, which it never changes again. A series'
// arena holds its retained blocks back to back; blocks older than the ring
// are dropped from its front and the rest moved down once a quarter of it is
// dead, so after the first ring the arena's storage is reused and closing
// allocates only when a block outgrows it.
//
// A series gets a column (a free one, else a new one) when it is added, its
// earlier points reading as "no value"; a retired series' column is freed
// once its points have aged out of the ring, for a later series to reuse.
// Thread-safe: the sampler appends while HTTP and stream sessions read.
class History {
 public:
  // Two minutes at 1 s: long enough that headers and first values cost
  // little per point, short enough that the open blocks (8 bytes a point)
  // stay a small share of the hour.
  static constexpr std::size_t kDefaultBlockPoints = 120;

  // Series 0 .. series_count-1 are added from the start, without a scale.
  History(std::size_t series_count, std::size_t capacity, std::size_t block_points = kDefaultBlockPoints);

  // New series (ids never reused); they read NaN before now. decimals[i] is
  // ids[i]'s declared scale (SeriesSpec::decimals; kFloatDecimals or an
  // empty span: none).
  void add_series(std::span<const std::uint32_t> ids, std::span<const int> decimals = {});
  void add_series(std::uint32_t id, int decimals = kFloatDecimals) {
    add_series(std::span<const std::uint32_t>(&id, 1), std::span<const int>(&decimals, 1));
  }
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
  [[nodiscard]] std::size_t block_points() const { return block_points_; }
  [[nodiscard]] std::size_t column_count() const;  // series with a column now
  [[nodiscard]] std::size_t memory_bytes() const;
  [[nodiscard]] HistoryMemory memory() const;

  // A closed block's byte form (history_block.hpp), for seqs block_number *
  // block_points() + 1 onwards; empty when that block is not retained for
  // the series (open, aged out, before the series was added).
  [[nodiscard]] std::vector<std::uint8_t> closed_block(std::uint32_t id, std::uint64_t block_number) const;

 private:
  static constexpr std::uint32_t kFree = 0xffffffffu;
  // The open blocks grow by at least this many columns (and an eighth).
  static constexpr std::size_t kMinGrowth = 16;

  struct Column {
    std::uint32_t id = kFree;
    int decimals = kFloatDecimals;
    std::uint64_t retired_at = 0;    // the seq it retired at, 0 while live
    std::uint64_t first_block = 0;   // earlier blocks are not its own: they read NaN
    std::vector<std::uint8_t> arena; // its closed blocks, oldest first
    std::vector<std::uint32_t> block_offset;  // by block number % slots_: where it starts in arena
  };

  HistoryColumns copy_locked(std::uint64_t seq_first, std::size_t count,
                             std::span<const std::uint32_t> series) const;
  void free_aged_out_locked();
  void close_open_blocks_locked();
  void drop_aged_blocks_locked(Column& column) const;
  [[nodiscard]] bool holds_block_locked(const Column& column, std::uint64_t block) const;
  [[nodiscard]] std::span<const std::uint8_t> block_bytes_locked(const Column& column, std::uint64_t block) const;
  [[nodiscard]] std::size_t row_of(std::uint64_t seq) const { return static_cast<std::size_t>((seq - 1) % capacity_); }
  [[nodiscard]] std::uint64_t block_of(std::uint64_t seq) const { return (seq - 1) / block_points_; }

  const std::size_t capacity_;
  const std::size_t block_points_;
  const std::size_t slots_;                   // closed blocks a series can retain at once
  mutable std::mutex mutex_;
  std::vector<Column> columns_;
  std::vector<double> open_;                  // by column: block_points_ values of the open block
  std::vector<std::uint32_t> free_columns_;
  std::vector<std::int32_t> column_of_;       // by series id; -1: no column
  std::vector<std::int64_t> t_ms_;            // capacity_ timestamps
  std::vector<std::uint8_t> encoded_;         // scratch for one block's encoding, reserved once
  std::uint64_t next_seq_ = 1;
  std::uint64_t open_block_ = 0;              // block number of the open block
  std::uint64_t retained_from_ = 0;           // blocks before this are dropped
  std::size_t size_ = 0;
  std::size_t used_columns_ = 0;
  std::size_t retired_columns_ = 0;
  std::uint64_t block_closes_ = 0;
};

}  // namespace hostpulse
