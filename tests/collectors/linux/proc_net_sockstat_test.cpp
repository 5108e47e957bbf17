#include "collectors/linux/proc_net_sockstat.hpp"

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

constexpr std::uint64_t kAbsent = ~std::uint64_t{0} - 1;  // "not printed" in the table below
constexpr std::uint64_t kMax = ~std::uint64_t{0};

struct SockstatFixtureCase {
  std::string_view case_name;
  std::uint64_t sockets_used, tcp_in_use, tcp_orphan, tcp_time_wait, udp_in_use;
};
void PrintTo(const SockstatFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

void expect_count(const SockstatCount& count, std::uint64_t expected, std::string_view name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(count.present, expected != kAbsent);
  if (expected != kAbsent) {
    EXPECT_EQ(count.value, expected);
  }
}

class ProcNetSockstatFixtureTest : public ::testing::TestWithParam<SockstatFixtureCase> {};

TEST_P(ProcNetSockstatFixtureTest, ParsesExactValues) {
  const SockstatFixtureCase& expected = GetParam();
  SockStat sockstat;
  const Status status = parse_proc_net_sockstat(read_host_fixture(expected.case_name, "net/sockstat"), sockstat);
  ASSERT_TRUE(status.ok()) << status.error;
  expect_count(sockstat.sockets_used, expected.sockets_used, "sockets used");
  expect_count(sockstat.tcp_in_use, expected.tcp_in_use, "TCP inuse");
  expect_count(sockstat.tcp_orphan, expected.tcp_orphan, "TCP orphan");
  expect_count(sockstat.tcp_time_wait, expected.tcp_time_wait, "TCP tw");
  expect_count(sockstat.udp_in_use, expected.udp_in_use, "UDP inuse");
}

// Values copied by hand from tests/fixtures/hosts/<case>/proc/net/sockstat.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcNetSockstatFixtureTest,
    ::testing::Values(SockstatFixtureCase{"sockstat_this_vm", 16, 1, 0, 0, 0},
                      SockstatFixtureCase{"sockstat_old_kernel", 412, 37, 1, 118, 6},
                      SockstatFixtureCase{"sockstat_missing_keys", 16, 1, kAbsent, kAbsent, kAbsent},
                      SockstatFixtureCase{"sockstat_huge", kMax, kMax, 0, kMax, 0}),
    [](const ::testing::TestParamInfo<SockstatFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(ProcNetSockstatTest, ClearsWhatAPreviousParseFilled) {
  SockStat sockstat;
  ASSERT_TRUE(parse_proc_net_sockstat(read_host_fixture("sockstat_this_vm", "net/sockstat"), sockstat).ok());
  ASSERT_TRUE(parse_proc_net_sockstat("UDP: inuse 2\n", sockstat).ok());
  EXPECT_FALSE(sockstat.sockets_used.present);
  EXPECT_FALSE(sockstat.tcp_in_use.present);
  EXPECT_EQ(sockstat.udp_in_use.value, 2u);
}

TEST(ProcNetSockstatTest, IgnoresOtherLinesAndNames) {
  SockStat sockstat;
  const Status status = parse_proc_net_sockstat(
      "RAW: inuse lots\r\nTCP:\tmem 1\tinuse 4 future 7\r\nFRAG: inuse\r\nsomething odd\r\n", sockstat);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(sockstat.tcp_in_use.value, 4u);
}

struct BadSockstatCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_part;
};
void PrintTo(const BadSockstatCase& test_case, std::ostream* stream) { *stream << test_case.name; }

class ProcNetSockstatBadTest : public ::testing::TestWithParam<BadSockstatCase> {};

TEST_P(ProcNetSockstatBadTest, FailsNamingTheLine) {
  SockStat sockstat;
  const Status status = parse_proc_net_sockstat(GetParam().text, sockstat);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ProcNetSockstatBadTest,
    ::testing::Values(
        BadSockstatCase{"empty", "", "sockstat: file is empty"},
        BadSockstatCase{"truncated", "sockets: used 1", "sockstat: text does not end with a newline"},
        BadSockstatCase{"none_known", "RAW: inuse 0\nFRAG: inuse 0 memory 0\n",
                        "sockstat: none of the sockets:, TCP:, UDP: lines found"},
        BadSockstatCase{"odd_pairs", "sockets: used 1\nTCP: inuse 1 orphan\n", "sockstat line 2: TCP: 'orphan' without a value"},
        BadSockstatCase{"line_twice", "UDP: inuse 1\nUDP: inuse 2\n", "sockstat line 2: UDP: appears twice (first on line 1)"},
        BadSockstatCase{"name_twice", "TCP: tw 1 tw 2\n", "sockstat line 1: TCP: tw: appears twice"},
        BadSockstatCase{"word", "sockets: used many\n", "sockstat line 1: sockets: used: expected a number, got 'many'"},
        BadSockstatCase{"negative", "TCP: orphan -1\n", "sockstat line 1: TCP: orphan: expected a non-negative number, got '-1'"},
        BadSockstatCase{"overflow", "TCP: tw 18446744073709551616\n", "TCP: tw: value '18446744073709551616' does not fit"},
        BadSockstatCase{"nul", "UDP: inuse 0\0\n"sv, "got '0\\x00'"}),
    [](const ::testing::TestParamInfo<BadSockstatCase>& param_info) { return std::string(param_info.param.name); });

TEST(ProcNetSockstatTest, BadFixturesFail) {
  SockStat sockstat;
  EXPECT_THAT(parse_proc_net_sockstat(read_host_fixture("sockstat_truncated", "net/sockstat"), sockstat).error,
              HasSubstr("does not end with a newline"));
  EXPECT_THAT(parse_proc_net_sockstat(read_host_fixture("sockstat_odd_pairs", "net/sockstat"), sockstat).error,
              HasSubstr("sockstat line 2: TCP: 'mem' without a value"));
  EXPECT_FALSE(parse_proc_net_sockstat(read_host_fixture("sockstat_garbage", "net/sockstat"), sockstat).ok());
}

TEST(ProcNetSockstatDeriveTest, GaugesAsTheyAreMissingOnesWithoutValue) {
  SockStat sockstat;
  ASSERT_TRUE(parse_proc_net_sockstat(read_host_fixture("sockstat_old_kernel", "net/sockstat"), sockstat).ok());
  RecordingSeriesWriter out(proc_net_sockstat_source().series);
  derive_proc_net_sockstat(nullptr, sockstat, DeriveContext{.elapsed_s = 0.0, .facts = {}}, out);
  EXPECT_EQ(out.values, (std::map<std::string, double>{{"sockets.used", 412.0},
                                                       {"tcp.in_use", 37.0},
                                                       {"tcp.orphan", 1.0},
                                                       {"tcp.time_wait", 118.0},
                                                       {"udp.in_use", 6.0}}));

  ASSERT_TRUE(parse_proc_net_sockstat(read_host_fixture("sockstat_missing_keys", "net/sockstat"), sockstat).ok());
  RecordingSeriesWriter missing(proc_net_sockstat_source().series);
  derive_proc_net_sockstat(nullptr, sockstat, DeriveContext{.elapsed_s = 1.0, .facts = {}}, missing);
  EXPECT_EQ(missing.values, (std::map<std::string, double>{{"sockets.used", 16.0}, {"tcp.in_use", 1.0}}));
}

TEST(ProcNetSockstatCollectorSetTest, CollectsFixtureTree) {
  const SourceDefinition definitions[] = {proc_net_sockstat_source()};
  CollectorSet collectors(host_fixture_settings("sockstat_this_vm"), definitions);
  EXPECT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values, (std::map<std::string, double>{{"sockets.used", 16.0},
                                                   {"tcp.in_use", 1.0},
                                                   {"tcp.orphan", 0.0},
                                                   {"tcp.time_wait", 0.0},
                                                   {"udp.in_use", 0.0}}));

  CollectorSet garbage(host_fixture_settings("sockstat_odd_pairs"), definitions);
  EXPECT_THAT(garbage.collect_one(0).error, HasSubstr("/hosts/sockstat_odd_pairs/proc/net/sockstat: sockstat line 2"));
}

