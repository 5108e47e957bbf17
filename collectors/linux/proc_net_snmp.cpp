#include "collectors/linux/proc_net_snmp.hpp"

#include <array>
#include <cstddef>
#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

struct UsedColumn {
  std::string_view protocol;  // with the colon, as the line starts
  std::string_view name;
  SnmpCounter NetSnmp::*counter;
};

constexpr std::array<UsedColumn, 7> kColumns = {{
    {"Tcp:", "ActiveOpens", &NetSnmp::tcp_active_opens},
    {"Tcp:", "PassiveOpens", &NetSnmp::tcp_passive_opens},
    {"Tcp:", "RetransSegs", &NetSnmp::tcp_retransmits},
    {"Tcp:", "CurrEstab", &NetSnmp::tcp_established},
    {"Udp:", "InErrors", &NetSnmp::udp_in_errors},
    {"Udp:", "RcvbufErrors", &NetSnmp::udp_rcvbuf_errors},
    {"Udp:", "SndbufErrors", &NetSnmp::udp_sndbuf_errors},
}};

// Columns kept only for node_exporter's netstat families, by position in
// NetSnmp::exposed. Read leniently: a value that is not a whole unsigned
// number leaves the column without a value and fails nothing.
struct ExposedColumn {
  std::string_view protocol;
  std::string_view name;
};
constexpr std::array<ExposedColumn, kSnmpExposedColumns> kExposedColumns = {{
    {"Ip:", "Forwarding"},
    {"Icmp:", "InMsgs"},
    {"Icmp:", "InErrors"},
    {"Icmp:", "OutMsgs"},
    {"Tcp:", "InSegs"},
    {"Tcp:", "OutSegs"},
    {"Tcp:", "InErrs"},
    {"Tcp:", "OutRsts"},
    {"Udp:", "InDatagrams"},
    {"Udp:", "NoPorts"},
    {"Udp:", "OutDatagrams"},
    {"UdpLite:", "InErrors"},
}};

void parse_exposed_column(std::string_view protocol, std::string_view name, std::string_view value, NetSnmp& out) {
  for (std::size_t index = 0; index < kExposedColumns.size(); ++index) {
    if (kExposedColumns[index].protocol != protocol || kExposedColumns[index].name != name) continue;
    SnmpCounter& counter = out.exposed[index];
    if (counter.present) return;  // the first of a duplicate
    counter.present = procfs_text::parse_unsigned(value, counter.value) == NumberError::none;
    if (!counter.present) counter.value = 0;
    return;
  }
}

// The protocols whose pairs must be present.
enum Required : std::size_t { kTcp, kUdp, kRequiredCount };
constexpr std::string_view kRequired[kRequiredCount] = {"Tcp:", "Udp:"};

std::string line_prefix(std::size_t line_number) { return "snmp line " + std::to_string(line_number) + ": "; }

// "Tcp:" from "Tcp: 1 2 3"; empty when the line does not start that way.
std::string_view protocol_of(std::string_view& rest) {
  const std::string_view first = next_field(rest);
  if (first.size() < 2 || first.back() != ':') return {};
  return first;
}

Status parse_pair(std::string_view protocol, std::string_view header, std::size_t header_line,
                  std::string_view values, std::size_t values_line, NetSnmp& out) {
  std::size_t column = 0;
  while (true) {
    const std::string_view name = next_field(header);
    const std::string_view value = next_field(values);
    if (name.empty() && value.empty()) return Status::success();
    ++column;
    if (name.empty() || value.empty()) {
      return Status::failure(line_prefix(values_line) + std::string(protocol) + " has " +
                             (name.empty() ? "more" : "fewer") + " values than the " +
                             "header on line " + std::to_string(header_line) + " has names (column " +
                             std::to_string(column) + ")");
    }
    std::size_t index = 0;
    while (index < kColumns.size() && !(kColumns[index].protocol == protocol && kColumns[index].name == name)) {
      ++index;
    }
    if (index == kColumns.size()) {  // a column no derived series uses
      parse_exposed_column(protocol, name, value, out);
      continue;
    }
    SnmpCounter& counter = out.*kColumns[index].counter;
    if (counter.present) {
      return Status::failure(line_prefix(header_line) + std::string(protocol) + " " + std::string(name) +
                             ": appears twice");
    }
    if (const NumberError error = procfs_text::parse_unsigned(value, counter.value); error != NumberError::none) {
      return Status::failure(line_prefix(values_line) + std::string(protocol) + " " + std::string(name) + ": " +
                             procfs_text::describe(error, value));
    }
    counter.present = true;
  }
}

}  // namespace

