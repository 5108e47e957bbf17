#include "collectors/linux/proc_net_sockstat.hpp"

#include <array>
#include <cstddef>
#include <string>

#include <unistd.h>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

struct UsedCount {
  std::string_view protocol;  // with the colon, as the line starts
  std::string_view name;
  SockstatCount SockStat::*count;
};

constexpr std::array<UsedCount, 5> kCounts = {{
    {"sockets:", "used", &SockStat::sockets_used},
    {"TCP:", "inuse", &SockStat::tcp_in_use},
    {"TCP:", "orphan", &SockStat::tcp_orphan},
    {"TCP:", "tw", &SockStat::tcp_time_wait},
    {"UDP:", "inuse", &SockStat::udp_in_use},
}};

constexpr std::array<std::string_view, 3> kLines = {"sockets:", "TCP:", "UDP:"};

// Counts kept only for node_exporter's families. They are read leniently: a
// bad value or an odd pair leaves the count without a value and fails
// nothing, since no derived series depends on them.
constexpr std::array<UsedCount, 7> kExposedCounts = {{
    {"TCP:", "alloc", &SockStat::tcp_alloc},
    {"TCP:", "mem", &SockStat::tcp_mem_pages},
    {"UDP:", "mem", &SockStat::udp_mem_pages},
    {"UDPLITE:", "inuse", &SockStat::udplite_in_use},
    {"RAW:", "inuse", &SockStat::raw_in_use},
    {"FRAG:", "inuse", &SockStat::frag_in_use},
    {"FRAG:", "memory", &SockStat::frag_memory_bytes},
}};

// One pair of a kExposedCounts line; the first of a duplicate is kept.
void parse_exposed_pair(std::string_view protocol, std::string_view name, std::string_view value, SockStat& out) {
  for (const UsedCount& used : kExposedCounts) {
    if (used.protocol != protocol || used.name != name) continue;
    SockstatCount& count = out.*used.count;
    if (count.present || value.empty()) return;
    count.present = procfs_text::parse_unsigned(value, count.value) == NumberError::none;
    if (!count.present) count.value = 0;
    return;
  }
}

// UDPLITE:, RAW:, FRAG: lines, whose pairs only node_exporter's families use.
void parse_exposed_line(std::string_view protocol, std::string_view rest, SockStat& out) {
  for (std::string_view name = next_field(rest); !name.empty(); name = next_field(rest)) {
    parse_exposed_pair(protocol, name, next_field(rest), out);
  }
}

std::string line_prefix(std::size_t line_number) {
  return "sockstat line " + std::to_string(line_number) + ": ";
}

Status parse_pairs(std::string_view protocol, std::string_view rest, std::size_t line_number, SockStat& out) {
  for (std::string_view name = next_field(rest); !name.empty(); name = next_field(rest)) {
    const std::string_view value = next_field(rest);
    if (value.empty()) {
      return Status::failure(line_prefix(line_number) + std::string(protocol) + " " + quote(name) +
                             " without a value");
    }
    std::size_t index = 0;
    while (index < kCounts.size() && !(kCounts[index].protocol == protocol && kCounts[index].name == name)) ++index;
    if (index == kCounts.size()) {
      parse_exposed_pair(protocol, name, value, out);  // "alloc", "mem": only exposed
      continue;
    }
    SockstatCount& count = out.*kCounts[index].count;
    if (count.present) {
      return Status::failure(line_prefix(line_number) + std::string(protocol) + " " + std::string(name) +
                             ": appears twice");
    }
    if (const NumberError error = procfs_text::parse_unsigned(value, count.value); error != NumberError::none) {
      return Status::failure(line_prefix(line_number) + std::string(protocol) + " " + std::string(name) + ": " +
                             procfs_text::describe(error, value));
    }
    count.present = true;
  }
  return Status::success();
}

}  // namespace

Status parse_proc_net_sockstat(std::string_view text, SockStat& out) {
  if (Status complete = procfs_text::check_complete(text, "sockstat"); !complete.ok()) return complete;

  out = SockStat{};
  std::array<std::size_t, kLines.size()> found_on_line{};
  procfs_text::LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    const std::string_view protocol = next_field(rest);
    std::size_t index = 0;
    while (index < kLines.size() && kLines[index] != protocol) ++index;
    if (index == kLines.size()) {  // UDPLITE, RAW, FRAG, or a line a later kernel adds
      parse_exposed_line(protocol, rest, out);
      continue;
    }
    const std::size_t line_number = lines.line_number();
    if (found_on_line[index] != 0) {
      return Status::failure(line_prefix(line_number) + std::string(protocol) + " appears twice (first on line " +
                             std::to_string(found_on_line[index]) + ")");
    }
    found_on_line[index] = line_number;
    if (Status status = parse_pairs(protocol, rest, line_number, out); !status.ok()) return status;
  }
  if (found_on_line == std::array<std::size_t, kLines.size()>{}) {
    return Status::failure("sockstat: none of the sockets:, TCP:, UDP: lines found");
  }
  return Status::success();
}

