#include "collectors/linux/proc_net_snmp.hpp"

#include <cmath>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/collectors/linux/proc_host_fixtures.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"

namespace hostpulse {
namespace {

using testing_support::host_fixture_settings;
using testing_support::read_host_fixture;
using testing_support::RecordingSeriesWriter;
using ::testing::HasSubstr;
using namespace std::string_view_literals;

constexpr std::uint64_t kAbsent = ~std::uint64_t{0} - 1;  // "no such column" in the table below

struct SnmpFixtureCase {
  std::string_view case_name;
  std::uint64_t active_opens, passive_opens, retransmits, established, udp_in_errors, rcvbuf_errors, sndbuf_errors;
};
void PrintTo(const SnmpFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

void expect_counter(const SnmpCounter& counter, std::uint64_t expected, std::string_view column) {
  SCOPED_TRACE(column);
  EXPECT_EQ(counter.present, expected != kAbsent);
  if (expected != kAbsent) {
    EXPECT_EQ(counter.value, expected);
  }
}

class ProcNetSnmpFixtureTest : public ::testing::TestWithParam<SnmpFixtureCase> {};

TEST_P(ProcNetSnmpFixtureTest, ParsesColumnsByName) {
  const SnmpFixtureCase& expected = GetParam();
  NetSnmp snmp;
  const Status status = parse_proc_net_snmp(read_host_fixture(expected.case_name, "net/snmp"), snmp);
  ASSERT_TRUE(status.ok()) << status.error;
  expect_counter(snmp.tcp_active_opens, expected.active_opens, "ActiveOpens");
  expect_counter(snmp.tcp_passive_opens, expected.passive_opens, "PassiveOpens");
  expect_counter(snmp.tcp_retransmits, expected.retransmits, "RetransSegs");
  expect_counter(snmp.tcp_established, expected.established, "CurrEstab");
  expect_counter(snmp.udp_in_errors, expected.udp_in_errors, "InErrors");
  expect_counter(snmp.udp_rcvbuf_errors, expected.rcvbuf_errors, "RcvbufErrors");
  expect_counter(snmp.udp_sndbuf_errors, expected.sndbuf_errors, "SndbufErrors");
}

// Values copied by hand from tests/fixtures/hosts/<case>/proc/net/snmp.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcNetSnmpFixtureTest,
    ::testing::Values(SnmpFixtureCase{"snmp_this_vm", 846451, 836025, 655, 0, 8, 8, 0},
                      SnmpFixtureCase{"snmp_this_vm_t1", 846456, 836030, 655, 10, 8, 8, 0},
                      SnmpFixtureCase{"snmp_old_kernel", 10234, 2211, 1502, 7, 3, kAbsent, kAbsent},
                      SnmpFixtureCase{"snmp_reordered", 1, 2, 3, 4, 5, 6, 7},
                      SnmpFixtureCase{"snmp_huge", 18446744073709551615u, 836025, 18446744073709551615u, 0, 8, 8,
                                      0}),
    [](const ::testing::TestParamInfo<SnmpFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcNetSnmpTest, ClearsWhatAPreviousParseFilled) {
  NetSnmp snmp;
  ASSERT_TRUE(parse_proc_net_snmp(read_host_fixture("snmp_this_vm", "net/snmp"), snmp).ok());
  ASSERT_TRUE(parse_proc_net_snmp("Tcp: CurrEstab\nTcp: 3\nUdp: NoPorts\nUdp: 1\n", snmp).ok());
  EXPECT_EQ(snmp.tcp_established.value, 3u);
  EXPECT_FALSE(snmp.tcp_active_opens.present);
  EXPECT_FALSE(snmp.udp_in_errors.present);
}

struct BadSnmpCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};
void PrintTo(const BadSnmpCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcNetSnmpBadTest : public ::testing::TestWithParam<BadSnmpCase> {};

TEST_P(ProcNetSnmpBadTest, FailsNamingTheLine) {
  NetSnmp snmp;
  const Status status = parse_proc_net_snmp(GetParam().text, snmp);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message_part));
}

constexpr std::string_view kUdpPair = "Udp: InErrors\nUdp: 0\n";

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcNetSnmpBadTest,
    ::testing::Values(
        BadSnmpCase{"empty", "", "snmp: file is empty"},
        BadSnmpCase{"truncated", "Tcp: CurrEstab\nTcp: 1", "snmp: text does not end with a newline"},
        BadSnmpCase{"fewer_values", "Udp: InErrors\nUdp: 0\nTcp: ActiveOpens CurrEstab\nTcp: 1\n",
                    "snmp line 4: Tcp: has fewer values than the header on line 3 has names (column 2)"},
        BadSnmpCase{"more_values", "Tcp: ActiveOpens\nTcp: 1 2\nUdp: InErrors\nUdp: 0\n",
                    "snmp line 2: Tcp: has more values than the header on line 1 has names (column 2)"},
        BadSnmpCase{"other_protocol_mismatch", "Ip: Forwarding DefaultTTL\nIp: 2\nTcp: CurrEstab\nTcp: 1\n",
                    "snmp line 2: Ip: has fewer values"},
        BadSnmpCase{"header_alone", "Tcp: CurrEstab\n", "snmp line 1: Tcp: header without a line of values"},
        BadSnmpCase{"values_of_another_protocol", "Tcp: CurrEstab\nUdp: 1\n",
                    "snmp line 2: expected the Tcp: values after the header on line 1, got 'Udp:'"},
        BadSnmpCase{"no_protocol", "garbage here\n", "snmp line 1: expected 'Protocol: names...'"},
        BadSnmpCase{"blank_line", "Tcp: CurrEstab\nTcp: 1\n\n", "snmp line 3: expected 'Protocol: names...'"},
        BadSnmpCase{"values_without_protocol", "Tcp: CurrEstab\n1\n",
                    "got a line without a protocol"},
        BadSnmpCase{"tcp_twice", "Tcp: CurrEstab\nTcp: 1\nUdp: InErrors\nUdp: 0\nTcp: CurrEstab\nTcp: 2\n",
                    "snmp line 5: Tcp: appears twice (first on line 1)"},
        BadSnmpCase{"column_twice", "Tcp: CurrEstab CurrEstab\nTcp: 1 2\nUdp: InErrors\nUdp: 0\n",
                    "snmp line 1: Tcp: CurrEstab: appears twice"},
        BadSnmpCase{"no_tcp", "Udp: InErrors\nUdp: 0\n", "snmp: no Tcp lines"},
        BadSnmpCase{"no_udp", "Tcp: CurrEstab\nTcp: 1\n", "snmp: no Udp lines"},
        BadSnmpCase{"negative_used_column", "Tcp: CurrEstab\nTcp: -1\nUdp: InErrors\nUdp: 0\n",
                    "snmp line 2: Tcp: CurrEstab: expected a non-negative number, got '-1'"},
        BadSnmpCase{"word_used_column", "Udp: RcvbufErrors\nUdp: many\nTcp: CurrEstab\nTcp: 1\n",
                    "snmp line 2: Udp: RcvbufErrors: expected a number, got 'many'"},
        BadSnmpCase{"overflow", "Tcp: RetransSegs\nTcp: 18446744073709551616\nUdp: InErrors\nUdp: 0\n",
                    "RetransSegs: value '18446744073709551616' does not fit in 64 bits"},
        BadSnmpCase{"nul", "Tcp: CurrEstab\nTcp: 1\0\nUdp: InErrors\nUdp: 0\n"sv, "got '1\\x00'"}),
    [](const ::testing::TestParamInfo<BadSnmpCase>& param_info) { return std::string(param_info.param.name); });

