#include "agent/pipeline/history.hpp"

#include <bit>
#include <cmath>
#include <random>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

std::vector<double> row(double base, std::size_t n) {
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = base + static_cast<double>(i) / 10;
  return r;
}

TEST(HistoryTest, EmptyHistoryAnswersEmpty) {
  History history(3, 4);
  const std::uint32_t all[] = {0, 1, 2};
  EXPECT_EQ(history.last_seq(), 0u);
  EXPECT_EQ(history.first_seq(), 0u);
  const HistoryColumns latest = history.latest(all);
  EXPECT_EQ(latest.points(), 0u);
  EXPECT_EQ(latest.seq_first, 0u);
  EXPECT_EQ(latest.values.size(), 3u);
  EXPECT_EQ(history.since_seq(0, all).points(), 0u);
  EXPECT_EQ(history.since_time(0, all).points(), 0u);
}

TEST(HistoryTest, SeqStartsAtOneAndIncreases) {
  History history(2, 4);
  EXPECT_EQ(history.append(1000, row(1, 2)), 1u);
  EXPECT_EQ(history.append(2000, row(2, 2)), 2u);
  EXPECT_EQ(history.last_seq(), 2u);
  EXPECT_EQ(history.first_seq(), 1u);
  EXPECT_EQ(history.size(), 2u);
}

TEST(HistoryTest, WrapsAroundKeepingTheNewestAndSeqContinuity) {
  History history(2, 4);
  for (int i = 1; i <= 10; ++i) history.append(i * 1000, row(i, 2));
  EXPECT_EQ(history.size(), 4u);
  EXPECT_EQ(history.first_seq(), 7u);
  EXPECT_EQ(history.last_seq(), 10u);
  const std::uint32_t series[] = {1, 0};
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 4u);
  EXPECT_EQ(all.seq_first, 7u);
  EXPECT_EQ(all.seq_last, 10u);
  EXPECT_EQ(all.t_ms, (std::vector<std::int64_t>{7000, 8000, 9000, 10000}));
  EXPECT_EQ(all.series, (std::vector<std::uint32_t>{1, 0}));
  EXPECT_DOUBLE_EQ(all.values[0][0], 7.1);  // series 1 of point 7
  EXPECT_DOUBLE_EQ(all.values[1][3], 10.0);  // series 0 of point 10
}

TEST(HistoryTest, SinceSeqReturnsOnlyNewerPointsWithoutGapOrDuplicate) {
  History history(1, 8);
  for (int i = 1; i <= 5; ++i) history.append(i, row(i, 1));
  const std::uint32_t series[] = {0};
  const HistoryColumns newer = history.since_seq(3, series);
  EXPECT_EQ(newer.seq_first, 4u);
  EXPECT_EQ(newer.seq_last, 5u);
  EXPECT_EQ(newer.values[0], (std::vector<double>{4, 5}));
  EXPECT_EQ(history.since_seq(5, series).points(), 0u);
  EXPECT_EQ(history.since_seq(99, series).points(), 0u);
  // A seq older than what is retained gets everything retained.
  for (int i = 6; i <= 12; ++i) history.append(i, row(i, 1));
  const HistoryColumns from_old = history.since_seq(1, series);
  EXPECT_EQ(from_old.seq_first, 5u);
  EXPECT_EQ(from_old.seq_last, 12u);
}

TEST(HistoryTest, MaxPointsKeepsTheNewest) {
  History history(1, 8);
  for (int i = 1; i <= 6; ++i) history.append(i, row(i, 1));
  const std::uint32_t series[] = {0};
  const HistoryColumns limited = history.since_seq(0, series, 2);
  EXPECT_EQ(limited.seq_first, 5u);
  EXPECT_EQ(limited.values[0], (std::vector<double>{5, 6}));
}

TEST(HistoryTest, SinceTimeTakesPointsAtOrAfter) {
  History history(1, 8);
  for (int i = 1; i <= 6; ++i) history.append(i * 100, row(i, 1));
  const std::uint32_t series[] = {0};
  const HistoryColumns recent = history.since_time(400, series);
  EXPECT_EQ(recent.seq_first, 4u);
  EXPECT_EQ(recent.t_ms, (std::vector<std::int64_t>{400, 500, 600}));
  EXPECT_EQ(history.since_time(0, series).points(), 6u);
  EXPECT_EQ(history.since_time(601, series).points(), 0u);
}

