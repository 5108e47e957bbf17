#include "agent/alerts/alert_instance.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Threshold th(const char* text) {
  Threshold t;
  EXPECT_TRUE(parse_threshold(text, t).ok()) << text;
  return t;
}

AlertRule cpu_rule() {
  AlertRule rule;
  rule.name = "cpu_busy";
  rule.series = "cpu.busy_pct";
  rule.warn = th("> 80");
  rule.warn_clear = th("< 70");
  rule.crit = th("> 95");
  rule.crit_clear = th("< 90");
  return rule;
}

// Feeds values one second apart; returns the state after each.
std::vector<AlertState> run(AlertInstance& instance, const std::vector<double>& values, std::int64_t start_ms = 0,
                            std::vector<AlertEvent>* events = nullptr) {
  std::vector<AlertState> states;
  std::int64_t t = start_ms;
  for (double v : values) {
    t += 1000;
    if (auto event = instance.observe(t, v); event && events) events->push_back(*event);
    states.push_back(instance.state());
  }
  return states;
}

constexpr AlertState OK = AlertState::ok, PEND = AlertState::pending, WARN = AlertState::warning,
                     CRIT = AlertState::critical, NODATA = AlertState::nodata;

TEST(ThresholdTest, ParsesAndMatches) {
  EXPECT_TRUE(th("> 80").matches(80.5));
  EXPECT_FALSE(th("> 80").matches(80));
  EXPECT_TRUE(th(">= 80").matches(80));
  EXPECT_TRUE(th("<5").matches(4.9));
  EXPECT_TRUE(th(" <= 0.5 ").matches(0.5));
  EXPECT_EQ(th(">= 1.5").to_string(), ">= 1.5");
  Threshold t;
  for (const char* bad : {"", "80", "> ", "> x", "=> 5", "> 5%", "> nan", "== 3", "> 1e999"}) {
    EXPECT_FALSE(parse_threshold(bad, t).ok()) << bad;
  }
}

TEST(AlertInstanceTest, FiresImmediatelyWithoutFor) {
  const AlertRule rule = cpu_rule();
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  EXPECT_EQ(run(instance, {50, 85, 97, 50}), (std::vector<AlertState>{OK, WARN, CRIT, OK}));
}

TEST(AlertInstanceTest, HysteresisPreventsFlapping) {
  const AlertRule rule = cpu_rule();
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  // Oscillating between the clear (70) and trigger (80) thresholds after firing: stays WARNING.
  std::vector<AlertEvent> events;
  const auto states = run(instance, {85, 75, 79, 72, 78, 71, 75, 69, 75, 79}, 0, &events);
  EXPECT_EQ(states, (std::vector<AlertState>{WARN, WARN, WARN, WARN, WARN, WARN, WARN, OK, OK, OK}));
  ASSERT_EQ(events.size(), 2u);  // one firing, one resolve: no flapping
  EXPECT_EQ(events[1].to, OK);
  EXPECT_EQ(events[1].threshold, "< 70");
  EXPECT_EQ(events[1].incident_ms, 7000);
}

TEST(AlertInstanceTest, CriticalFallsBackToWarningThroughItsOwnClear) {
  const AlertRule rule = cpu_rule();
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  // 92 is below crit (95) but above crit_clear (90): still critical. 85: critical clears, warning remains.
  EXPECT_EQ(run(instance, {97, 92, 91, 85, 75, 65}), (std::vector<AlertState>{CRIT, CRIT, CRIT, WARN, WARN, OK}));
}

TEST(AlertInstanceTest, ForDurationHoldsInPending) {
  AlertRule rule = cpu_rule();
  rule.for_duration = 3s;
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  // Pending from t=1s; fires once it has held 3 s (t=4s). A dip resets the clock.
  EXPECT_EQ(run(instance, {85, 85, 85, 85, 50, 85, 85}), (std::vector<AlertState>{PEND, PEND, PEND, WARN, OK, PEND, PEND}));
}

TEST(AlertInstanceTest, PendingThatDoesNotLastGoesBackToOkWithoutFiring) {
  AlertRule rule = cpu_rule();
  rule.for_duration = 10s;
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  std::vector<AlertEvent> events;
  run(instance, {85, 85, 60}, 0, &events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].to, PEND);
  EXPECT_EQ(events[1].from, PEND);
  EXPECT_EQ(events[1].to, OK);
  EXPECT_EQ(events[1].incident_ms, 0);
}

TEST(AlertInstanceTest, KeepFiringForDelaysTheResolve) {
  AlertRule rule = cpu_rule();
  rule.keep_firing_for = 2s;
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  // Clears at t=2s; still firing at 3s; resolves at 4s (2 s after clearing). A relapse restarts it.
  EXPECT_EQ(run(instance, {85, 60, 60, 60, 85, 60, 85, 60, 60, 60}),
            (std::vector<AlertState>{WARN, WARN, WARN, OK, WARN, WARN, WARN, WARN, WARN, OK}));
}