namespace {

enum Spec : std::size_t { kSocketsUsed, kTcpInUse, kTcpTimeWait, kTcpOrphan, kUdpInUse };

constexpr SeriesSpec kSeries[] = {
    {"sockets.used", "count", SeriesKind::gauge, "Sockets in use, every family", 0},
    {"tcp.in_use", "count", SeriesKind::gauge, "TCP sockets in use (IPv4)", 0},
    {"tcp.time_wait", "count", SeriesKind::gauge, "TCP sockets in TIME-WAIT", 0},
    {"tcp.orphan", "count", SeriesKind::gauge, "TCP sockets no process holds any more", 0},
    {"udp.in_use", "count", SeriesKind::gauge, "UDP sockets in use (IPv4)", 0},
};
static_assert(std::size(kSeries) == kUdpInUse + 1);

// node_exporter's sockstat collector (IPv4: /proc/net/sockstat; the IPv6
// families come from sockstat6, which this source does not read).
namespace metric {
enum : std::size_t {
  kSocketsUsed, kTcpInUse, kTcpOrphan, kTcpTimeWait, kTcpAlloc, kTcpMem, kTcpMemBytes,
  kUdpInUse, kUdpMem, kUdpMemBytes, kUdpliteInUse, kRawInUse, kFragInUse, kFragMemory,
};
}
constexpr MetricSpec kMetrics[] = {
    {"node_sockstat_sockets_used", MetricType::gauge, "Number of IPv4 sockets in use.", {}},
    {"node_sockstat_TCP_inuse", MetricType::gauge, "Number of TCP sockets in state inuse.", {}},
    {"node_sockstat_TCP_orphan", MetricType::gauge, "Number of TCP sockets in state orphan.", {}},
    {"node_sockstat_TCP_tw", MetricType::gauge, "Number of TCP sockets in state tw.", {}},
    {"node_sockstat_TCP_alloc", MetricType::gauge, "Number of TCP sockets in state alloc.", {}},
    {"node_sockstat_TCP_mem", MetricType::gauge, "Number of TCP sockets in state mem.", {}},
    {"node_sockstat_TCP_mem_bytes", MetricType::gauge, "Number of TCP sockets in state mem_bytes.", {}},
    {"node_sockstat_UDP_inuse", MetricType::gauge, "Number of UDP sockets in state inuse.", {}},
    {"node_sockstat_UDP_mem", MetricType::gauge, "Number of UDP sockets in state mem.", {}},
    {"node_sockstat_UDP_mem_bytes", MetricType::gauge, "Number of UDP sockets in state mem_bytes.", {}},
    {"node_sockstat_UDPLITE_inuse", MetricType::gauge, "Number of UDPLITE sockets in state inuse.", {}},
    {"node_sockstat_RAW_inuse", MetricType::gauge, "Number of RAW sockets in state inuse.", {}},
    {"node_sockstat_FRAG_inuse", MetricType::gauge, "Number of FRAG sockets in state inuse.", {}},
    {"node_sockstat_FRAG_memory", MetricType::gauge, "Number of FRAG sockets in state memory.", {}},
};
static_assert(std::size(kMetrics) == metric::kFragMemory + 1);

constexpr SourceFunctions<SockStat> kFunctions{&parse_proc_net_sockstat, &derive_proc_net_sockstat, nullptr,
                                               &expose_proc_net_sockstat};

void set_count(const SockstatCount& count, std::size_t spec, SeriesWriter& out) {
  if (count.present) out.set(spec, static_cast<double>(count.value));
}

}  // namespace

void derive_proc_net_sockstat(const SockStat* /*previous*/, const SockStat& current, const DeriveContext& /*context*/,
                              SeriesWriter& out) {
  set_count(current.sockets_used, kSocketsUsed, out);
  set_count(current.tcp_in_use, kTcpInUse, out);
  set_count(current.tcp_time_wait, kTcpTimeWait, out);
  set_count(current.tcp_orphan, kTcpOrphan, out);
  set_count(current.udp_in_use, kUdpInUse, out);
}

SourceDefinition proc_net_sockstat_source() {
  return {.name = "proc_net_sockstat", .procfs_path = "net/sockstat", .series = kSeries,
          .create = &create_source<SockStat, kFunctions>, .metrics = kMetrics};
}

void expose_proc_net_sockstat(const SockStat& current, MetricWriter& out, double page_bytes) {
  const auto write = [&out](std::size_t spec, const SockstatCount& count) {
    if (count.present) out.sample(spec, static_cast<double>(count.value));
  };
  write(metric::kSocketsUsed, current.sockets_used);
  write(metric::kTcpInUse, current.tcp_in_use);
  write(metric::kTcpOrphan, current.tcp_orphan);
  write(metric::kTcpTimeWait, current.tcp_time_wait);
  write(metric::kTcpAlloc, current.tcp_alloc);
  write(metric::kTcpMem, current.tcp_mem_pages);
  // The kernel counts socket memory in pages; node_exporter adds it in bytes.
  if (current.tcp_mem_pages.present) {
    out.sample(metric::kTcpMemBytes, static_cast<double>(current.tcp_mem_pages.value) * page_bytes);
  }
  write(metric::kUdpInUse, current.udp_in_use);
  write(metric::kUdpMem, current.udp_mem_pages);
  if (current.udp_mem_pages.present) {
    out.sample(metric::kUdpMemBytes, static_cast<double>(current.udp_mem_pages.value) * page_bytes);
  }
  write(metric::kUdpliteInUse, current.udplite_in_use);
  write(metric::kRawInUse, current.raw_in_use);
  write(metric::kFragInUse, current.frag_in_use);
  write(metric::kFragMemory, current.frag_memory_bytes);
}

void expose_proc_net_sockstat(const SockStat& current, MetricWriter& out) {
  static const double page_bytes = static_cast<double>(::sysconf(_SC_PAGESIZE));
  expose_proc_net_sockstat(current, out, page_bytes);
}

}  // namespace hostpulse