TEST(ProcNetSockstatCollectorSetTest, MissingFileIsAbsentNotAFailure) {
  // psi_none holds only a loadavg, like a sandbox's partial /proc.
  const SourceDefinition definitions[] = {proc_net_sockstat_source()};
  CollectorSet collectors(host_fixture_settings("psi_none"), definitions);
  const Status status = collectors.collect_one(0);
  EXPECT_TRUE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("/hosts/psi_none/proc/net/sockstat: not present"));
  EXPECT_FALSE(collectors.source(0).current_ok());
  EXPECT_EQ(collectors.collect_all(), 0u);
}

TEST(ProcNetSockstatLiveTest, ReadsThisMachine) {
  const std::string text = testing_support::read_live_proc("net/sockstat");
  if (text.empty()) GTEST_SKIP() << "no /proc/net/sockstat here";
  SockStat sockstat;
  const Status status = parse_proc_net_sockstat(text, sockstat);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(sockstat.sockets_used.present);
  EXPECT_TRUE(sockstat.tcp_time_wait.present);
  EXPECT_TRUE(sockstat.udp_in_use.present);
}

TEST(ProcNetSockstatExposeTest, NodeExporterIpv4FamiliesWithMemoryInBytes) {
  SockStat sockstat;
  ASSERT_TRUE(parse_proc_net_sockstat(read_host_fixture("sockstat_this_vm", "net/sockstat"), sockstat).ok());
  testing_support::RecordingMetricWriter writer(proc_net_sockstat_source().metrics);
  constexpr double kPageBytes = 4096;
  expose_proc_net_sockstat(sockstat, writer, kPageBytes);
  using testing_support::metric_sample;
  EXPECT_THAT(writer.samples,
              ::testing::ElementsAre(
                  metric_sample("node_sockstat_sockets_used", {}, 16), metric_sample("node_sockstat_TCP_inuse", {}, 1),
                  metric_sample("node_sockstat_TCP_orphan", {}, 0), metric_sample("node_sockstat_TCP_tw", {}, 0),
                  metric_sample("node_sockstat_TCP_alloc", {}, 1), metric_sample("node_sockstat_TCP_mem", {}, 53),
                  metric_sample("node_sockstat_TCP_mem_bytes", {}, 53 * kPageBytes),
                  metric_sample("node_sockstat_UDP_inuse", {}, 0), metric_sample("node_sockstat_UDP_mem", {}, 0),
                  metric_sample("node_sockstat_UDP_mem_bytes", {}, 0),
                  metric_sample("node_sockstat_UDPLITE_inuse", {}, 0), metric_sample("node_sockstat_RAW_inuse", {}, 0),
                  metric_sample("node_sockstat_FRAG_inuse", {}, 0), metric_sample("node_sockstat_FRAG_memory", {}, 0)));
}

