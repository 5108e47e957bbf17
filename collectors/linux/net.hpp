#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/linux/sysfs_attribute.hpp"
#include "collectors/source.hpp"
#include "collectors/source_settings.hpp"

namespace hostpulse {

// The network source "net": per interface, the counters of /proc/net/dev and
// the link facts of /sys/class/net/<interface>/ (speed, operstate, mtu, and
// whether the device is virtual).

// Interfaces kept per read. kubelet's default of 110 pods (one veth each)
// fits with room to spare; past this, 13 series per interface would crowd the
// registry's 10,000 live series, and each kept interface holds three sysfs
// readers. Lines past the cap are still checked and counted.
inline constexpr std::size_t kMaxNetInterfaces = 256;
// Longer names are skipped (and counted): the series registry refuses entity
// keys over 256 bytes, and Linux itself stops at 15.
inline constexpr std::size_t kMaxNetInterfaceNameBytes = 256;
// /proc/net/dev has printed exactly these 16 columns since Linux 2.6 (8
// receive, 8 transmit); another count means the columns are not where we
// think, so such a line is an error rather than a guess.
inline constexpr std::size_t kNetDevCounterCount = 16;

// One interface's line of /proc/net/dev, as the kernel counts (since boot or
// since the driver last reset them; old drivers keep 32-bit counters that
// wrap).
struct NetDevCounters {
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_errors = 0;
  std::uint64_t rx_drops = 0;
  std::uint64_t rx_fifo = 0;
  std::uint64_t rx_frame = 0;
  std::uint64_t rx_compressed = 0;
  std::uint64_t rx_multicast = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t tx_drops = 0;
  std::uint64_t tx_fifo = 0;
  std::uint64_t tx_collisions = 0;
  std::uint64_t tx_carrier = 0;
  std::uint64_t tx_compressed = 0;
  bool operator==(const NetDevCounters&) const = default;
};

struct NetInterface {
  // Names up to 15 bytes (every name Linux allows) fit std::string's inline
  // buffer, so refilling the list each tick allocates nothing.
  std::string name;
  std::size_t line = 0;  // in /proc/net/dev, for messages
  NetDevCounters counters;
  // From /sys/class/net/<name>/; empty when unknown (no sysfs, the driver
  // does not say, the attribute is unreadable).
  std::optional<std::uint64_t> speed_bytes_per_s;
  std::optional<bool> up;
  std::optional<std::uint64_t> mtu_bytes;
  std::optional<bool> is_virtual;
  // operstate was read this tick (its value may still be one `up` has no
  // value for, such as "unknown").
  bool operstate_read = false;
};

struct NetDev {
  std::vector<NetInterface> interfaces;  // in file order, at most kMaxNetInterfaces
  std::size_t listed = 0;                // interface lines in the file, kept or not
  std::size_t skipped_over_cap = 0;      // lines past kMaxNetInterfaces
  // Names no kernel gives: longer than kMaxNetInterfaceNameBytes, holding
  // '/' or NUL, or "." / "..". Reading their sysfs attributes would leave
  // /sys/class/net, so they are not reported.
  std::size_t skipped_unusable_names = 0;
};

// /proc/net/dev: two header lines, then "<name>: <16 counters>" per
// interface. The name is right-aligned, may hold ':' (old alias forms such
// as "eth0:1"), and old kernels print no space after the colon when the
// first counter is wide ("eth0:1234567890 ..."), so the last ':' on the line
// ends the name. Pure; fills names and counters, leaves the sysfs facts empty.
Status parse_proc_net_dev(std::string_view text, NetDev& out);

// Sysfs attributes as read, with their final newline. Each gives no value for
// anything it does not understand: an odd attribute is not a failed source.
// speed: Mbit/s, as bytes per second; "-1" (and the older 65535 and
// 4294967295) mean unknown, and so does 0.
std::optional<std::uint64_t> parse_sysfs_speed(std::string_view text);
// operstate (RFC 2863): "up" is true; "down", "dormant", "lowerlayerdown",
// "notpresent", "testing" are false; "unknown" (lo, tun, wireguard: drivers
// that do not track it) and anything else give no value.
std::optional<bool> parse_sysfs_operstate(std::string_view text);
std::optional<std::uint64_t> parse_sysfs_unsigned(std::string_view text);
// The target of the /sys/class/net/<name> symlink: virtual devices (lo, veth,
// bridges, tun, docker0) live under /sys/devices/virtual/.
bool link_target_is_virtual(std::string_view target);

// What the source keeps between reads: the sysfs readers of each interface,
// made when it first appears, dropped when it disappears; in file order, so
// a steady tick finds each at its own index.
//
// operstate is read every tick (whether a link is up is what users watch,
// and it is one small file). Speed and MTU change only when the link is
// renegotiated or an administrator changes them: they are read at the
// interface's first read, again every kRarelyChangingRereadReads reads, and
// at once when operstate changes (a link coming up may come up at another
// speed); in between the last value is reported.
struct NetInterfaceFiles {
  std::string name;
  FileReader speed;
  FileReader operstate;
  FileReader mtu;
  std::optional<bool> is_virtual;  // from the symlink, read once
  // No /sys/class/net/<name> at all (no sysfs mounted): nothing to read.
  bool sysfs_missing = false;
  // The last read of the attribute failed (no such file, garbage, a FIFO):
  // it is not read again before the next re-read. Speed also fails while
  // the link is administratively down, so it is read only while operstate
  // is not down, and again after it changes.
  bool speed_unreadable = false;
  bool operstate_unreadable = false;
  bool mtu_unreadable = false;
  sysfs_attribute::RereadSchedule reread{};
  std::optional<bool> last_up{};  // operstate at the previous read
  std::optional<std::uint64_t> speed_bytes_per_s{};  // as last read
  std::optional<std::uint64_t> mtu_bytes{};
};

class NetState {
 public:
  explicit NetState(const SourceSettings& settings);

  // Reads every interface's attributes into out (after the parser filled it),
  // making readers for new interfaces and dropping those of gone ones. Fails
  // only when an interface is listed twice.
  Status read_attributes(NetDev& out);

  [[nodiscard]] const std::vector<NetInterfaceFiles>& interfaces() const { return interfaces_; }

 private:
  NetInterfaceFiles make_files(std::string_view name) const;

  std::string class_net_;  // <sys>/class/net/
  std::vector<NetInterfaceFiles> interfaces_;
};

Status read_net(NetState& state, std::string_view primary, NetDev& out);
void derive_net(const NetDev* previous, const NetDev& current, const DeriveContext& context, SeriesWriter& out);
// node_exporter's node_network_{receive,transmit}_*_total{device},
// node_network_up, node_network_mtu_bytes and node_network_speed_bytes.
void expose_net(const NetDev& current, MetricWriter& out);
SourceDefinition net_source();

}  // namespace hostpulse