TEST(HistoryTest, KeepsNaNAsNoValue) {
  History history(2, 2);
  const double values[] = {std::numeric_limits<double>::quiet_NaN(), 3.0};
  history.append(1, values);
  const std::uint32_t series[] = {0, 1};
  const HistoryColumns latest = history.latest(series);
  EXPECT_TRUE(std::isnan(latest.values[0][0]));
  EXPECT_DOUBLE_EQ(latest.values[1][0], 3.0);
}

TEST(HistoryTest, MemoryStopsGrowingAfterOneRing) {
  History history(50, 100, 10);
  // Values repeat every 7 points, so the blocks' sizes do too.
  for (int i = 0; i < 300; ++i) history.append(i, row(i % 7, 50));
  const std::size_t settled = history.memory_bytes();
  for (int i = 300; i < 3000; ++i) history.append(i, row(i % 7, 50));
  EXPECT_EQ(history.memory_bytes(), settled);
  // Compressed, it is well below the plain doubles it replaces.
  EXPECT_LT(history.memory_bytes(), 50u * 100 * sizeof(double));
}

TEST(HistoryTest, ZeroCapacityIsRejected) { EXPECT_THROW(History(1, 0), std::invalid_argument); }

TEST(HistoryTest, ConcurrentReadersSeeConsistentPoints) {
  // Every row holds its seq in every column; a torn read would mix seqs.
  History history(16, 64);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 20000; ++i) history.append(i, std::vector<double>(16, i));
    done = true;
  });
  std::vector<std::uint32_t> series(16);
  for (std::uint32_t i = 0; i < 16; ++i) series[i] = i;
  while (!done) {
    const HistoryColumns columns = history.since_seq(0, series);
    for (std::size_t k = 0; k < columns.points(); ++k) {
      const double expected = static_cast<double>(columns.seq_first + k);
      for (const auto& column : columns.values) ASSERT_DOUBLE_EQ(column[k], expected);
    }
  }
  writer.join();
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

// Every value read back has the bits appended, whatever block it is in.
void expect_same_bits(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(bits(got[i]), bits(want[i])) << "at " << i;
}

TEST(HistoryTest, QueriesSpanningClosedAndOpenBlocksGiveEveryPoint) {
  constexpr std::size_t kBlock = 8;
  History history(0, 50, kBlock);
  history.add_series(0, 2);             // percentages: stored as integers
  history.add_series(1, kFloatDecimals);  // XOR floats
  std::vector<double> want0;
  std::vector<double> want1;
  for (int i = 1; i <= 43; ++i) {
    const double v0 = (i % 7 == 0) ? std::numeric_limits<double>::quiet_NaN() : i * 1.25;
    const double v1 = 1.0 / i;
    want0.push_back(v0);
    want1.push_back(v1);
    const double values[] = {v0, v1};
    history.append(i * 1000, values);
  }
  EXPECT_EQ(history.memory().block_closes, 5u);  // blocks 0-4 closed, 5 open with 3 points
  const std::uint32_t series[] = {0, 1};
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 43u);
  expect_same_bits(all.values[0], want0);
  expect_same_bits(all.values[1], want1);
  // Every start and end, across each block boundary.
  for (std::uint64_t after = 0; after < 43; ++after) {
    for (std::size_t max = 1; max <= 43 - after; max += 5) {
      const HistoryColumns part = history.since_seq(after, series, max);
      ASSERT_EQ(part.points(), max);
      const auto first = static_cast<std::size_t>(part.seq_first - 1);
      expect_same_bits(part.values[0], std::vector<double>(want0.begin() + first, want0.begin() + first + max));
      expect_same_bits(part.values[1], std::vector<double>(want1.begin() + first, want1.begin() + first + max));
    }
  }
}

TEST(HistoryTest, RingDropsWholeBlocksButAnswersOnlyTheLastCapacityPoints) {
  History history(1, 20, 8);
  for (int i = 1; i <= 100; ++i) history.append(i, row(i, 1));
  EXPECT_EQ(history.first_seq(), 81u);
  const std::uint32_t series[] = {0};
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 20u);
  EXPECT_EQ(all.seq_first, 81u);
  EXPECT_EQ(all.values[0].front(), 81.0);
  EXPECT_EQ(all.values[0].back(), 100.0);
  // Seqs 81-100 lie in blocks 10-12 (block 12 open): at most three closed
  // blocks are kept, and none older than the ring.
  EXPECT_LE(history.memory().closed_blocks, 3u);
  EXPECT_TRUE(history.closed_block(0, 8).empty());
  EXPECT_FALSE(history.closed_block(0, 11).empty());
}

