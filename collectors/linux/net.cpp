#include "collectors/linux/net.hpp"

#include <limits.h>  // PATH_MAX
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <utility>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

struct CounterColumn {
  std::string_view name;
  std::uint64_t NetDevCounters::*value;
};

// In the order the kernel prints them (net/core/net-procfs.c).
constexpr std::array<CounterColumn, kNetDevCounterCount> kColumns = {{
    {"rx bytes", &NetDevCounters::rx_bytes},
    {"rx packets", &NetDevCounters::rx_packets},
    {"rx errs", &NetDevCounters::rx_errors},
    {"rx drop", &NetDevCounters::rx_drops},
    {"rx fifo", &NetDevCounters::rx_fifo},
    {"rx frame", &NetDevCounters::rx_frame},
    {"rx compressed", &NetDevCounters::rx_compressed},
    {"rx multicast", &NetDevCounters::rx_multicast},
    {"tx bytes", &NetDevCounters::tx_bytes},
    {"tx packets", &NetDevCounters::tx_packets},
    {"tx errs", &NetDevCounters::tx_errors},
    {"tx drop", &NetDevCounters::tx_drops},
    {"tx fifo", &NetDevCounters::tx_fifo},
    {"tx colls", &NetDevCounters::tx_collisions},
    {"tx carrier", &NetDevCounters::tx_carrier},
    {"tx compressed", &NetDevCounters::tx_compressed},
}};

// Unchanged since Linux 2.2; anything else is not /proc/net/dev.
constexpr std::string_view kHeaderLine1 = "Inter-|";
constexpr std::string_view kHeaderLine2 = " face |";

std::string line_prefix(std::size_t line_number) { return "net/dev line " + std::to_string(line_number) + ": "; }

std::string_view trim_separators(std::string_view text) {
  while (!text.empty() && procfs_text::is_field_separator(text.front())) text.remove_prefix(1);
  while (!text.empty() && procfs_text::is_field_separator(text.back())) text.remove_suffix(1);
  return text;
}

bool usable_name(std::string_view name) {
  return name.size() <= kMaxNetInterfaceNameBytes && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

Status check_header(procfs_text::LineCursor& lines, std::string_view expected) {
  std::string_view line;
  if (!lines.next(line)) return Status::failure("net/dev: header line missing");
  if (!line.starts_with(expected)) {
    return Status::failure(line_prefix(lines.line_number()) + "expected a header starting " + quote(expected) +
                           ", got " + quote(line));
  }
  return Status::success();
}

Status parse_counters(std::string_view rest, std::string_view name, std::size_t line_number,
                      NetDevCounters& counters) {
  for (std::size_t column = 0; column < kColumns.size(); ++column) {
    const std::string_view token = next_field(rest);
    if (token.empty()) {
      return Status::failure(line_prefix(line_number) + "interface " + quote(name) + ": expected " +
                             std::to_string(kNetDevCounterCount) + " counters, found " + std::to_string(column));
    }
    if (const NumberError error = procfs_text::parse_unsigned(token, counters.*kColumns[column].value);
        error != NumberError::none) {
      return Status::failure(line_prefix(line_number) + "interface " + quote(name) + ": " +
                             std::string(kColumns[column].name) + ": " + procfs_text::describe(error, token));
    }
  }
  if (const std::string_view extra = next_field(rest); !extra.empty()) {
    return Status::failure(line_prefix(line_number) + "interface " + quote(name) + ": unexpected " + quote(extra) +
                           " after " + std::to_string(kNetDevCounterCount) + " counters");
  }
  return Status::success();
}

// The attribute's single line without its newline; empty when it has none
// (cut off) or holds more than one line.
std::string_view attribute_value(std::string_view text) {
  if (text.empty() || text.back() != '\n') return {};
  text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) return {};
  return text;
}

}  // namespace

