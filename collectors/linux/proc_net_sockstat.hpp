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
// (then UDPLITE, RAW, FRAG, read only for the Prometheus families). Each kept count has a flag:
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
  // Kept for node_exporter's families only, read leniently (a bad value is
  // no value, not a failed read).
  SockstatCount tcp_alloc{};          // TCP: alloc
  SockstatCount tcp_mem_pages{};      // TCP: mem (pages)
  SockstatCount udp_mem_pages{};      // UDP: mem (pages)
  SockstatCount udplite_in_use{};     // UDPLITE: inuse
  SockstatCount raw_in_use{};         // RAW: inuse
  SockstatCount frag_in_use{};        // FRAG: inuse
  SockstatCount frag_memory_bytes{};  // FRAG: memory (bytes)
};

// In the sockets, TCP and UDP lines, names and values must pair up (an odd
// count is an error naming the line) and each line and name appear once;
// other lines and names are ignored. Text with none of those three lines is
// not sockstat: an error. Must end with '\n'.
Status parse_proc_net_sockstat(std::string_view text, SockStat& out);

// The source: socket counts as gauges.
void derive_proc_net_sockstat(const SockStat* previous, const SockStat& current, const DeriveContext& context,
                              SeriesWriter& out);
// node_exporter's node_sockstat_* IPv4 families; *_mem_bytes are the page
// counts times page_bytes (the form without it uses this host's page size).
void expose_proc_net_sockstat(const SockStat& current, MetricWriter& out, double page_bytes);
void expose_proc_net_sockstat(const SockStat& current, MetricWriter& out);
SourceDefinition proc_net_sockstat_source();

}  // namespace hostpulse