TEST(ProcNetSnmpTest, BadFixturesFail) {
  NetSnmp snmp;
  EXPECT_THAT(parse_proc_net_snmp(read_host_fixture("snmp_mismatch", "net/snmp"), snmp).error,
              HasSubstr("snmp line 8: Tcp: has fewer values than the header on line 7 has names (column 15)"));
  EXPECT_THAT(parse_proc_net_snmp(read_host_fixture("snmp_truncated", "net/snmp"), snmp).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_net_snmp(read_host_fixture("snmp_no_tcp", "net/snmp"), snmp).error,
              HasSubstr("snmp: no Tcp lines"));
  EXPECT_FALSE(parse_proc_net_snmp(read_host_fixture("snmp_garbage", "net/snmp"), snmp).ok());
}

std::span<const SeriesSpec> snmp_series() { return proc_net_snmp_source().series; }

NetSnmp parsed(std::string_view text) {
  NetSnmp snmp;
  const Status status = parse_proc_net_snmp(text, snmp);
  EXPECT_TRUE(status.ok()) << status.error;
  return snmp;
}

TEST(ProcNetSnmpDeriveTest, RatesFromTheCapturedPair) {
  // Five loopback connections were made between the two captures.
  const NetSnmp before = parsed(read_host_fixture("snmp_this_vm", "net/snmp"));
  const NetSnmp after = parsed(read_host_fixture("snmp_this_vm_t1", "net/snmp"));
  RecordingSeriesWriter out(snmp_series());
  derive_proc_net_snmp(&before, after, DeriveContext{.elapsed_s = 0.5, .facts = {}}, out);
  EXPECT_DOUBLE_EQ(out.values.at("tcp.established"), 10.0);
  EXPECT_DOUBLE_EQ(out.values.at("tcp.active_opens_per_s"), 10.0);   // 5 / 0.5 s
  EXPECT_DOUBLE_EQ(out.values.at("tcp.passive_opens_per_s"), 10.0);
  EXPECT_DOUBLE_EQ(out.values.at("tcp.retransmits_per_s"), 0.0);
  EXPECT_DOUBLE_EQ(out.values.at("udp.in_errors_per_s"), 0.0);
  EXPECT_DOUBLE_EQ(out.values.at("udp.rcvbuf_errors_per_s"), 0.0);
  EXPECT_DOUBLE_EQ(out.values.at("udp.sndbuf_errors_per_s"), 0.0);
}