Status parse_proc_net_snmp(std::string_view text, NetSnmp& out) {
  if (Status complete = procfs_text::check_complete(text, "snmp"); !complete.ok()) return complete;

  out = NetSnmp{};
  std::array<std::size_t, kRequiredCount> found_on_line{};
  procfs_text::LineCursor lines(text);
  std::string_view header;
  while (lines.next(header)) {
    const std::size_t header_line = lines.line_number();
    const std::string_view protocol = protocol_of(header);
    if (protocol.empty()) {
      return Status::failure(line_prefix(header_line) + "expected 'Protocol: names...'");
    }
    std::string_view values;
    if (!lines.next(values)) {
      return Status::failure(line_prefix(header_line) + std::string(protocol) +
                             " header without a line of values after it");
    }
    const std::size_t values_line = lines.line_number();
    if (const std::string_view second = protocol_of(values); second != protocol) {
      return Status::failure(line_prefix(values_line) + "expected the " + std::string(protocol) +
                             " values after the header on line " + std::to_string(header_line) + ", got " +
                             (second.empty() ? std::string("a line without a protocol") : quote(second)));
    }
    for (std::size_t required = 0; required < kRequiredCount; ++required) {
      if (protocol != kRequired[required]) continue;
      if (found_on_line[required] != 0) {
        return Status::failure(line_prefix(header_line) + std::string(protocol) + " appears twice (first on line " +
                               std::to_string(found_on_line[required]) + ")");
      }
      found_on_line[required] = header_line;
    }
    if (Status status = parse_pair(protocol, header, header_line, values, values_line, out); !status.ok()) {
      return status;
    }
  }
  for (std::size_t required = 0; required < kRequiredCount; ++required) {
    if (found_on_line[required] == 0) {
      return Status::failure("snmp: no " + std::string(kRequired[required].substr(0, 3)) + " lines");
    }
  }
  return Status::success();
}

namespace {

using derive_math::rate;

enum Spec : std::size_t {
  kEstablished, kActiveOpens, kPassiveOpens, kRetransmits, kUdpInErrors, kUdpRcvbufErrors, kUdpSndbufErrors,
};

constexpr SeriesSpec kSeries[] = {
    {"tcp.established", "count", SeriesKind::gauge, "TCP connections established or closing (CurrEstab)", 0},
    {"tcp.active_opens_per_s", "per_second", SeriesKind::rate, "TCP connections opened by this host per second", 2},
    {"tcp.passive_opens_per_s", "per_second", SeriesKind::rate, "TCP connections accepted per second", 2},
    {"tcp.retransmits_per_s", "per_second", SeriesKind::rate, "TCP segments retransmitted per second", 2},
    {"udp.in_errors_per_s", "per_second", SeriesKind::rate, "UDP datagrams received with errors per second", 2},
    {"udp.rcvbuf_errors_per_s", "per_second", SeriesKind::rate,
     "UDP datagrams dropped per second because a receive buffer was full", 2},
    {"udp.sndbuf_errors_per_s", "per_second", SeriesKind::rate,
     "UDP datagrams dropped per second because a send buffer was full", 2},
};
static_assert(std::size(kSeries) == kUdpSndbufErrors + 1);

// node_exporter's netstat collector, the fields of /proc/net/snmp its
// default --collector.netstat.fields keeps: untyped, named
// node_netstat_<Protocol>_<Column>.
namespace metric {
enum : std::size_t {
  kIpForwarding, kIcmpInMsgs, kIcmpInErrors, kIcmpOutMsgs,
  kTcpActiveOpens, kTcpPassiveOpens, kTcpCurrEstab, kTcpInSegs, kTcpOutSegs, kTcpRetransSegs, kTcpInErrs, kTcpOutRsts,
  kUdpInDatagrams, kUdpNoPorts, kUdpInErrors, kUdpOutDatagrams, kUdpRcvbufErrors, kUdpSndbufErrors,
  kUdpLiteInErrors,
};
}
constexpr MetricSpec kMetrics[] = {
    {"node_netstat_Ip_Forwarding", MetricType::untyped, "Statistic IpForwarding.", {}},
    {"node_netstat_Icmp_InMsgs", MetricType::untyped, "Statistic IcmpInMsgs.", {}},
    {"node_netstat_Icmp_InErrors", MetricType::untyped, "Statistic IcmpInErrors.", {}},
    {"node_netstat_Icmp_OutMsgs", MetricType::untyped, "Statistic IcmpOutMsgs.", {}},
    {"node_netstat_Tcp_ActiveOpens", MetricType::untyped, "Statistic TcpActiveOpens.", {}},
    {"node_netstat_Tcp_PassiveOpens", MetricType::untyped, "Statistic TcpPassiveOpens.", {}},
    {"node_netstat_Tcp_CurrEstab", MetricType::untyped, "Statistic TcpCurrEstab.", {}},
    {"node_netstat_Tcp_InSegs", MetricType::untyped, "Statistic TcpInSegs.", {}},
    {"node_netstat_Tcp_OutSegs", MetricType::untyped, "Statistic TcpOutSegs.", {}},
    {"node_netstat_Tcp_RetransSegs", MetricType::untyped, "Statistic TcpRetransSegs.", {}},
    {"node_netstat_Tcp_InErrs", MetricType::untyped, "Statistic TcpInErrs.", {}},
    {"node_netstat_Tcp_OutRsts", MetricType::untyped, "Statistic TcpOutRsts.", {}},
    {"node_netstat_Udp_InDatagrams", MetricType::untyped, "Statistic UdpInDatagrams.", {}},
    {"node_netstat_Udp_NoPorts", MetricType::untyped, "Statistic UdpNoPorts.", {}},
    {"node_netstat_Udp_InErrors", MetricType::untyped, "Statistic UdpInErrors.", {}},
    {"node_netstat_Udp_OutDatagrams", MetricType::untyped, "Statistic UdpOutDatagrams.", {}},
    {"node_netstat_Udp_RcvbufErrors", MetricType::untyped, "Statistic UdpRcvbufErrors.", {}},
    {"node_netstat_Udp_SndbufErrors", MetricType::untyped, "Statistic UdpSndbufErrors.", {}},
    {"node_netstat_UdpLite_InErrors", MetricType::untyped, "Statistic UdpLiteInErrors.", {}},
};
static_assert(std::size(kMetrics) == metric::kUdpLiteInErrors + 1);

constexpr SourceFunctions<NetSnmp> kFunctions{&parse_proc_net_snmp, &derive_proc_net_snmp, nullptr,
                                              &expose_proc_net_snmp};

void set_rate(const NetSnmp* previous, const NetSnmp& current, SnmpCounter NetSnmp::*counter, std::size_t spec,
              double elapsed_s, SeriesWriter& out) {
  const SnmpCounter& after = current.*counter;
  if (previous == nullptr || !after.present || !(previous->*counter).present) return;
  out.set(spec, rate((previous->*counter).value, after.value, elapsed_s));
}

}  // namespace