TEST(HistoryTest, ASeriesAddedMidBlockReadsNaNBeforeIt) {
  History history(1, 40, 8);
  for (int i = 1; i <= 11; ++i) history.append(i, row(i, 2));
  history.add_series(1, 2);
  for (int i = 12; i <= 20; ++i) history.append(i, row(i, 2));
  const std::uint32_t series[] = {1};
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 20u);
  for (std::size_t k = 0; k < 11; ++k) EXPECT_TRUE(std::isnan(all.values[0][k])) << k;
  for (std::size_t k = 11; k < 20; ++k) EXPECT_DOUBLE_EQ(all.values[0][k], static_cast<double>(k + 1) + 0.1) << k;
}

TEST(HistoryTest, ARetiredSeriesColumnIsReusedWithoutItsOldBlocksShowing) {
  History history(2, 16, 4);
  for (int i = 1; i <= 10; ++i) history.append(i, row(i, 2));
  history.retire_series(1);
  const double only_zero[] = {1.0};
  for (int i = 11; i <= 30; ++i) history.append(i, only_zero);  // series 1 gets NaN
  EXPECT_EQ(history.column_count(), 1u);                         // freed after one ring
  history.add_series(2, 2);
  const double with_two[] = {1.0, 0.0, 7.5};
  for (int i = 31; i <= 40; ++i) history.append(i, with_two);
  EXPECT_EQ(history.column_count(), 2u);
  const std::uint32_t series[] = {2, 1};
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 16u);  // seqs 25-40
  for (std::size_t k = 0; k < 6; ++k) EXPECT_TRUE(std::isnan(all.values[0][k])) << k;
  for (std::size_t k = 6; k < 16; ++k) EXPECT_EQ(all.values[0][k], 7.5) << k;
  for (const double v : all.values[1]) EXPECT_TRUE(std::isnan(v));  // no column any more
}

TEST(HistoryTest, RandomValuesRoundTripThroughManyBlocks) {
  // Values of every kind, mixed so that blocks fall back from integers to
  // floats now and then; the ring holds 300 points in blocks of 16.
  std::mt19937_64 random(7);
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             1e300,
                             -1e-300,
                             std::bit_cast<double>(std::uint64_t{0x7ff8dead00000001})};  // NaN with a payload
  constexpr std::size_t kSeries = 6;
  History history(0, 300, 16);
  for (std::uint32_t id = 0; id < kSeries; ++id) history.add_series(id, id % 3 == 0 ? kFloatDecimals : 2);
  std::vector<std::vector<double>> want(kSeries);
  std::vector<double> values(kSeries);
  for (int i = 1; i <= 1000; ++i) {
    for (std::size_t s = 0; s < kSeries; ++s) {
      const std::uint64_t pick = random() % 100;
      if (pick < 3) {
        values[s] = specials[random() % std::size(specials)];
      } else if (pick < 60) {
        values[s] = static_cast<double>(static_cast<std::int64_t>(random() % 20001) - 10000) / 100.0;
      } else if (pick < 80) {
        // unchanged
      } else {
        values[s] = std::bit_cast<double>(random());
      }
      want[s].push_back(values[s]);
    }
    history.append(i, values);
  }
  std::vector<std::uint32_t> series(kSeries);
  for (std::uint32_t id = 0; id < kSeries; ++id) series[id] = id;
  const HistoryColumns all = history.since_seq(0, series);
  ASSERT_EQ(all.points(), 300u);
  for (std::size_t s = 0; s < kSeries; ++s) {
    expect_same_bits(all.values[s], std::vector<double>(want[s].end() - 300, want[s].end()));
  }
}

TEST(HistoryTest, MemoryAccountsForTheClosedBlocks) {
  History history(0, 1200, 120);
  history.add_series(0, 2);
  history.add_series(1, 2);
  const double flat[] = {50.0, 12.5};
  for (int i = 1; i <= 1201; ++i) history.append(i, flat);
  const HistoryMemory memory = history.memory();
  EXPECT_EQ(memory.block_closes, 10u);
  EXPECT_EQ(memory.closed_blocks, 20u);  // 10 blocks of each series
  EXPECT_EQ(memory.closed_points, 2400u);
  // A flat series costs a header and one value per block.
  EXPECT_LE(memory.closed_bytes, 20u * 16);
  EXPECT_EQ(memory.open_bytes, 2u * 120 * sizeof(double));
  EXPECT_GE(memory.total_bytes, memory.closed_bytes + memory.open_bytes + 1200 * sizeof(std::int64_t));
  EXPECT_EQ(history.memory_bytes(), memory.total_bytes);
}

}  // namespace
}  // namespace hostpulse