Status parse_proc_net_dev(std::string_view text, NetDev& out) {
  out.interfaces.clear();
  out.listed = 0;
  out.skipped_over_cap = 0;
  out.skipped_unusable_names = 0;
  if (Status complete = procfs_text::check_complete(text, "net/dev"); !complete.ok()) return complete;

  procfs_text::LineCursor lines(text);
  if (Status status = check_header(lines, kHeaderLine1); !status.ok()) return status;
  if (Status status = check_header(lines, kHeaderLine2); !status.ok()) return status;

  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_number = lines.line_number();
    // Counters never hold ':', names may ("eth0:1"), so the last one ends the name.
    const std::size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::failure(line_prefix(line_number) + "expected '<interface>: <counters>', got " +
                             (line.empty() ? std::string("an empty line") : quote(line)));
    }
    const std::string_view name = trim_separators(line.substr(0, colon));
    if (name.empty()) return Status::failure(line_prefix(line_number) + "interface name missing");

    NetDevCounters counters;
    if (Status status = parse_counters(line.substr(colon + 1), name, line_number, counters); !status.ok()) {
      return status;
    }
    ++out.listed;
    if (!usable_name(name)) {
      ++out.skipped_unusable_names;
      continue;
    }
    if (out.interfaces.size() >= kMaxNetInterfaces) {
      ++out.skipped_over_cap;
      continue;
    }
    NetInterface& entry = out.interfaces.emplace_back();
    entry.name.assign(name);
    entry.line = line_number;
    entry.counters = counters;
  }
  return Status::success();
}

std::optional<std::uint64_t> parse_sysfs_speed(std::string_view text) {
  // The kernel stores Mbit/s in 32 bits; unknown is -1 (SPEED_UNKNOWN), which
  // kernels before 3.2 and some drivers printed as 65535 or 4294967295.
  constexpr std::uint32_t kOldUnknown16 = 65535;
  constexpr std::uint32_t kOldUnknown32 = 4294967295u;
  constexpr std::uint64_t kBytesPerSecondPerMegabit = 1'000'000 / 8;
  std::uint32_t megabits = 0;
  if (procfs_text::parse_unsigned(attribute_value(text), megabits) != NumberError::none) return std::nullopt;
  if (megabits == 0 || megabits == kOldUnknown16 || megabits == kOldUnknown32) return std::nullopt;
  return std::uint64_t{megabits} * kBytesPerSecondPerMegabit;
}

