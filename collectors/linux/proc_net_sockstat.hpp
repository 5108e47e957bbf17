#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// /proc/net/sockstat: a line per protocol of name/value pairs:
//   sockets: used 123
//   TCP: inuse 5 orphan 0 tw 2 alloc 8 mem 1
//   UDP: inuse 3 mem 2
// (then UDPLITE, RAW, FRAG, which we do not read). Each kept count has a flag:
// one a kernel does not print has no value.
struct SockstatCount {
  bool present = false;
  std::uint64_t value = 0;
};

struct SockStat {
  SockstatCount sockets_used;   // sockets: used (every family)
  SockstatCount tcp_in_use;     // TCP: inuse
  SockstatCount tcp_orphan;     // TCP: orphan (no longer attached to a process)
  SockstatCount tcp_time_wait;  // TCP: tw
  SockstatCount udp_in_use;     // UDP: inuse
};

// In the sockets, TCP and UDP lines, names and values must pair up (an odd
// count is an error naming the line) and each line and name appear once;
// other lines and names are ignored. Text with none of those three lines is
// not sockstat: an error. Must end with '\n'.
Status parse_proc_net_sockstat(std::string_view text, SockStat& out);

// The source: socket counts as gauges.
void derive_proc_net_sockstat(const SockStat* previous, const SockStat& current, const DeriveContext& context,
                              SeriesWriter& out);
SourceDefinition proc_net_sockstat_source();

}  // namespace hostpulse
