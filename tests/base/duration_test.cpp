#include "base/duration.hpp"

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesEveryUnitAndSums) {
  struct Case { const char* text; std::int64_t ms; };
  const Case cases[] = {{"0s", 0},       {"250ms", 250},       {"30s", 30'000},  {"5m", 300'000},
                        {"1h", 3'600'000}, {"2d", 172'800'000}, {"1m30s", 90'000}, {"1h0m1ms", 3'600'001}};
  for (const Case& c : cases) {
    milliseconds parsed{-1};
    const Status status = parse_duration(c.text, parsed);
    EXPECT_TRUE(status.ok()) << c.text << ": " << status.error;
    EXPECT_EQ(parsed.count(), c.ms) << c.text;
  }
}

TEST(DurationTest, RejectsWithAReason) {
  struct Case { const char* text; const char* reason; };
  const Case cases[] = {{"", "empty"},           {"5", "missing unit"},          {"5min", "unknown unit 'min'"},
                        {"-5s", "expected a number"}, {"s", "expected a number"}, {"1.5s", "fractions are not supported"},
                        {"99999999999999999999s", "too large"}, {"4000d", "ten years"}, {"5 s", "missing unit"}};
  for (const Case& c : cases) {
    milliseconds parsed{42};
    const Status status = parse_duration(c.text, parsed);
    EXPECT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.reason), std::string::npos) << "[" << c.text << "] -> " << status.error;
    EXPECT_EQ(parsed.count(), 42) << "output untouched on error: " << c.text;
  }
}

TEST(DurationTest, FormatsCompactly) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(100)), "100ms");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "1m30s");
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(60'000)), "1m");
}

}  // namespace
}  // namespace hostpulse