void derive_proc_net_snmp(const NetSnmp* previous, const NetSnmp& current, const DeriveContext& context,
                          SeriesWriter& out) {
  if (current.tcp_established.present) out.set(kEstablished, static_cast<double>(current.tcp_established.value));
  set_rate(previous, current, &NetSnmp::tcp_active_opens, kActiveOpens, context.elapsed_s, out);
  set_rate(previous, current, &NetSnmp::tcp_passive_opens, kPassiveOpens, context.elapsed_s, out);
  set_rate(previous, current, &NetSnmp::tcp_retransmits, kRetransmits, context.elapsed_s, out);
  set_rate(previous, current, &NetSnmp::udp_in_errors, kUdpInErrors, context.elapsed_s, out);
  set_rate(previous, current, &NetSnmp::udp_rcvbuf_errors, kUdpRcvbufErrors, context.elapsed_s, out);
  set_rate(previous, current, &NetSnmp::udp_sndbuf_errors, kUdpSndbufErrors, context.elapsed_s, out);
}

SourceDefinition proc_net_snmp_source() {
  return {.name = "proc_net_snmp", .procfs_path = "net/snmp", .series = kSeries,
          .create = &create_source<NetSnmp, kFunctions>, .metrics = kMetrics};
}

void expose_proc_net_snmp(const NetSnmp& current, MetricWriter& out) {
  // A column this kernel lacks (or printed as garbage) has no sample.
  const auto write = [&out](std::size_t spec, const SnmpCounter& counter) {
    if (counter.present) out.sample(spec, static_cast<double>(counter.value));
  };
  const auto exposed = [&current](std::size_t position) -> const SnmpCounter& { return current.exposed[position]; };
  write(metric::kIpForwarding, exposed(0));
  write(metric::kIcmpInMsgs, exposed(1));
  write(metric::kIcmpInErrors, exposed(2));
  write(metric::kIcmpOutMsgs, exposed(3));
  write(metric::kTcpActiveOpens, current.tcp_active_opens);
  write(metric::kTcpPassiveOpens, current.tcp_passive_opens);
  write(metric::kTcpCurrEstab, current.tcp_established);
  write(metric::kTcpInSegs, exposed(4));
  write(metric::kTcpOutSegs, exposed(5));
  write(metric::kTcpRetransSegs, current.tcp_retransmits);
  write(metric::kTcpInErrs, exposed(6));
  write(metric::kTcpOutRsts, exposed(7));
  write(metric::kUdpInDatagrams, exposed(8));
  write(metric::kUdpNoPorts, exposed(9));
  write(metric::kUdpInErrors, current.udp_in_errors);
  write(metric::kUdpOutDatagrams, exposed(10));
  write(metric::kUdpRcvbufErrors, current.udp_rcvbuf_errors);
  write(metric::kUdpSndbufErrors, current.udp_sndbuf_errors);
  write(metric::kUdpLiteInErrors, exposed(11));
}

}  // namespace hostpulse