TEST(AlertInstanceTest, WithoutClearThresholdsTheTriggerDecides) {
  AlertRule rule;
  rule.name = "low";
  rule.series = "mem.available_pct";
  rule.crit = th("< 5");
  AlertInstance instance(rule, "mem.available_pct", 0, 0);
  EXPECT_EQ(run(instance, {10, 4, 5, 4.9, 6}), (std::vector<AlertState>{OK, CRIT, OK, CRIT, OK}));
}

TEST(AlertInstanceTest, ReducersOverAWindow) {
  AlertRule rule;
  rule.name = "avg";
  rule.series = "x";
  rule.warn = th("> 50");
  rule.window = 3s;  // the last three samples (t - 3s, t]
  rule.reduce = Reducer::avg;
  AlertInstance avg(rule, "x", 0, 0);
  // Averages: 100, 50, 33, 33, 67, 67, 33.
  EXPECT_EQ(run(avg, {100, 0, 0, 100, 100, 0, 0}), (std::vector<AlertState>{WARN, OK, OK, OK, WARN, WARN, OK}));
  rule.reduce = Reducer::min;
  AlertInstance min(rule, "x", 0, 0);
  EXPECT_EQ(run(min, {60, 60, 40, 60, 60, 60}), (std::vector<AlertState>{WARN, WARN, OK, OK, OK, WARN}));
  rule.reduce = Reducer::max;
  AlertInstance max(rule, "x", 0, 0);
  EXPECT_EQ(run(max, {60, 10, 10, 10, 10}), (std::vector<AlertState>{WARN, WARN, WARN, OK, OK}));
  EXPECT_DOUBLE_EQ(max.value(), 10);
}

TEST(AlertInstanceTest, MissingSamplesHoldStateThenNodataThenRecover) {
  AlertRule rule = cpu_rule();
  rule.nodata_after = 3s;
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  std::vector<AlertEvent> events;
  const auto states = run(instance, {97, kNaN, kNaN, kNaN, kNaN, 50, 50}, 0, &events);
  EXPECT_EQ(states, (std::vector<AlertState>{CRIT, CRIT, CRIT, NODATA, NODATA, OK, OK}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].to, NODATA);
  EXPECT_TRUE(std::isnan(events[1].value));
  EXPECT_EQ(events[2].from, NODATA);
  EXPECT_EQ(events[2].to, OK);
}

TEST(AlertInstanceTest, NoNodataWithoutNodataAfter) {
  const AlertRule rule = cpu_rule();
  AlertInstance instance(rule, "cpu.busy_pct", 0, 0);
  EXPECT_EQ(run(instance, {kNaN, kNaN, kNaN, kNaN}), (std::vector<AlertState>{OK, OK, OK, OK}));
}

TEST(AlertInstanceTest, EventsCarryRuleInstanceValueThresholdAndDescription) {
  AlertRule rule = cpu_rule();
  rule.description = "{{rule}}: {{series}} at {{value}} % ({{threshold}})";
  AlertInstance instance(rule, "cpu.3.busy_pct", 7, 0);
  const auto event = instance.observe(5000, 97.5);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->rule, "cpu_busy");
  EXPECT_EQ(event->instance, "cpu.3.busy_pct");
  EXPECT_EQ(event->from, OK);
  EXPECT_EQ(event->to, CRIT);
  EXPECT_DOUBLE_EQ(event->value, 97.5);
  EXPECT_EQ(event->threshold, "> 95");
  EXPECT_EQ(event->t_ms, 5000);
  EXPECT_EQ(event->severity, "critical");
  EXPECT_EQ(event->description, "cpu_busy: cpu.3.busy_pct at 97.5 % (> 95)");
}

// {{value}} reads like the number people see elsewhere: plain decimals, no
// exponent for byte counts, at most two places.
TEST(AlertInstanceTest, DescriptionValueIsPlainDecimal) {
  AlertRule rule = cpu_rule();
  rule.description = "{{value}}";
  const auto text = [&](double value) { return interpolate_description(rule, "s", value, "> 1"); };
  EXPECT_EQ(text(97.5), "97.5");
  EXPECT_EQ(text(91.25), "91.25");
  EXPECT_EQ(text(100), "100");
  EXPECT_EQ(text(0), "0");
  EXPECT_EQ(text(-3.5), "-3.5");
  EXPECT_EQ(text(17179869184.0), "17179869184");
  EXPECT_EQ(text(0.004), "0.004");
  EXPECT_EQ(text(2e18), "2e+18");
  EXPECT_EQ(text(std::nan("")), "no data");
}

}  // namespace
}  // namespace hostpulse
