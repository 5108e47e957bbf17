#include "agent/pipeline/history.hpp"

#include <cmath>
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

TEST(HistoryTest, MemoryIsFixedAtConstruction) {
  History history(50, 100);
  const std::size_t before = history.memory_bytes();
  EXPECT_GE(before, 50u * 100 * sizeof(double));
  for (int i = 0; i < 1000; ++i) history.append(i, row(i, 50));
  EXPECT_EQ(history.memory_bytes(), before);
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

}  // namespace
}  // namespace hostpulse