TEST(ProcNetSockstatExposeTest, ExposedOnlyCountsAreLenientAndNeverFailTheRead) {
  // alloc does not fit in 64 bits: no TCP_alloc sample, the rest as before.
  SockStat sockstat;
  ASSERT_TRUE(parse_proc_net_sockstat(read_host_fixture("sockstat_huge", "net/sockstat"), sockstat).ok());
  EXPECT_FALSE(sockstat.tcp_alloc.present);
  EXPECT_EQ(sockstat.tcp_mem_pages.value, 53u);
  // Odd pairs and words on the lines only the families read.
  ASSERT_TRUE(parse_proc_net_sockstat("sockets: used 3\nRAW: inuse lots\nFRAG: inuse 2 memory\nUDPLITE: inuse 4 inuse 5\n",
                                      sockstat)
                  .ok());
  EXPECT_FALSE(sockstat.raw_in_use.present);
  EXPECT_TRUE(sockstat.frag_in_use.present);
  EXPECT_EQ(sockstat.frag_in_use.value, 2u);
  EXPECT_FALSE(sockstat.frag_memory_bytes.present);
  EXPECT_EQ(sockstat.udplite_in_use.value, 4u);  // the first of a duplicate
  testing_support::RecordingMetricWriter writer(proc_net_sockstat_source().metrics);
  expose_proc_net_sockstat(sockstat, writer, 4096);
  EXPECT_EQ(writer.count("node_sockstat_RAW_inuse"), 0u);
  EXPECT_EQ(writer.count("node_sockstat_TCP_mem_bytes"), 0u);
  EXPECT_EQ(writer.value("node_sockstat_sockets_used"), 3.0);
}

TEST(ProcNetSockstatExposeTest, OnlyExposedLinesAreStillNotSockstat) {
  SockStat sockstat;
  EXPECT_FALSE(parse_proc_net_sockstat("RAW: inuse 0\nFRAG: inuse 0 memory 0\n", sockstat).ok());
}

}  // namespace
}  // namespace hostpulse