std::optional<bool> parse_sysfs_operstate(std::string_view text) {
  const std::string_view state = attribute_value(text);
  if (state == "up") return true;
  for (const std::string_view not_up : {"down", "dormant", "lowerlayerdown", "notpresent", "testing"}) {
    if (state == not_up) return false;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_sysfs_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  if (procfs_text::parse_unsigned(attribute_value(text), value) != NumberError::none) return std::nullopt;
  return value;
}

bool link_target_is_virtual(std::string_view target) {
  // "../../devices/virtual/net/lo" as sysfs writes it; absolute forms too.
  constexpr std::string_view kVirtual = "devices/virtual/";
  for (std::size_t at = target.find(kVirtual); at != std::string_view::npos; at = target.find(kVirtual, at + 1)) {
    if (at == 0 || target[at - 1] == '/') return true;
  }
  return false;
}

NetState::NetState(const SourceSettings& settings) : class_net_(settings.paths.sys_file("class/net/")) {}

NetInterfaceFiles NetState::make_files(std::string_view name) const {
  const std::string directory = class_net_ + std::string(name);
  NetInterfaceFiles files{
      .name = std::string(name),
      .speed = sysfs_attribute::attribute_reader(directory + "/speed", sysfs_attribute::AttributeReads::now_and_then),
      .operstate = sysfs_attribute::attribute_reader(directory + "/operstate"),
      .mtu = sysfs_attribute::attribute_reader(directory + "/mtu", sysfs_attribute::AttributeReads::now_and_then),
      .is_virtual = std::nullopt,
      .sysfs_missing = false,
      .speed_unreadable = false,
      .operstate_unreadable = false,
      .mtu_unreadable = false,
  };
  char target[PATH_MAX];
  const ssize_t length = ::readlink(directory.c_str(), target, sizeof target);
  if (length >= 0 && static_cast<std::size_t>(length) < sizeof target) {
    files.is_virtual = link_target_is_virtual(std::string_view(target, static_cast<std::size_t>(length)));
  } else if (length < 0 && errno == ENOENT) {
    files.sysfs_missing = true;
  } else if (length < 0 && errno == EINVAL) {
    // A directory, not a link: old kernels built with
    // CONFIG_SYSFS_DEPRECATED have these, with a "device" link in those of
    // real hardware only.
    files.is_virtual = ::access((directory + "/device").c_str(), F_OK) != 0;
  }
  return files;
}

namespace {

void read_attributes_of(NetInterfaceFiles& files, NetInterface& entry) {
  entry.is_virtual = files.is_virtual;
  entry.up.reset();
  entry.speed_bytes_per_s.reset();
  entry.mtu_bytes.reset();
  entry.operstate_read = false;
  if (files.sysfs_missing) return;

  const bool reread = files.reread.due();
  if (reread) {
    files.operstate_unreadable = false;
    files.speed_unreadable = false;
    files.mtu_unreadable = false;
  }
  if (!files.operstate_unreadable) {
    // try_read: a failure's message would allocate, and it is only counted.
    if (files.operstate.try_read()) {
      entry.up = parse_sysfs_operstate(files.operstate.contents());
      entry.operstate_read = true;
    } else {
      files.operstate_unreadable = true;
    }
  }
  const bool up_changed = entry.up != files.last_up;
  files.last_up = entry.up;

  // A link that is down has no speed, and reading it fails (EINVAL) while
  // the device is administratively down: read again once it is not down.
  if (entry.up.has_value() && !*entry.up) {
    files.speed_unreadable = false;
    files.speed_bytes_per_s.reset();
  } else if ((reread || up_changed) && !files.speed_unreadable) {
    files.speed_bytes_per_s.reset();
    if (files.speed.try_read()) {
      files.speed_bytes_per_s = parse_sysfs_speed(files.speed.contents());
    } else {
      files.speed_unreadable = true;
    }
  }
  entry.speed_bytes_per_s = files.speed_bytes_per_s;

  if (reread && !files.mtu_unreadable) {
    files.mtu_bytes.reset();
    if (files.mtu.try_read()) {
      files.mtu_bytes = parse_sysfs_unsigned(files.mtu.contents());
    } else {
      files.mtu_unreadable = true;
    }
  }
  entry.mtu_bytes = files.mtu_bytes;
}

}  // namespace

Status NetState::read_attributes(NetDev& out) {
  // Invariant: interfaces_[0, index) are the files of out.interfaces[0, index).
  for (std::size_t index = 0; index < out.interfaces.size(); ++index) {
    NetInterface& entry = out.interfaces[index];
    if (index >= interfaces_.size() || interfaces_[index].name != entry.name) {
      const auto found = std::find_if(interfaces_.begin(), interfaces_.end(),
                                      [&entry](const NetInterfaceFiles& files) { return files.name == entry.name; });
      if (found == interfaces_.end()) {
        interfaces_.insert(interfaces_.begin() + static_cast<std::ptrdiff_t>(index), make_files(entry.name));
      } else if (static_cast<std::size_t>(found - interfaces_.begin()) < index) {
        return Status::failure(line_prefix(entry.line) + "interface " + quote(entry.name) + " listed twice");
      } else {
        std::swap(interfaces_[index], *found);
      }
    }
    read_attributes_of(interfaces_[index], entry);
  }
  // What is left was not listed this time: the interface is gone.
  interfaces_.erase(interfaces_.begin() + static_cast<std::ptrdiff_t>(out.interfaces.size()), interfaces_.end());
  return Status::success();
}

Status read_net(NetState& state, std::string_view primary, NetDev& out) {
  if (Status status = parse_proc_net_dev(primary, out); !status.ok()) return status;
  return state.read_attributes(out);
}

namespace {

using derive_math::hundredths;
using derive_math::kNoValue;
using derive_math::rate;

enum Spec : std::size_t {
  kRxBytes,
  kTxBytes,
  kRxPackets,
  kTxPackets,
  kRxErrors,
  kTxErrors,
  kRxDrops,
  kTxDrops,
  kSpeed,
  kUp,
  kMtu,
  kVirtual,
  kTotalRxBytes,
  kTotalTxBytes,
  kInterfaces,
};
constexpr std::size_t kRateCount = kTxDrops + 1;

constexpr SeriesSpec kSeries[] = {
    {"net.{interface}.rx_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes received per second", 2},
    {"net.{interface}.tx_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes sent per second", 2},
    {"net.{interface}.rx_packets_per_s", "per_second", SeriesKind::rate, "Packets received per second", 2},
    {"net.{interface}.tx_packets_per_s", "per_second", SeriesKind::rate, "Packets sent per second", 2},
    {"net.{interface}.rx_errors_per_s", "per_second", SeriesKind::rate, "Receive errors per second", 2},
    {"net.{interface}.tx_errors_per_s", "per_second", SeriesKind::rate, "Transmit errors per second", 2},
    {"net.{interface}.rx_drops_per_s", "per_second", SeriesKind::rate, "Received packets dropped per second", 2},
    {"net.{interface}.tx_drops_per_s", "per_second", SeriesKind::rate, "Packets to send dropped per second", 2},
    {"net.{interface}.speed_bytes_per_s", "bytes_per_second", SeriesKind::gauge,
     "Link speed the driver reports (none when unknown)", 0},
    {"net.{interface}.up", "bool", SeriesKind::gauge, "1 when operstate is up, 0 when it is down", 0},
    {"net.{interface}.mtu_bytes", "bytes", SeriesKind::gauge, "Largest packet the interface sends", 0},
    {"net.{interface}.virtual", "bool", SeriesKind::gauge,
     "1 for software devices (lo, veth, bridges, tun), 0 for hardware", 0},
    {"net.rx_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes received per second, hardware interfaces",
     2},
    {"net.tx_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes sent per second, hardware interfaces", 2},
    {"net.interfaces", "count", SeriesKind::gauge, "Interfaces listed in /proc/net/dev", 0},
};
static_assert(std::size(kSeries) == kInterfaces + 1);

// node_exporter's netdev families (the 16 counters of /proc/net/dev) and
// the netclass ones this source reads from sysfs (operstate, mtu, speed).
namespace metric {
enum : std::size_t {
  kReceiveBytes, kReceivePackets, kReceiveErrs, kReceiveDrop, kReceiveFifo, kReceiveFrame, kReceiveCompressed,
  kReceiveMulticast, kTransmitBytes, kTransmitPackets, kTransmitErrs, kTransmitDrop, kTransmitFifo, kTransmitColls,
  kTransmitCarrier, kTransmitCompressed, kUp, kMtu, kSpeed,
};
}
constexpr MetricSpec kMetrics[] = {
    {"node_network_receive_bytes_total", MetricType::counter, "Network device statistic receive_bytes.", {"device"}},
    {"node_network_receive_packets_total", MetricType::counter, "Network device statistic receive_packets.",
     {"device"}},
    {"node_network_receive_errs_total", MetricType::counter, "Network device statistic receive_errs.", {"device"}},
    {"node_network_receive_drop_total", MetricType::counter, "Network device statistic receive_drop.", {"device"}},
    {"node_network_receive_fifo_total", MetricType::counter, "Network device statistic receive_fifo.", {"device"}},
    {"node_network_receive_frame_total", MetricType::counter, "Network device statistic receive_frame.", {"device"}},
    {"node_network_receive_compressed_total", MetricType::counter, "Network device statistic receive_compressed.",
     {"device"}},
    {"node_network_receive_multicast_total", MetricType::counter, "Network device statistic receive_multicast.",
     {"device"}},
    {"node_network_transmit_bytes_total", MetricType::counter, "Network device statistic transmit_bytes.",
     {"device"}},
    {"node_network_transmit_packets_total", MetricType::counter, "Network device statistic transmit_packets.",
     {"device"}},
    {"node_network_transmit_errs_total", MetricType::counter, "Network device statistic transmit_errs.", {"device"}},
    {"node_network_transmit_drop_total", MetricType::counter, "Network device statistic transmit_drop.", {"device"}},
    {"node_network_transmit_fifo_total", MetricType::counter, "Network device statistic transmit_fifo.", {"device"}},
    {"node_network_transmit_colls_total", MetricType::counter, "Network device statistic transmit_colls.",
     {"device"}},
    {"node_network_transmit_carrier_total", MetricType::counter, "Network device statistic transmit_carrier.",
     {"device"}},
    {"node_network_transmit_compressed_total", MetricType::counter, "Network device statistic transmit_compressed.",
     {"device"}},
    {"node_network_up", MetricType::gauge, "Value is 1 if operstate is 'up', 0 otherwise.", {"device"}},
    {"node_network_mtu_bytes", MetricType::gauge, "Network device property: mtu_bytes", {"device"}},
    {"node_network_speed_bytes", MetricType::gauge, "Network device property: speed_bytes", {"device"}},
};
static_assert(std::size(kMetrics) == metric::kSpeed + 1);
static_assert(metric::kTransmitCompressed + 1 == kColumns.size(), "one counter family per /proc/net/dev column");

constexpr StatefulFunctions<NetDev, NetState> kFunctions{&read_net, &derive_net, nullptr, &expose_net};

// The same index in the previous read when the list did not change, which is
// every steady tick.
const NetInterface* find_interface(const std::vector<NetInterface>& interfaces, std::string_view name,
                                   std::size_t hint) {
  if (hint < interfaces.size() && interfaces[hint].name == name) return &interfaces[hint];
  for (const NetInterface& entry : interfaces) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// Host-wide traffic is what crosses hardware: loopback, bridges and veths
// carry the same bytes again. Without sysfs the only device known to be
// virtual is the loopback, which the kernel always names lo.
bool counts_toward_totals(const NetInterface& entry) {
  return entry.is_virtual.has_value() ? !*entry.is_virtual : entry.name != "lo";
}

double as_value(const std::optional<std::uint64_t>& value) {
  return value.has_value() ? static_cast<double>(*value) : kNoValue;
}
double as_value(const std::optional<bool>& value) { return value.has_value() ? (*value ? 1.0 : 0.0) : kNoValue; }

}  // namespace

void derive_net(const NetDev* previous, const NetDev& current, const DeriveContext& context, SeriesWriter& out) {
  // Totals from the summed byte deltas; none when any counted interface has
  // no rate this tick (new, wrapped or reset): leaving it out would show a
  // dip, never the real traffic.
  bool totals_known = previous != nullptr && context.elapsed_s > 0;
  double total_rx_bytes = 0;
  double total_tx_bytes = 0;

  for (std::size_t index = 0; index < current.interfaces.size(); ++index) {
    const NetInterface& entry = current.interfaces[index];
    const EntityHandle handle = out.entity("interface", entry.name);
    if (handle.valid()) {
      out.set(handle, kSpeed, as_value(entry.speed_bytes_per_s));
      out.set(handle, kUp, as_value(entry.up));
      out.set(handle, kMtu, as_value(entry.mtu_bytes));
      out.set(handle, kVirtual, as_value(entry.is_virtual));
    }
    const bool counted = counts_toward_totals(entry);
    const NetInterface* before = previous == nullptr ? nullptr : find_interface(previous->interfaces, entry.name, index);
    if (before == nullptr) {
      if (counted) totals_known = false;
      continue;
    }
    const NetDevCounters& was = before->counters;
    const NetDevCounters& now = entry.counters;
    const double elapsed = context.elapsed_s;
    const std::array<double, kRateCount> rates = {
        rate(was.rx_bytes, now.rx_bytes, elapsed),     rate(was.tx_bytes, now.tx_bytes, elapsed),
        rate(was.rx_packets, now.rx_packets, elapsed), rate(was.tx_packets, now.tx_packets, elapsed),
        rate(was.rx_errors, now.rx_errors, elapsed),   rate(was.tx_errors, now.tx_errors, elapsed),
        rate(was.rx_drops, now.rx_drops, elapsed),     rate(was.tx_drops, now.tx_drops, elapsed),
    };
    if (handle.valid()) out.set_all(handle, kRxBytes, rates);
    if (!counted) continue;
    if (now.rx_bytes < was.rx_bytes || now.tx_bytes < was.tx_bytes) {
      totals_known = false;
    } else {
      total_rx_bytes += static_cast<double>(now.rx_bytes - was.rx_bytes);
      total_tx_bytes += static_cast<double>(now.tx_bytes - was.tx_bytes);
    }
  }

  if (totals_known) {
    out.set(kTotalRxBytes, hundredths(total_rx_bytes / context.elapsed_s));
    out.set(kTotalTxBytes, hundredths(total_tx_bytes / context.elapsed_s));
  }
  out.set(kInterfaces, static_cast<double>(current.listed));
}

SourceDefinition net_source() {
  return {.name = "net", .procfs_path = "net/dev", .series = kSeries,
          .create = &create_stateful_source<NetDev, NetState, kFunctions>, .metrics = kMetrics};
}

void expose_net(const NetDev& current, MetricWriter& out) {
  for (const NetInterface& entry : current.interfaces) {
    const std::string_view device = entry.name;
    // Every interface, lo too, as upstream node_exporter's default (Debian's
    // package excludes ^lo$; dashboards filter device!="lo" themselves).
    for (std::size_t column = 0; column < kColumns.size(); ++column) {
      out.sample(metric::kReceiveBytes + column, {device}, static_cast<double>(entry.counters.*kColumns[column].value));
    }
    // node_exporter says 0 for any operstate but "up" (lo's "unknown" too);
    // without the attribute (no sysfs) it has no netclass entry at all.
    if (entry.operstate_read) out.sample(metric::kUp, {device}, entry.up.value_or(false) ? 1.0 : 0.0);
    if (entry.mtu_bytes.has_value()) out.sample(metric::kMtu, {device}, static_cast<double>(*entry.mtu_bytes));
    // An unknown speed (-1) has no sample here; node_exporter 1.5 writes -125000.
    if (entry.speed_bytes_per_s.has_value()) {
      out.sample(metric::kSpeed, {device}, static_cast<double>(*entry.speed_bytes_per_s));
    }
  }
}

}  // namespace hostpulse
