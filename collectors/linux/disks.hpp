#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "collectors/linux/procfs_text.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The counters of one /proc/diskstats line, in the kernel's column order
// (Documentation/admin-guide/iostats.rst). Times are milliseconds; sectors
// are 512 bytes whatever the device's own sector size.
struct DiskCounters {
  std::uint64_t reads_completed = 0;
  std::uint64_t reads_merged = 0;
  std::uint64_t sectors_read = 0;
  std::uint64_t read_ms = 0;
  std::uint64_t writes_completed = 0;
  std::uint64_t writes_merged = 0;
  std::uint64_t sectors_written = 0;
  std::uint64_t write_ms = 0;
  std::uint64_t in_flight = 0;       // a level, not a counter
  std::uint64_t io_ms = 0;           // time with at least one request in flight
  std::uint64_t weighted_io_ms = 0;  // time spent, multiplied by the requests in flight
  // Linux 4.18+ (18 fields); 0 before.
  std::uint64_t discards_completed = 0;
  std::uint64_t discards_merged = 0;
  std::uint64_t sectors_discarded = 0;
  std::uint64_t discard_ms = 0;
  // Linux 5.5+ (20 fields); 0 before.
  std::uint64_t flushes_completed = 0;
  std::uint64_t flush_ms = 0;
};

// One line as parsed: name points into the parsed text.
struct DiskStatsLine {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string_view name;
  DiskCounters counters;
  std::uint8_t fields = 0;  // 14, 18 or 20 (more from a future kernel: the rest ignored)
};

// The shortest line every kernel since 2.6.25 prints, partitions included:
// major, minor, name and eleven counters.
inline constexpr std::size_t kDiskstatsMinFields = 14;

// One line without its '\n': "   8       0 sda 1490478 49651 ...". Pure; the
// error says which field is wrong but not the line (the caller adds it).
Status parse_diskstats_line(std::string_view line, DiskStatsLine& out);

// Every line of /proc/diskstats, handed to on_line(const DiskStatsLine&) in
// file order without storing them (a hostile file of 100,000 lines costs no
// memory). Stops at the first bad line; the error names it. The text must end
// with '\n' (else truncated). An empty file is a host without block devices:
// no lines, not an error.
template <class OnLine>
Status parse_proc_diskstats(std::string_view text, OnLine&& on_line) {
  if (text.empty()) return Status::success();
  if (Status complete = procfs_text::check_complete(text, "diskstats"); !complete.ok()) return complete;
  procfs_text::LineCursor lines(text);
  std::string_view line;
  DiskStatsLine parsed;
  while (lines.next(line)) {
    if (Status status = parse_diskstats_line(line, parsed); !status.ok()) {
      status.error.insert(0, "diskstats line " + std::to_string(lines.line_number()) + ": ");
      return status;
    }
    on_line(static_cast<const DiskStatsLine&>(parsed));
  }
  return Status::success();
}

// What a kernel device name is, by node_exporter's default exclusion
// ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$, matched by
// hand. Everything else (sda, nvme0n1, dm-0, md127, mmcblk0) is a disk.
enum class DiskKind : std::uint8_t { disk, partition, loop, ram, floppy };
DiskKind classify_disk_name(std::string_view name);
// Whether the options report a device of that kind (floppies never).
bool disk_kind_wanted(DiskKind kind, const DiskOptions& options);

// Kernel names (and resolved names) longer than this are not reported: the
// series registry refuses entity keys over 256 bytes, and no kernel or
// device-mapper name comes near it (DM_NAME_LEN is 128).
inline constexpr std::size_t kMaxDiskNameBytes = 256;
// Devices whose decision (and resolved name) is remembered. Loop devices and
// partitions count too; a SAN host with multipath has a few thousand block
// devices. Devices past it are skipped and counted, not decided every tick
// (that would read sysfs and allocate each time).
inline constexpr std::size_t kMaxKnownDevices = 8192;
// Disks reported per tick. Each has 8 series; 512 disks are 4,096 series, some
// 40% of the default live-series cap, so a storage server leaves room for the
// other sources. Past it disks are skipped and counted.
inline constexpr std::size_t kMaxReportedDisks = 512;
// dm/name holds at most DM_NAME_LEN (128) bytes and a newline.
inline constexpr std::size_t kMaxDmNameFileBytes = 4096;

// One reported disk of a read: its resolved name and counters.
struct DiskSample {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string name;  // the resolved name ("vg0-root" for dm-0); its capacity is reused
  DiskCounters counters;
  std::string kernel_name{};  // "dm-0": node_exporter's device label; its capacity is reused
  std::uint8_t fields = 0;  // of its diskstats line (DiskStatsLine::fields)
};

struct DiskStats {
  std::vector<DiskSample> disks;  // in file order; slots are reused between reads
};

// What the disks source skipped since it started (the registry counts its own
// refusals in health; these are the source's, seen by tests).
struct DiskSkipCounts {
  std::uint64_t names_too_long = 0;    // kernel name over kMaxDiskNameBytes
  std::uint64_t dm_names_too_long = 0; // dm/name over it: reported by its kernel name instead
  std::uint64_t over_known_cap = 0;    // past kMaxKnownDevices
  std::uint64_t over_reported_cap = 0; // past kMaxReportedDisks
};

// Between ticks: the decision and resolved name of every device seen, built
// when a device first appears, so a steady tick reads /proc/diskstats only.
class DiskState {
 public:
  explicit DiskState(const SourceSettings& settings);

  struct Device {
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
    std::string kernel_name;
    std::string name;  // what series are labelled with
    bool reported = false;
    std::uint64_t seen_in_read = 0;
  };

  // The device of this name (deciding and resolving it if new); nullptr when
  // kMaxKnownDevices are known already.
  Device* find_or_add(const DiskStatsLine& line);
  // Forgets devices not seen in read `read_number` (gone from the host): a
  // device that comes back is decided and resolved again.
  void forget_unseen(std::uint64_t read_number);

  [[nodiscard]] std::size_t known_devices() const { return devices_.size(); }

  std::uint64_t reads = 0;
  DiskSkipCounts skipped;

 private:
  std::string resolve_name(std::string_view kernel_name);

  std::string sys_block_;  // "<sys>/block/"
  DiskOptions options_;
  std::vector<Device> devices_;  // in the order first seen: the file's order
  std::size_t hint_ = 0;         // where the next line's device probably is
};

// Reads /proc/diskstats (primary) into out through state.
Status read_disks(DiskState& state, std::string_view primary, DiskStats& out);

// Per disk: operations and bytes per second, time per completed operation,
// utilisation and average queue depth over the tick; host-wide bytes per
// second summed over the reported disks.
void derive_disks(const DiskStats* previous, const DiskStats& current, const DeriveContext& context,
                  SeriesWriter& out);
// node_exporter's node_disk_*{device} from the counters as the kernel keeps
// them (sectors as bytes, milliseconds as seconds; discards from Linux 4.18,
// flushes from 5.5), node_disk_info{device,major,minor} and, for a
// device-mapper device, node_disk_device_mapper_info{device,name}.
void expose_disks(const DiskStats& current, MetricWriter& out);
SourceDefinition disks_source();

}  // namespace hostpulse
