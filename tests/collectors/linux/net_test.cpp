#include "collectors/linux/net.hpp"

#include <sys/stat.h>  // mkfifo

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "tests/support/recording_metric_writer.hpp"
#include "tests/support/recording_series_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing_support::RecordingSeriesWriter;

// tests/fixtures/hosts/<case>/{proc,sys}: see tests/fixtures/README.md.
std::string host_root(std::string_view case_name) {
  return std::string(HOSTPULSE_FIXTURES_DIR) + "/hosts/" + std::string(case_name);
}

std::string read_host_file(std::string_view case_name, std::string_view relative) {
  const std::string path = host_root(case_name) + "/" + std::string(relative);
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    ADD_FAILURE() << "cannot open fixture " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

std::string read_net_dev(std::string_view case_name) { return read_host_file(case_name, "proc/net/dev"); }

SourceSettings settings_for(std::string_view proc_case, std::string_view sys_case) {
  return SourceSettings{.paths = HostPaths{.proc = host_root(proc_case) + "/proc", .sys = host_root(sys_case) + "/sys"}};
}

std::vector<std::string> names_of(const NetDev& net) {
  std::vector<std::string> names;
  for (const NetInterface& entry : net.interfaces) names.push_back(entry.name);
  return names;
}

const NetInterface& interface_named(const NetDev& net, std::string_view name) {
  for (const NetInterface& entry : net.interfaces) {
    if (entry.name == name) return entry;
  }
  ADD_FAILURE() << "no interface " << name;
  static const NetInterface kNone;
  return kNone;
}

// A line of 16 counters, all `value`.
std::string counters_of(std::uint64_t value) {
  std::string text;
  for (std::size_t i = 0; i < kNetDevCounterCount; ++i) text += " " + std::to_string(value);
  return text;
}

constexpr std::string_view kHeader =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n";

// ---- the parser, on fixtures ----------------------------------------------

// Values copied by hand from tests/fixtures/hosts/<case>/proc/net/dev.
struct NetDevFixtureCase {
  std::string_view case_name;
  std::vector<std::string> names;  // kept, in file order
  std::size_t listed;
  std::size_t skipped_unusable_names;
  std::string_view spot_name;  // one interface checked column by column
  NetDevCounters spot;
};

void PrintTo(const NetDevFixtureCase& test_case, std::ostream* stream) { *stream << test_case.case_name; }

class NetDevFixtureTest : public ::testing::TestWithParam<NetDevFixtureCase> {};

TEST_P(NetDevFixtureTest, ParsesExactValues) {
  const NetDevFixtureCase& expected = GetParam();
  NetDev net;
  const Status status = parse_proc_net_dev(read_net_dev(expected.case_name), net);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_THAT(names_of(net), ElementsAreArray(expected.names));
  EXPECT_EQ(net.listed, expected.listed);
  EXPECT_EQ(net.skipped_unusable_names, expected.skipped_unusable_names);
  EXPECT_EQ(net.skipped_over_cap, 0u);
  EXPECT_EQ(interface_named(net, expected.spot_name).counters, expected.spot);
  for (const NetInterface& entry : net.interfaces) {
    // The parser reads /proc only; sysfs facts come from NetState.
    EXPECT_FALSE(entry.is_virtual.has_value());
    EXPECT_FALSE(entry.speed_bytes_per_s.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, NetDevFixtureTest,
    ::testing::Values(
        NetDevFixtureCase{.case_name = "net_this_vm",
                          .names = {"lo", "ifb0", "ifb1", "eth0"},
                          .listed = 4,
                          .skipped_unusable_names = 0,
                          .spot_name = "eth0",
                          .spot = {.rx_bytes = 580057405, .rx_packets = 20741, .tx_bytes = 3956110,
                                   .tx_packets = 20280}},
        NetDevFixtureCase{.case_name = "net_docker",
                          .names = {"lo", "eno1", "wlp2s0", "docker0", "veth3f2a1b9", "br-5f3e2a1b9c0d"},
                          .listed = 6,
                          .skipped_unusable_names = 0,
                          .spot_name = "eno1",
                          .spot = {.rx_bytes = 9876543210, .rx_packets = 7654321, .rx_errors = 3, .rx_drops = 120,
                                   .rx_multicast = 4521, .tx_bytes = 1234567890, .tx_packets = 2345678}},
        // No space after the colon once the first counter is 8 digits.
        NetDevFixtureCase{.case_name = "net_linux2_6",
                          .names = {"lo", "eth0", "sit0"},
                          .listed = 3,
                          .skipped_unusable_names = 0,
                          .spot_name = "eth0",
                          .spot = {.rx_bytes = 1803412934, .rx_packets = 2371915, .rx_multicast = 12345,
                                   .tx_bytes = 93112830, .tx_packets = 712890}},
        // The 300-byte name and "../../../etc" are skipped; spaces, '%',
        // control bytes, an alias colon and tabs are kept as they are.
        NetDevFixtureCase{.case_name = "net_hostile",
                          .names = {"my if", "100%", "\x01" "ctl", "eth0:1", "eth1", "huge"},
                          .listed = 8,
                          .skipped_unusable_names = 2,
                          .spot_name = "huge",
                          .spot = {.rx_bytes = 18446744073709551615u, .rx_packets = 1, .rx_errors = 1,
                                   .rx_drops = 1, .rx_fifo = 1, .rx_frame = 1, .rx_compressed = 1,
                                   .rx_multicast = 1, .tx_bytes = 1, .tx_packets = 1, .tx_errors = 1,
                                   .tx_drops = 1, .tx_fifo = 1, .tx_collisions = 1, .tx_carrier = 1,
                                   .tx_compressed = 1}},
        NetDevFixtureCase{.case_name = "net_wrap32_t0",
                          .names = {"lo", "eth0", "eth1"},
                          .listed = 3,
                          .skipped_unusable_names = 0,
                          .spot_name = "eth0",
                          .spot = {.rx_bytes = 4294967000, .rx_packets = 3000000, .tx_bytes = 2000000000,
                                   .tx_packets = 1500000}}),
    [](const ::testing::TestParamInfo<NetDevFixtureCase>& param_info) {
      return std::string(param_info.param.case_name);
    });

TEST(NetDevParserTest, ParsesTheGeneratedLargeHost) {
  NetDev net;
  ASSERT_TRUE(parse_proc_net_dev(read_net_dev("net_large_host"), net).ok());
  EXPECT_EQ(net.interfaces.size(), 50u);
  EXPECT_EQ(net.interfaces.front().name, "lo");
  EXPECT_EQ(net.interfaces.back().name, "veth0027c0de");
}

TEST(NetDevParserTest, EveryColumnLandsInItsField) {
  NetDev net;
  const std::string text = std::string(kHeader) + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
  ASSERT_TRUE(parse_proc_net_dev(text, net).ok());
  ASSERT_EQ(net.interfaces.size(), 1u);
  const NetDevCounters expected{.rx_bytes = 1, .rx_packets = 2, .rx_errors = 3, .rx_drops = 4, .rx_fifo = 5,
                                .rx_frame = 6, .rx_compressed = 7, .rx_multicast = 8, .tx_bytes = 9,
                                .tx_packets = 10, .tx_errors = 11, .tx_drops = 12, .tx_fifo = 13,
                                .tx_collisions = 14, .tx_carrier = 15, .tx_compressed = 16};
  EXPECT_EQ(net.interfaces[0].counters, expected);
  EXPECT_EQ(net.interfaces[0].line, 3u);
}

struct NameCase {
  std::string_view line_start;  // before the counters
  std::string_view name;        // as kept
};

TEST(NetDevParserTest, NameEndsAtTheLastColon) {
  const NameCase cases[] = {
      {"  eth0:", "eth0"},   {"eth0:", "eth0"},     {"  eth0:1:", "eth0:1"},
      {"  eth0: ", "eth0"},  {"\teth0\t:", "eth0"}, {"a:b:c:", "a:b:c"},
      {"  100%:", "100%"},   {" my if :", "my if"},
  };
  for (const NameCase& test_case : cases) {
    SCOPED_TRACE(test_case.line_start);
    NetDev net;
    const std::string text = std::string(kHeader) + std::string(test_case.line_start) + "123" + counters_of(0).substr(2) + "\n";
    const Status status = parse_proc_net_dev(text, net);
    ASSERT_TRUE(status.ok()) << status.error;
    ASSERT_EQ(net.interfaces.size(), 1u);
    EXPECT_EQ(net.interfaces[0].name, test_case.name);
    EXPECT_EQ(net.interfaces[0].counters.rx_bytes, 123u);
  }
}

struct BadNetDevCase {
  std::string_view what;
  std::string text;
  std::string_view message;  // a part of the error
};

void PrintTo(const BadNetDevCase& test_case, std::ostream* stream) { *stream << test_case.what; }

class NetDevBadInputTest : public ::testing::TestWithParam<BadNetDevCase> {};

TEST_P(NetDevBadInputTest, FailsNamingTheLine) {
  const BadNetDevCase& test_case = GetParam();
  NetDev net;
  const Status status = parse_proc_net_dev(test_case.text, net);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr(test_case.message));
}

const std::string kHeaderText(kHeader);

INSTANTIATE_TEST_SUITE_P(
    Cases, NetDevBadInputTest,
    ::testing::Values(
        BadNetDevCase{"empty", "", "net/dev: file is empty"},
        BadNetDevCase{"truncated", kHeaderText + "  eth0: 1 2 3", "does not end with a newline"},
        BadNetDevCase{"header_only_one_line", "Inter-|   Receive\n", "header line missing"},
        BadNetDevCase{"first_header_wrong", "bogus\n face |\n", "line 1: expected a header starting 'Inter-|'"},
        BadNetDevCase{"second_header_wrong", "Inter-|\nbogus\n", "line 2: expected a header starting ' face |'"},
        BadNetDevCase{"no_colon", kHeaderText + "  eth0 1 2 3\n", "line 3: expected '<interface>: <counters>'"},
        BadNetDevCase{"empty_line", kHeaderText + "\n", "line 3: expected '<interface>: <counters>', got an empty line"},
        BadNetDevCase{"no_name", kHeaderText + "   :" + counters_of(1) + "\n", "line 3: interface name missing"},
        BadNetDevCase{"fifteen_counters", kHeaderText + "lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
                      "line 3: interface 'lo': expected 16 counters, found 15"},
        BadNetDevCase{"no_counters", kHeaderText + "  lo:\n", "expected 16 counters, found 0"},
        BadNetDevCase{"seventeen_counters", kHeaderText + "lo:" + counters_of(1) + " 17\n",
                      "line 3: interface 'lo': unexpected '17' after 16 counters"},
        BadNetDevCase{"not_a_number", kHeaderText + "lo: 1 2 x3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                      "line 3: interface 'lo': rx errs: expected a number, got 'x3'"},
        BadNetDevCase{"negative", kHeaderText + "lo: 1 2 3 4 5 6 7 8 -9 10 11 12 13 14 15 16\n",
                      "tx bytes: expected a non-negative number, got '-9'"},
        BadNetDevCase{"overflow", kHeaderText + "lo: 18446744073709551616" + counters_of(0).substr(2) + "\n",
                      "rx bytes: value '18446744073709551616' does not fit in 64 bits"},
        BadNetDevCase{"hex", kHeaderText + "lo: 0x10" + counters_of(0).substr(2) + "\n",
                      "expected a number, got '0x10'"},
        BadNetDevCase{"garbage_after_good", kHeaderText + "lo:" + counters_of(1) + "\n\x01\x02\x03\n",
                      "line 4: expected '<interface>: <counters>', got '\\x01\\x02\\x03'"},
        BadNetDevCase{"garbage_fixture", read_net_dev("net_garbage"), "net/dev line 1: expected a header"}),
    [](const ::testing::TestParamInfo<BadNetDevCase>& param_info) { return std::string(param_info.param.what); });

TEST(NetDevParserTest, KeepsAtMostTheCapAndCountsTheRest) {
  constexpr std::size_t kListed = 5000;
  std::string text(kHeader);
  for (std::size_t i = 0; i < kListed; ++i) text += "veth" + std::to_string(i) + ":" + counters_of(i) + "\n";
  NetDev net;
  ASSERT_TRUE(parse_proc_net_dev(text, net).ok());
  EXPECT_EQ(net.interfaces.size(), kMaxNetInterfaces);
  EXPECT_EQ(net.listed, kListed);
  EXPECT_EQ(net.skipped_over_cap, kListed - kMaxNetInterfaces);
  // The first ones in the file are kept (the kernel lists by creation order,
  // so lo and the hardware ports before the container veths).
  EXPECT_EQ(net.interfaces.front().name, "veth0");
  EXPECT_EQ(net.interfaces.back().name, "veth" + std::to_string(kMaxNetInterfaces - 1));
}

TEST(NetDevParserTest, SkipsNamesNoKernelGives) {
  const std::string names[] = {std::string(kMaxNetInterfaceNameBytes + 1, 'x'), "a/b", "..", ".",
                               std::string("nul\0byte", 8)};
  std::string text(kHeader);
  for (const std::string& name : names) text += name + ":" + counters_of(1) + "\n";
  text += std::string(kMaxNetInterfaceNameBytes, 'y') + ":" + counters_of(2) + "\n";
  NetDev net;
  ASSERT_TRUE(parse_proc_net_dev(text, net).ok());
  EXPECT_EQ(net.skipped_unusable_names, std::size(names));
  EXPECT_EQ(net.listed, std::size(names) + 1);
  // Exactly at the limit is kept.
  ASSERT_EQ(net.interfaces.size(), 1u);
  EXPECT_EQ(net.interfaces[0].name.size(), kMaxNetInterfaceNameBytes);
}

TEST(NetDevParserTest, RefillsWithoutStaleInterfaces) {
  NetDev net;
  ASSERT_TRUE(parse_proc_net_dev(read_net_dev("net_docker"), net).ok());
  ASSERT_EQ(net.interfaces.size(), 6u);
  ASSERT_TRUE(parse_proc_net_dev(read_net_dev("net_linux2_6"), net).ok());
  EXPECT_THAT(names_of(net), ElementsAreArray({"lo", "eth0", "sit0"}));
  EXPECT_FALSE(parse_proc_net_dev("Inter-|\n", net).ok());
  EXPECT_TRUE(net.interfaces.empty());
  EXPECT_EQ(net.listed, 0u);
}

TEST(NetDevParserTest, AcceptsCrlfLines) {
  NetDev net;
  std::string text = "Inter-|\r\n face |\r\n  eth0:" + counters_of(7) + "\r\n";
  ASSERT_TRUE(parse_proc_net_dev(text, net).ok());
  ASSERT_EQ(net.interfaces.size(), 1u);
  EXPECT_EQ(net.interfaces[0].counters.tx_compressed, 7u);
}

// Every prefix of every fixture (most are cut mid-line, so must fail on the
// missing newline; those cut at a line end must parse), and random bytes
// spliced in: under ASan this proves the parser never reads out of bounds.
TEST(NetDevParserTest, SurvivesCutsAndSplicedJunk) {
  std::mt19937 random(20261201);
  for (const std::string_view case_name : {"net_this_vm", "net_docker", "net_linux2_6", "net_hostile"}) {
    SCOPED_TRACE(case_name);
    const std::string text = read_net_dev(case_name);
    const std::size_t header_end = text.find('\n', text.find('\n') + 1) + 1;
    NetDev net;
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      // Exactly cut bytes on the heap: a read past them hits ASan's redzone.
      const std::vector<char> exact(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(cut));
      const Status status = parse_proc_net_dev(std::string_view(exact.data(), exact.size()), net);
      const bool whole_lines = cut >= header_end && text[cut - 1] == '\n';
      EXPECT_EQ(status.ok(), whole_lines) << "cut at " << cut << ": " << status.error;
    }
    for (int round = 0; round < 500; ++round) {
      std::string mutated = text;
      const std::size_t at = random() % mutated.size();
      mutated[at] = static_cast<char>(random() & 0xff);
      const Status status = parse_proc_net_dev(mutated, net);
      if (status.ok()) {
        EXPECT_EQ(net.listed, net.interfaces.size() + net.skipped_unusable_names + net.skipped_over_cap);
      }
    }
  }
}

// ---- sysfs attributes -----------------------------------------------------

TEST(NetSysfsTest, Speed) {
  const std::pair<std::string_view, std::optional<std::uint64_t>> cases[] = {
      {"1000\n", 125'000'000},
      {"10\n", 1'250'000},
      {"400000\n", 50'000'000'000},
      {"-1\n", std::nullopt},          // SPEED_UNKNOWN (virtio, no link)
      {"65535\n", std::nullopt},       // unknown before 3.2
      {"4294967295\n", std::nullopt},  // SPEED_UNKNOWN printed unsigned
      {"0\n", std::nullopt},
      {"4294967296\n", std::nullopt},  // over the kernel's 32 bits
      {"1000", std::nullopt},          // cut off
      {"1000\n1000\n", std::nullopt},
      {"fast\n", std::nullopt},
      {"\n", std::nullopt},
      {"", std::nullopt},
      {" 1000\n", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_sysfs_speed(text), expected);
  }
}

TEST(NetSysfsTest, Operstate) {
  const std::pair<std::string_view, std::optional<bool>> cases[] = {
      {"up\n", true},
      {"down\n", false},
      {"dormant\n", false},
      {"lowerlayerdown\n", false},
      {"notpresent\n", false},
      {"testing\n", false},
      {"unknown\n", std::nullopt},  // lo, tun, wireguard: the driver does not say
      {"UP\n", std::nullopt},
      {"up", std::nullopt},
      {"up\nup\n", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_sysfs_operstate(text), expected);
  }
}

TEST(NetSysfsTest, Unsigned) {
  EXPECT_EQ(parse_sysfs_unsigned("1500\n"), 1500u);
  EXPECT_EQ(parse_sysfs_unsigned("65536\n"), 65536u);
  EXPECT_EQ(parse_sysfs_unsigned("-1\n"), std::nullopt);
  EXPECT_EQ(parse_sysfs_unsigned("1500"), std::nullopt);
  EXPECT_EQ(parse_sysfs_unsigned("99999999999999999999\n"), std::nullopt);
  EXPECT_EQ(parse_sysfs_unsigned("\x01\n"), std::nullopt);
}

TEST(NetSysfsTest, VirtualFromTheLinkTarget) {
  EXPECT_TRUE(link_target_is_virtual("../../devices/virtual/net/lo"));
  EXPECT_TRUE(link_target_is_virtual("/sys/devices/virtual/net/docker0"));
  EXPECT_TRUE(link_target_is_virtual("devices/virtual/net/veth1"));
  EXPECT_FALSE(link_target_is_virtual("../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0"));
  EXPECT_FALSE(link_target_is_virtual("../../devices/notvirtual/net/x"));
  EXPECT_FALSE(link_target_is_virtual("../../devices/xdevices/virtual/net/x"));
  EXPECT_FALSE(link_target_is_virtual(""));
}

// ---- reading /proc/net/dev and sysfs together -----------------------------

NetDev read_case(NetState& state, std::string_view proc_case) {
  NetDev net;
  const Status status = read_net(state, read_net_dev(proc_case), net);
  EXPECT_TRUE(status.ok()) << status.error;
  return net;
}

TEST(NetReadTest, ReadsLinkFactsOfTheDockerHost) {
  NetState state(settings_for("net_docker", "net_docker"));
  const NetDev net = read_case(state, "net_docker");
  ASSERT_EQ(net.interfaces.size(), 6u);

  const NetInterface& lo = interface_named(net, "lo");
  EXPECT_EQ(lo.is_virtual, true);
  EXPECT_EQ(lo.up, std::nullopt);  // operstate "unknown"
  EXPECT_EQ(lo.mtu_bytes, 65536u);
  EXPECT_EQ(lo.speed_bytes_per_s, std::nullopt);  // no speed file: EINVAL on a real lo

  const NetInterface& eno1 = interface_named(net, "eno1");
  EXPECT_EQ(eno1.is_virtual, false);
  EXPECT_EQ(eno1.up, true);
  EXPECT_EQ(eno1.mtu_bytes, 1500u);
  EXPECT_EQ(eno1.speed_bytes_per_s, 125'000'000u);

  const NetInterface& wifi = interface_named(net, "wlp2s0");
  EXPECT_EQ(wifi.is_virtual, false);
  EXPECT_EQ(wifi.up, false);
  EXPECT_EQ(wifi.speed_bytes_per_s, std::nullopt);

  EXPECT_EQ(interface_named(net, "docker0").is_virtual, true);
  EXPECT_EQ(interface_named(net, "docker0").speed_bytes_per_s, std::nullopt);  // "-1"
  EXPECT_EQ(interface_named(net, "veth3f2a1b9").is_virtual, true);
  EXPECT_EQ(interface_named(net, "veth3f2a1b9").speed_bytes_per_s, 1'250'000'000u);
  EXPECT_EQ(interface_named(net, "br-5f3e2a1b9c0d").up, false);

  ASSERT_EQ(state.interfaces().size(), 6u);
  for (std::size_t i = 0; i < net.interfaces.size(); ++i) EXPECT_EQ(state.interfaces()[i].name, net.interfaces[i].name);
}

TEST(NetReadTest, WithoutSysfsStillGivesTheCounters) {
  NetState state(settings_for("net_docker", "net_hostile"));  // net_hostile has no sys/
  const NetDev net = read_case(state, "net_docker");
  ASSERT_EQ(net.interfaces.size(), 6u);
  for (const NetInterface& entry : net.interfaces) {
    EXPECT_FALSE(entry.is_virtual.has_value()) << entry.name;
    EXPECT_FALSE(entry.up.has_value()) << entry.name;
    EXPECT_FALSE(entry.mtu_bytes.has_value()) << entry.name;
    EXPECT_FALSE(entry.speed_bytes_per_s.has_value()) << entry.name;
  }
  EXPECT_EQ(interface_named(net, "eno1").counters.rx_bytes, 9876543210u);
  for (const NetInterfaceFiles& files : state.interfaces()) EXPECT_TRUE(files.sysfs_missing) << files.name;
}

TEST(NetReadTest, HostileNamesNeverLeaveTheSysfsTree) {
  NetState state(settings_for("net_hostile", "net_docker"));
  const NetDev net = read_case(state, "net_hostile");
  EXPECT_EQ(net.skipped_unusable_names, 2u);
  for (const NetInterfaceFiles& files : state.interfaces()) {
    EXPECT_EQ(files.name.find('/'), std::string::npos);
    EXPECT_TRUE(files.sysfs_missing) << files.name;  // none of them exists under net_docker/sys
  }
}

TEST(NetReadTest, ADuplicateInterfaceFailsTheRead) {
  NetState state(settings_for("net_docker", "net_docker"));
  const std::string text = std::string(kHeader) + "lo:" + counters_of(1) + "\neno1:" + counters_of(2) + "\nlo:" +
                           counters_of(3) + "\n";
  NetDev net;
  const Status status = read_net(state, text, net);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("net/dev line 5: interface 'lo' listed twice"));
}

TEST(NetReadTest, FollowsInterfacesComingGoingAndMoving) {
  NetState state(settings_for("net_docker", "net_docker"));
  auto read_names = [&state](std::initializer_list<std::string_view> names) {
    std::string text(kHeader);
    for (const std::string_view name : names) text += std::string(name) + ":" + counters_of(1) + "\n";
    NetDev net;
    EXPECT_TRUE(read_net(state, text, net).ok());
    std::vector<std::string> kept;
    for (const NetInterfaceFiles& files : state.interfaces()) kept.push_back(files.name);
    EXPECT_EQ(kept, names_of(net));
    return net;
  };
  read_names({"lo", "eno1", "docker0"});
  // A container starts: its veth appears in the middle.
  NetDev net = read_names({"lo", "veth3f2a1b9", "eno1", "docker0"});
  EXPECT_EQ(interface_named(net, "veth3f2a1b9").is_virtual, true);
  EXPECT_EQ(interface_named(net, "eno1").speed_bytes_per_s, 125'000'000u);
  // It stops; the rest reorder.
  net = read_names({"docker0", "eno1", "lo"});
  EXPECT_EQ(interface_named(net, "eno1").is_virtual, false);
  EXPECT_EQ(interface_named(net, "docker0").is_virtual, true);
  EXPECT_EQ(interface_named(net, "lo").mtu_bytes, 65536u);
  net = read_names({});
  EXPECT_TRUE(state.interfaces().empty());
}

TEST(NetReadTest, KeepsReadersForAtMostTheCap) {
  NetState state(settings_for("net_docker", "net_docker"));
  std::string text(kHeader);
  for (std::size_t i = 0; i < 2 * kMaxNetInterfaces; ++i) text += "veth" + std::to_string(i) + ":" + counters_of(1) + "\n";
  NetDev net;
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(state.interfaces().size(), kMaxNetInterfaces);
  EXPECT_EQ(net.skipped_over_cap, kMaxNetInterfaces);
}

TEST(NetReadTest, OldSysfsDirectoriesTellHardwareByItsDeviceLink) {
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("sys/class/net/eth0"));
  std::filesystem::create_directories(root.file("sys/class/net/dummy0"));
  root.write("sys/class/net/eth0/device", "");
  NetState state(SourceSettings{.paths = HostPaths{.proc = root.file("proc"), .sys = root.file("sys")}});
  const std::string text = std::string(kHeader) + "eth0:" + counters_of(1) + "\ndummy0:" + counters_of(1) + "\n";
  NetDev net;
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(interface_named(net, "eth0").is_virtual, false);
  EXPECT_EQ(interface_named(net, "dummy0").is_virtual, true);
}

TEST(NetReadTest, AFifoInPlaceOfAnAttributeIsNoValueNotAHang) {
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("sys/devices/pci0000:00/net/eth0"));
  std::filesystem::create_directories(root.file("sys/class/net"));
  std::filesystem::create_symlink("../../devices/pci0000:00/net/eth0", root.file("sys/class/net/eth0"));
  root.write("sys/devices/pci0000:00/net/eth0/operstate", "up\n");
  root.write("sys/devices/pci0000:00/net/eth0/mtu", "1500\n");
  ASSERT_EQ(::mkfifo(root.file("sys/devices/pci0000:00/net/eth0/speed").c_str(), 0600), 0);
  NetState state(SourceSettings{.paths = HostPaths{.proc = root.file("proc"), .sys = root.file("sys")}});
  const std::string text = std::string(kHeader) + "eth0:" + counters_of(1) + "\n";
  for (int tick = 0; tick < 2; ++tick) {
    NetDev net;
    ASSERT_TRUE(read_net(state, text, net).ok());
    EXPECT_EQ(net.interfaces[0].speed_bytes_per_s, std::nullopt);
    EXPECT_EQ(net.interfaces[0].up, true);
    EXPECT_EQ(net.interfaces[0].mtu_bytes, 1500u);
    EXPECT_EQ(net.interfaces[0].is_virtual, false);
  }
  EXPECT_TRUE(state.interfaces()[0].speed_unreadable);
}

// ---- rarely changing attributes: re-read every kRarelyChangingRereadReads ----

// A hardware eth0 (and, when asked, eth1) under a fake sysfs tree.
struct LinkTree {
  testing_support::TempDir root;

  LinkTree() {
    std::filesystem::create_directories(root.file("sys/class/net"));
    add("eth0", "up\n", "1000\n", "1500\n");
  }
  void add(const std::string& name, std::string_view operstate, std::string_view speed, std::string_view mtu) const {
    const std::string device = "sys/devices/pci0000:00/net/" + name;
    std::filesystem::create_directories(root.file(device));
    std::filesystem::create_symlink("../../devices/pci0000:00/net/" + name, root.file("sys/class/net/" + name));
    set(name, "operstate", operstate);
    set(name, "speed", speed);
    set(name, "mtu", mtu);
  }
  void set(const std::string& name, const std::string& attribute, std::string_view value) const {
    root.write("sys/devices/pci0000:00/net/" + name + "/" + attribute, value);
  }
  [[nodiscard]] SourceSettings settings() const {
    return SourceSettings{.paths = HostPaths{.proc = root.file("proc"), .sys = root.file("sys")}};
  }
};

constexpr std::uint64_t kGigabitBytesPerSecond = 125'000'000;

TEST(NetRereadTest, SpeedAndMtuChangesShowAfterThePeriodNotBefore) {
  const LinkTree tree;
  NetState state(tree.settings());
  const std::string text = std::string(kHeader) + "eth0:" + counters_of(1) + "\n";
  NetDev net;
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(net.interfaces[0].speed_bytes_per_s, kGigabitBytesPerSecond);
  EXPECT_EQ(net.interfaces[0].mtu_bytes, 1500u);

  tree.set("eth0", "speed", "10000\n");
  tree.set("eth0", "mtu", "9000\n");
  // Reads 2 .. N: the last values, every read (no gap in the series).
  for (std::uint32_t read = 2; read <= sysfs_attribute::kRarelyChangingRereadReads; ++read) {
    ASSERT_TRUE(read_net(state, text, net).ok());
    ASSERT_EQ(net.interfaces[0].speed_bytes_per_s, kGigabitBytesPerSecond) << "read " << read;
    ASSERT_EQ(net.interfaces[0].mtu_bytes, 1500u) << "read " << read;
    ASSERT_EQ(net.interfaces[0].up, true);
  }
  // Read N + 1 reads them again.
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(net.interfaces[0].speed_bytes_per_s, 10 * kGigabitBytesPerSecond);
  EXPECT_EQ(net.interfaces[0].mtu_bytes, 9000u);
}

TEST(NetRereadTest, OperstateIsReadEveryTickAndItsChangeRereadsTheSpeed) {
  const LinkTree tree;
  NetState state(tree.settings());
  const std::string text = std::string(kHeader) + "eth0:" + counters_of(1) + "\n";
  NetDev net;
  ASSERT_TRUE(read_net(state, text, net).ok());
  ASSERT_EQ(net.interfaces[0].speed_bytes_per_s, kGigabitBytesPerSecond);

  tree.set("eth0", "operstate", "down\n");
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(net.interfaces[0].up, false);
  EXPECT_EQ(net.interfaces[0].speed_bytes_per_s, std::nullopt);  // a down link has no speed

  // Renegotiated at 10 Gbit/s: seen on the read that sees it up again.
  tree.set("eth0", "speed", "10000\n");
  tree.set("eth0", "operstate", "up\n");
  ASSERT_TRUE(read_net(state, text, net).ok());
  EXPECT_EQ(net.interfaces[0].up, true);
  EXPECT_EQ(net.interfaces[0].speed_bytes_per_s, 10 * kGigabitBytesPerSecond);
}

TEST(NetRereadTest, ANewInterfaceGetsItsLinkFactsOnItsFirstRead) {
  const LinkTree tree;
  NetState state(tree.settings());
  NetDev net;
  const std::string one = std::string(kHeader) + "eth0:" + counters_of(1) + "\n";
  for (int read = 0; read < 5; ++read) ASSERT_TRUE(read_net(state, one, net).ok());
  tree.add("eth1", "up\n", "100\n", "9000\n");
  const std::string two = one + "eth1:" + counters_of(1) + "\n";
  ASSERT_TRUE(read_net(state, two, net).ok());
  EXPECT_EQ(interface_named(net, "eth1").speed_bytes_per_s, kGigabitBytesPerSecond / 10);
  EXPECT_EQ(interface_named(net, "eth1").mtu_bytes, 9000u);
  EXPECT_EQ(interface_named(net, "eth1").up, true);
  EXPECT_EQ(interface_named(net, "eth0").speed_bytes_per_s, kGigabitBytesPerSecond);
}

// ---- derive ---------------------------------------------------------------

std::map<std::string, double> derive(const NetDev* previous, const NetDev& current, double elapsed_s) {
  RecordingSeriesWriter writer(net_source().series);
  derive_net(previous, current, DeriveContext{.elapsed_s = elapsed_s, .facts = {}}, writer);
  return writer.values;
}

// No value: not written, or written as NaN.
bool has_value(const std::map<std::string, double>& values, const std::string& name) {
  const auto found = values.find(name);
  return found != values.end() && !std::isnan(found->second);
}

TEST(NetDeriveTest, DeclaresTheContractSeries) {
  std::vector<std::string> names;
  for (const SeriesSpec& spec : net_source().series) names.emplace_back(spec.name);
  EXPECT_THAT(names, ElementsAreArray({
                         "net.{interface}.rx_bytes_per_s", "net.{interface}.tx_bytes_per_s",
                         "net.{interface}.rx_packets_per_s", "net.{interface}.tx_packets_per_s",
                         "net.{interface}.rx_errors_per_s", "net.{interface}.tx_errors_per_s",
                         "net.{interface}.rx_drops_per_s", "net.{interface}.tx_drops_per_s",
                         "net.{interface}.speed_bytes_per_s", "net.{interface}.up", "net.{interface}.mtu_bytes",
                         "net.{interface}.virtual", "net.rx_bytes_per_s", "net.tx_bytes_per_s", "net.interfaces",
                     }));
  const SourceDefinition definition = net_source();
  EXPECT_EQ(definition.name, "net");
  EXPECT_EQ(definition.procfs_path, "net/dev");
  for (const SeriesSpec& spec : definition.series) {
    if (spec.kind == SeriesKind::rate) {
      EXPECT_EQ(spec.decimals, 2) << spec.name;
    } else {
      EXPECT_EQ(spec.decimals, 0) << spec.name;
    }
  }
}

TEST(NetDeriveTest, RatesAndHardwareTotalsOfTheDockerHost) {
  NetState state(settings_for("net_docker", "net_docker"));
  const NetDev before = read_case(state, "net_docker");
  const NetDev after = read_case(state, "net_docker_t1");
  const auto values = derive(&before, after, 1.0);

  EXPECT_EQ(values.at("net.eno1.rx_bytes_per_s"), 1'250'000);
  EXPECT_EQ(values.at("net.eno1.tx_bytes_per_s"), 250'000);
  EXPECT_EQ(values.at("net.eno1.rx_packets_per_s"), 1000);
  EXPECT_EQ(values.at("net.eno1.tx_packets_per_s"), 500);
  EXPECT_EQ(values.at("net.eno1.rx_errors_per_s"), 1);
  EXPECT_EQ(values.at("net.eno1.tx_errors_per_s"), 0);
  EXPECT_EQ(values.at("net.eno1.rx_drops_per_s"), 2);
  EXPECT_EQ(values.at("net.eno1.tx_drops_per_s"), 0);
  EXPECT_EQ(values.at("net.docker0.tx_drops_per_s"), 1);
  EXPECT_EQ(values.at("net.lo.rx_bytes_per_s"), 10'000);
  EXPECT_EQ(values.at("net.veth3f2a1b9.rx_bytes_per_s"), 50'000);

  // Container traffic crosses docker0 and the veth, then eno1: only eno1
  // and the idle wlp2s0 count.
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 1'250'000);
  EXPECT_EQ(values.at("net.tx_bytes_per_s"), 250'000);
  EXPECT_EQ(values.at("net.interfaces"), 6);

  EXPECT_EQ(values.at("net.eno1.speed_bytes_per_s"), 125'000'000);
  EXPECT_EQ(values.at("net.eno1.up"), 1);
  EXPECT_EQ(values.at("net.eno1.mtu_bytes"), 1500);
  EXPECT_EQ(values.at("net.eno1.virtual"), 0);
  EXPECT_EQ(values.at("net.lo.virtual"), 1);
  EXPECT_EQ(values.at("net.lo.mtu_bytes"), 65536);
  EXPECT_FALSE(has_value(values, "net.lo.up"));
  EXPECT_FALSE(has_value(values, "net.lo.speed_bytes_per_s"));
  EXPECT_EQ(values.at("net.wlp2s0.up"), 0);
  EXPECT_FALSE(has_value(values, "net.docker0.speed_bytes_per_s"));

  const auto slower = derive(&before, after, 2.0);
  EXPECT_EQ(slower.at("net.eno1.rx_bytes_per_s"), 625'000);
  EXPECT_EQ(slower.at("net.rx_bytes_per_s"), 625'000);
}

TEST(NetDeriveTest, ARealLoopbackPairFromThisVm) {
  NetState state(settings_for("net_this_vm", "net_this_vm"));
  const NetDev before = read_case(state, "net_this_vm");
  const NetDev after = read_case(state, "net_this_vm_t1");
  const auto values = derive(&before, after, 1.0);
  // 100 UDP datagrams of 1000 bytes over 127.0.0.1 between the captures.
  EXPECT_EQ(values.at("net.lo.rx_bytes_per_s"), 102'800);
  EXPECT_EQ(values.at("net.lo.tx_packets_per_s"), 100);
  EXPECT_EQ(values.at("net.lo.virtual"), 1);
  EXPECT_EQ(values.at("net.eth0.virtual"), 0);
  EXPECT_EQ(values.at("net.ifb0.virtual"), 1);
  EXPECT_EQ(values.at("net.eth0.up"), 1);
  EXPECT_EQ(values.at("net.eth0.mtu_bytes"), 1400);
  EXPECT_FALSE(has_value(values, "net.eth0.speed_bytes_per_s"));  // virtio says -1
  // Only eth0 is hardware, and it was idle.
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 0);
  EXPECT_EQ(values.at("net.interfaces"), 4);
}

TEST(NetDeriveTest, A32BitWrapGivesNoValueNotASpike) {
  NetState state(settings_for("net_wrap32_t0", "net_wrap32_t0"));
  const NetDev before = read_case(state, "net_wrap32_t0");
  const NetDev after = read_case(state, "net_wrap32_t1");
  const auto values = derive(&before, after, 1.0);
  EXPECT_FALSE(has_value(values, "net.eth0.rx_bytes_per_s"));
  EXPECT_EQ(values.at("net.eth0.tx_bytes_per_s"), 100'000);
  EXPECT_EQ(values.at("net.eth0.rx_packets_per_s"), 1000);
  EXPECT_EQ(values.at("net.eth1.rx_bytes_per_s"), 100'000);
  // A total without eth0's share would be a dip: none this tick.
  EXPECT_FALSE(has_value(values, "net.rx_bytes_per_s"));
  EXPECT_FALSE(has_value(values, "net.tx_bytes_per_s"));
  for (const auto& [name, value] : values) {
    EXPECT_TRUE(std::isnan(value) || value < 1e9) << name << " = " << value;
  }
}

TEST(NetDeriveTest, WithoutAPreviousReadOnlyGauges) {
  NetState state(settings_for("net_docker", "net_docker"));
  const NetDev current = read_case(state, "net_docker");
  const auto values = derive(nullptr, current, 1.0);
  EXPECT_FALSE(has_value(values, "net.eno1.rx_bytes_per_s"));
  EXPECT_FALSE(has_value(values, "net.rx_bytes_per_s"));
  EXPECT_EQ(values.at("net.eno1.up"), 1);
  EXPECT_EQ(values.at("net.interfaces"), 6);
  const auto no_time = derive(&current, current, 0.0);
  EXPECT_FALSE(has_value(no_time, "net.eno1.rx_bytes_per_s"));
  EXPECT_FALSE(has_value(no_time, "net.rx_bytes_per_s"));
}

NetInterface make_interface(std::string_view name, std::uint64_t rx_bytes, std::optional<bool> is_virtual) {
  NetInterface entry;
  entry.name = name;
  entry.counters.rx_bytes = rx_bytes;
  entry.is_virtual = is_virtual;
  return entry;
}

TEST(NetDeriveTest, NewVirtualInterfacesDoNotInterruptTotals) {
  NetDev before;
  before.interfaces = {make_interface("eth0", 1000, false)};
  NetDev after;
  after.interfaces = {make_interface("eth0", 3000, false), make_interface("veth1", 500, true)};
  const auto values = derive(&before, after, 1.0);
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 2000);
  EXPECT_FALSE(has_value(values, "net.veth1.rx_bytes_per_s"));

  // A new hardware interface has no rate yet, so neither has the total.
  after.interfaces.push_back(make_interface("eth1", 500, false));
  EXPECT_FALSE(has_value(derive(&before, after, 1.0), "net.rx_bytes_per_s"));

  // One that went away just stops counting.
  before.interfaces.push_back(make_interface("eth2", 100, false));
  after.interfaces.pop_back();
  EXPECT_EQ(derive(&before, after, 1.0).at("net.rx_bytes_per_s"), 2000);
}

TEST(NetDeriveTest, WithoutSysfsTheLoopbackIsLeftOutOfTotalsByName) {
  NetDev before;
  before.interfaces = {make_interface("lo", 0, std::nullopt), make_interface("eth0", 0, std::nullopt)};
  NetDev after;
  after.interfaces = {make_interface("lo", 7000, std::nullopt), make_interface("eth0", 300, std::nullopt)};
  const auto values = derive(&before, after, 1.0);
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 300);
  EXPECT_FALSE(has_value(values, "net.lo.virtual"));
}

TEST(NetDeriveTest, MatchesInterfacesByNameWhenTheOrderChanges) {
  NetDev before;
  before.interfaces = {make_interface("eth0", 1000, false), make_interface("eth1", 5000, false)};
  NetDev after;
  after.interfaces = {make_interface("eth1", 5100, false), make_interface("eth0", 1010, false)};
  const auto values = derive(&before, after, 1.0);
  EXPECT_EQ(values.at("net.eth0.rx_bytes_per_s"), 10);
  EXPECT_EQ(values.at("net.eth1.rx_bytes_per_s"), 100);
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 110);
}

// A writer whose registry refused the entity (series cap): totals still count it.
class RefusingWriter final : public SeriesWriter {
 public:
  void set(std::size_t spec, double value) override { host[spec] = value; }
  EntityHandle entity(std::string_view, std::string_view) override { return {}; }
  void set(EntityHandle, std::size_t, double) override { ++per_entity_writes; }
  std::map<std::size_t, double> host;
  int per_entity_writes = 0;
};

TEST(NetDeriveTest, RefusedEntitiesStillCountInTotals) {
  NetDev before;
  before.interfaces = {make_interface("eth0", 1000, false)};
  NetDev after;
  after.interfaces = {make_interface("eth0", 1500, false)};
  RefusingWriter writer;
  derive_net(&before, after, DeriveContext{.elapsed_s = 1.0, .facts = {}}, writer);
  EXPECT_EQ(writer.per_entity_writes, 0);
  const std::span<const SeriesSpec> series = net_source().series;
  std::size_t total_rx = 0;
  while (total_rx < series.size() && series[total_rx].name != "net.rx_bytes_per_s") ++total_rx;
  EXPECT_EQ(writer.host.at(total_rx), 500);
}

// ---- the collector set ----------------------------------------------------

const SourceDefinition kNetOnly[] = {net_source()};

TEST(NetCollectorSetTest, TheSourceIsInThePlatformTableAfterTheCoreOnes) {
  const std::span<const SourceDefinition> table = platform_sources();
  ASSERT_GT(table.size(), core_sources().size());
  std::size_t found = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == "net") found = i;
  }
  EXPECT_GE(found, core_sources().size());
}

TEST(NetCollectorSetTest, ReadsThisVmsFixtureTree) {
  CollectorSet collectors(settings_for("net_this_vm", "net_this_vm"), kNetOnly);
  const Status status = collectors.collect_one(0);
  ASSERT_TRUE(status.ok()) << status.error;
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  EXPECT_EQ(entities, (std::vector<std::pair<std::string, std::string>>{
                          {"interface", "lo"}, {"interface", "ifb0"}, {"interface", "ifb1"}, {"interface", "eth0"}}));
  EXPECT_EQ(values.at("net.lo.virtual"), 1);
  EXPECT_EQ(values.at("net.eth0.virtual"), 0);
  EXPECT_EQ(values.at("net.ifb1.up"), 0);
  EXPECT_EQ(values.at("net.interfaces"), 4);
}

TEST(NetCollectorSetTest, TwoTicksOverAFixtureTree) {
  const testing_support::TempDir root;
  std::filesystem::create_directories(root.file("proc/net"));
  root.write("proc/net/dev", read_net_dev("net_docker"));
  const SourceSettings settings{.paths = HostPaths{.proc = root.file("proc"), .sys = host_root("net_docker") + "/sys"}};
  CollectorSet collectors(settings, kNetOnly);
  ASSERT_EQ(collectors.collect_all(), 0u);
  collectors.advance_all();
  root.write("proc/net/dev", read_net_dev("net_docker_t1"));
  ASSERT_EQ(collectors.collect_all(), 0u);
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values.at("net.eno1.rx_bytes_per_s"), 1'250'000);
  EXPECT_EQ(values.at("net.rx_bytes_per_s"), 1'250'000);
  EXPECT_EQ(values.at("net.veth3f2a1b9.virtual"), 1);
}

TEST(NetCollectorSetTest, AMissingSysStillGivesTheProcSeries) {
  CollectorSet collectors(settings_for("net_docker", "net_hostile"), kNetOnly);
  ASSERT_TRUE(collectors.collect_one(0).ok());
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  EXPECT_EQ(values.at("net.interfaces"), 6);
  EXPECT_FALSE(has_value(values, "net.eno1.virtual"));
}

TEST(NetCollectorSetTest, GarbageFailsTheSourceNamingTheFile) {
  CollectorSet collectors(settings_for("net_garbage", "net_docker"), kNetOnly);
  const Status status = collectors.collect_one(0);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.unavailable);
  EXPECT_THAT(status.error, HasSubstr("net_garbage/proc/net/dev: net/dev line 1"));
  EXPECT_FALSE(collectors.source(0).current_ok());
}

// ---- this machine ---------------------------------------------------------

TEST(NetLiveTest, ThisMachineHasAVirtualLoopback) {
  if (!std::filesystem::exists("/proc/net/dev")) GTEST_SKIP() << "no /proc/net/dev (kernel without networking)";
  CollectorSet collectors(HostPaths{}, kNetOnly);
  const Status status = collectors.collect_one(0);
  ASSERT_TRUE(status.ok()) << status.error;
  const auto values = testing_support::derive_to_map(collectors, 1.0);
  ASSERT_TRUE(values.contains("net.lo.virtual"));
  EXPECT_EQ(values.at("net.lo.virtual"), 1);
  EXPECT_GT(values.at("net.lo.mtu_bytes"), 0);
  EXPECT_GE(values.at("net.interfaces"), 1);
}

constexpr std::string_view kNodeNetworkCounters[] = {
    "node_network_receive_bytes_total",     "node_network_receive_packets_total",
    "node_network_receive_errs_total",      "node_network_receive_drop_total",
    "node_network_receive_fifo_total",      "node_network_receive_frame_total",
    "node_network_receive_compressed_total", "node_network_receive_multicast_total",
    "node_network_transmit_bytes_total",    "node_network_transmit_packets_total",
    "node_network_transmit_errs_total",     "node_network_transmit_drop_total",
    "node_network_transmit_fifo_total",     "node_network_transmit_colls_total",
    "node_network_transmit_carrier_total",  "node_network_transmit_compressed_total",
};

TEST(NetExposeTest, NodeExporterNetdevAndNetclassFamiliesOfThisVm) {
  NetState state(settings_for("net_this_vm", "net_this_vm"));
  const NetDev net = read_case(state, "net_this_vm");
  testing_support::RecordingMetricWriter writer(net_source().metrics);
  expose_net(net, writer);

  using testing_support::metric_sample;
  using testing_support::RecordedSample;
  const auto counters = [](std::string device, std::array<double, 16> values) {
    std::vector<RecordedSample> samples;
    for (std::size_t i = 0; i < values.size(); ++i) {
      samples.push_back(metric_sample(std::string(kNodeNetworkCounters[i]), {{"device", device}}, values[i]));
    }
    return samples;
  };
  // tests/fixtures/hosts/net_this_vm: lo (operstate unknown, mtu 65536), ifb0
  // and ifb1 (down, 1500), eth0 (up, 1400, speed -1: unknown).
  std::vector<RecordedSample> expected =
      counters("lo", {5579229428, 11696402, 0, 0, 0, 0, 0, 0, 5579229428, 11696402, 0, 0, 0, 0, 0, 0});
  expected.push_back(metric_sample("node_network_up", {{"device", "lo"}}, 0));
  expected.push_back(metric_sample("node_network_mtu_bytes", {{"device", "lo"}}, 65536));
  for (const std::string device : {"ifb0", "ifb1"}) {
    const std::vector<RecordedSample> zero = counters(device, {});
    expected.insert(expected.end(), zero.begin(), zero.end());
    expected.push_back(metric_sample("node_network_up", {{"device", device}}, 0));
    expected.push_back(metric_sample("node_network_mtu_bytes", {{"device", device}}, 1500));
  }
  const std::vector<RecordedSample> eth0 =
      counters("eth0", {580057405, 20741, 0, 0, 0, 0, 0, 0, 3956110, 20280, 0, 0, 0, 0, 0, 0});
  expected.insert(expected.end(), eth0.begin(), eth0.end());
  expected.push_back(metric_sample("node_network_up", {{"device", "eth0"}}, 1));
  expected.push_back(metric_sample("node_network_mtu_bytes", {{"device", "eth0"}}, 1400));
  EXPECT_EQ(writer.samples, expected);
  EXPECT_EQ(writer.refused, 0u);
}

TEST(NetExposeTest, EveryColumnInItsFamily) {
  NetDev net;
  ASSERT_TRUE(parse_proc_net_dev(std::string(kHeader) + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", net).ok());
  testing_support::RecordingMetricWriter writer(net_source().metrics);
  expose_net(net, writer);
  for (std::size_t column = 0; column < kNetDevCounterCount; ++column) {
    EXPECT_EQ(writer.value(kNodeNetworkCounters[column], {"eth0"}), static_cast<double>(column + 1))
        << kNodeNetworkCounters[column];
  }
  EXPECT_EQ(writer.samples.size(), kNetDevCounterCount);  // no sysfs facts read: no netclass samples
}

TEST(NetExposeTest, SpeedInBytesPerSecondOnlyWhenKnown) {
  NetState state(settings_for("net_docker", "net_docker"));
  const NetDev net = read_case(state, "net_docker");
  testing_support::RecordingMetricWriter writer(net_source().metrics);
  expose_net(net, writer);
  EXPECT_EQ(writer.value("node_network_speed_bytes", {"eno1"}), 125'000'000.0);  // 1000 Mbit/s
  EXPECT_EQ(writer.value("node_network_speed_bytes", {"veth3f2a1b9"}), 1'250'000'000.0);
  EXPECT_EQ(writer.value("node_network_speed_bytes", {"docker0"}), std::nullopt);  // "-1"
  EXPECT_EQ(writer.value("node_network_up", {"wlp2s0"}), 0.0);
  EXPECT_EQ(writer.value("node_network_up", {"eno1"}), 1.0);
  EXPECT_EQ(writer.value("node_network_receive_bytes_total", {"lo"}).has_value(), true);
  EXPECT_EQ(writer.value("node_network_mtu_bytes", {"lo"}), 65536.0);
}

TEST(NetExposeTest, WithoutSysfsOnlyTheCounters) {
  NetState state(settings_for("net_docker", "net_hostile"));
  const NetDev net = read_case(state, "net_docker");
  testing_support::RecordingMetricWriter writer(net_source().metrics);
  expose_net(net, writer);
  EXPECT_EQ(writer.count("node_network_up"), 0u);
  EXPECT_EQ(writer.count("node_network_mtu_bytes"), 0u);
  EXPECT_EQ(writer.count("node_network_receive_bytes_total"), 6u);
  EXPECT_EQ(writer.value("node_network_receive_bytes_total", {"eno1"}), 9876543210.0);
}

}  // namespace
}  // namespace hostpulse
