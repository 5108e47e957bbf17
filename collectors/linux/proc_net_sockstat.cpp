#include "collectors/linux/proc_net_sockstat.hpp"

#include <array>
#include <cstddef>
#include <string>

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
    if (index == kCounts.size()) continue;  // "alloc", "mem": not kept
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
    if (index == kLines.size()) continue;  // UDPLITE, RAW, FRAG, or a line a later kernel adds
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

constexpr SourceFunctions<SockStat> kFunctions{&parse_proc_net_sockstat, &derive_proc_net_sockstat};

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
          .create = &create_source<SockStat, kFunctions>};
}

}  // namespace hostpulse
