#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/net/snmp: per protocol a header line of column names and a line of
// values, both starting with the protocol ("Tcp: ActiveOpens PassiveOpens
// ..." then "Tcp: 846451 836025 ..."). Columns are found by name, because
// kernels add them over time (Udp InCsumErrors in 3.10, IgnoredMulti in 3.19,
// MemErrors in 5.10). A column the kernel lacks has no value.
struct SnmpCounter {
  bool present = false;
  std::uint64_t value = 0;
};

// Columns read only for node_exporter's netstat families (the rest of its
// default field set, beyond the counters above): Ip Forwarding, Icmp InMsgs
// InErrors OutMsgs, Tcp InSegs OutSegs InErrs OutRsts, Udp InDatagrams NoPorts
// OutDatagrams, UdpLite InErrors, in that order.
inline constexpr std::size_t kSnmpExposedColumns = 12;

struct NetSnmp {
  SnmpCounter tcp_active_opens;     // Tcp ActiveOpens: connect()s started
  SnmpCounter tcp_passive_opens;    // Tcp PassiveOpens: connections accepted
  SnmpCounter tcp_retransmits;      // Tcp RetransSegs: segments sent again
  SnmpCounter tcp_established;      // Tcp CurrEstab: a gauge, not a counter
  SnmpCounter udp_in_errors;        // Udp InErrors
  SnmpCounter udp_rcvbuf_errors;    // Udp RcvbufErrors: dropped, receive buffer full
  SnmpCounter udp_sndbuf_errors;    // Udp SndbufErrors
  // Read leniently: a bad value there is no value, not a failed read.
  std::array<SnmpCounter, kSnmpExposedColumns> exposed{};
};

// Lines come in header/value pairs with the same "Protocol:" prefix and the
// same number of columns (else an error naming the line). Only the columns
// above are parsed as numbers (others may be negative: Tcp MaxConn is -1).
// The Tcp and Udp pairs must be there, each once. Must end with '\n'.
Status parse_proc_net_snmp(std::string_view text, NetSnmp& out);

// The source: established TCP connections, TCP open/retransmit rates, UDP
// error rates.
void derive_proc_net_snmp(const NetSnmp* previous, const NetSnmp& current, const DeriveContext& context,
                          SeriesWriter& out);
// node_exporter's node_netstat_{Ip,Icmp,Tcp,Udp,UdpLite}_* (untyped) for the
// /proc/net/snmp fields its default field set keeps.
void expose_proc_net_snmp(const NetSnmp& current, MetricWriter& out);
SourceDefinition proc_net_snmp_source();

}  // namespace hostpulse