TEST(ProcNetSnmpDeriveTest, GaugeWithoutPreviousNoSpikeOnResetNoValueForMissingColumns) {
  const NetSnmp old = parsed(read_host_fixture("snmp_old_kernel", "net/snmp"));
  RecordingSeriesWriter first(snmp_series());
  derive_proc_net_snmp(nullptr, old, DeriveContext{.elapsed_s = 1.0, .facts = {}}, first);
  EXPECT_DOUBLE_EQ(first.values.at("tcp.established"), 7.0);
  EXPECT_EQ(first.values.size(), 1u);

  const NetSnmp now = parsed(read_host_fixture("snmp_this_vm", "net/snmp"));
  RecordingSeriesWriter reset(snmp_series());
  derive_proc_net_snmp(&now, old, DeriveContext{.elapsed_s = 1.0, .facts = {}}, reset);
  EXPECT_TRUE(std::isnan(reset.values.at("tcp.active_opens_per_s")));  // went back: a reboot or namespace change
  EXPECT_EQ(reset.values.count("udp.rcvbuf_errors_per_s"), 0u);         // the old kernel has no such column
}

TEST(ProcNetSnmpCollectorSetTest, CollectsFixtureTree) {
  const SourceDefinition definitions[] = {proc_net_snmp_source()};
  CollectorSet collectors(host_fixture_settings("snmp_this_vm"), definitions);
  EXPECT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values.size(), 7u);
  EXPECT_DOUBLE_EQ(values.at("tcp.retransmits_per_s"), 0.0);

  CollectorSet mismatch(host_fixture_settings("snmp_mismatch"), definitions);
  EXPECT_THAT(mismatch.collect_one(0).error, HasSubstr("/hosts/snmp_mismatch/proc/net/snmp: snmp line 8: "));
}

TEST(ProcNetSnmpCollectorSetTest, MissingFileIsAbsentNotAFailure) {
  // psi_none holds only a loadavg, like a sandbox's partial /proc.
  const SourceDefinition definitions[] = {proc_net_snmp_source()};
  CollectorSet collectors(host_fixture_settings("psi_none"), definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/hosts/psi_none/proc/net/snmp: not present"));
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(ProcNetSnmpLiveTest, ReadsThisMachine) {
  const std::string text = testing_support::read_live_proc("net/snmp");
  if (text.empty()) GTEST_SKIP() << "no /proc/net/snmp here";
  NetSnmp snmp;
  const Status status = parse_proc_net_snmp(text, snmp);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(snmp.tcp_active_opens.present);
  EXPECT_TRUE(snmp.tcp_established.present);
  EXPECT_TRUE(snmp.udp_rcvbuf_errors.present);
}

TEST(ProcNetSnmpExposeTest, NodeExporterDefaultNetstatFieldsOfSnmp) {
  NetSnmp snmp;
  ASSERT_TRUE(parse_proc_net_snmp(testing_support::read_host_fixture("snmp_this_vm", "net/snmp"), snmp).ok());
  testing_support::RecordingMetricWriter writer(proc_net_snmp_source().metrics);
  expose_proc_net_snmp(snmp, writer);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples,
              ::testing::ElementsAre(
                  metric_sample("node_netstat_Ip_Forwarding", {}, 2), metric_sample("node_netstat_Icmp_InMsgs", {}, 3),
                  metric_sample("node_netstat_Icmp_InErrors", {}, 0), metric_sample("node_netstat_Icmp_OutMsgs", {}, 0),
                  metric_sample("node_netstat_Tcp_ActiveOpens", {}, 846451),
                  metric_sample("node_netstat_Tcp_PassiveOpens", {}, 836025),
                  metric_sample("node_netstat_Tcp_CurrEstab", {}, 0),
                  metric_sample("node_netstat_Tcp_InSegs", {}, 11716652),
                  metric_sample("node_netstat_Tcp_OutSegs", {}, 11717654),
                  metric_sample("node_netstat_Tcp_RetransSegs", {}, 655), metric_sample("node_netstat_Tcp_InErrs", {}, 0),
                  metric_sample("node_netstat_Tcp_OutRsts", {}, 747258),
                  metric_sample("node_netstat_Udp_InDatagrams", {}, 471), metric_sample("node_netstat_Udp_NoPorts", {}, 0),
                  metric_sample("node_netstat_Udp_InErrors", {}, 8),
                  metric_sample("node_netstat_Udp_OutDatagrams", {}, 574),
                  metric_sample("node_netstat_Udp_RcvbufErrors", {}, 8),
                  metric_sample("node_netstat_Udp_SndbufErrors", {}, 0),
                  metric_sample("node_netstat_UdpLite_InErrors", {}, 0)));
  for (const MetricSpec& spec : proc_net_snmp_source().metrics) EXPECT_EQ(spec.type, MetricType::untyped) << spec.name;
}

TEST(ProcNetSnmpExposeTest, ExposedOnlyColumnsAreLenient) {
  // A garbage InSegs fails nothing (no derived series reads it): no sample.
  NetSnmp snmp;
  const Status status = parse_proc_net_snmp(
      "Tcp: ActiveOpens PassiveOpens CurrEstab InSegs RetransSegs\nTcp: 1 2 3 lots 5\n"
      "Udp: InErrors RcvbufErrors SndbufErrors\nUdp: 0 0 0\n",
      snmp);
  ASSERT_TRUE(status.ok()) << status.error;
  testing_support::RecordingMetricWriter writer(proc_net_snmp_source().metrics);
  expose_proc_net_snmp(snmp, writer);
  EXPECT_EQ(writer.count("node_netstat_Tcp_InSegs"), 0u);
  EXPECT_EQ(writer.count("node_netstat_Ip_Forwarding"), 0u);  // no Ip lines
  EXPECT_EQ(writer.value("node_netstat_Tcp_RetransSegs"), 5.0);
  EXPECT_EQ(writer.samples.size(), 7u);
}

}  // namespace
}  // namespace hostpulse
