#include "collectors/linux/disks.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string>

#include "base/file_reader.hpp"

namespace hostpulse {
namespace {

using procfs_text::describe;
using procfs_text::next_field;
using procfs_text::NumberError;
using procfs_text::quote;

// The counter columns after major, minor and name, in the kernel's order.
constexpr std::array<std::uint64_t DiskCounters::*, 17> kCounterFields = {
    &DiskCounters::reads_completed,    &DiskCounters::reads_merged,     &DiskCounters::sectors_read,
    &DiskCounters::read_ms,            &DiskCounters::writes_completed, &DiskCounters::writes_merged,
    &DiskCounters::sectors_written,    &DiskCounters::write_ms,         &DiskCounters::in_flight,
    &DiskCounters::io_ms,              &DiskCounters::weighted_io_ms,   &DiskCounters::discards_completed,
    &DiskCounters::discards_merged,    &DiskCounters::sectors_discarded, &DiskCounters::discard_ms,
    &DiskCounters::flushes_completed,  &DiskCounters::flush_ms,
};
// 14 fields: 2.6.25 to 4.17; 18: discards (4.18); 20: flushes (5.5).
constexpr std::size_t kFieldsWithDiscards = 18;
constexpr std::size_t kFieldsWithFlushes = 20;
static_assert(kCounterFields.size() + 3 == kFieldsWithFlushes);

Status parse_device_number(std::string_view token, std::string_view what, std::uint32_t& out) {
  if (const NumberError error = procfs_text::parse_unsigned(token, out); error != NumberError::none) {
    return Status::failure(std::string(what) + ": " + describe(error, token, "32 bits"));
  }
  return Status::success();
}

// Removes prefix from text if it starts with it.
bool consume(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

// Removes a run of at least one character matching predicate.
template <class Predicate>
bool consume_run(std::string_view& text, Predicate predicate) {
  std::size_t length = 0;
  while (length < text.size() && predicate(text[length])) ++length;
  text.remove_prefix(length);
  return length > 0;
}

// "<prefix>\d+$"
bool is_prefix_then_number(std::string_view name, std::string_view prefix) {
  return consume(name, prefix) && consume_run(name, is_digit) && name.empty();
}

bool is_partition_name(std::string_view name) {
  // (h|s|v|xv)d[a-z]+\d+: sda1, xvdb3, vdaa12
  std::string_view rest = name;
  if (consume(rest, "hd") || consume(rest, "sd") || consume(rest, "vd") || consume(rest, "xvd")) {
    if (consume_run(rest, is_lower) && consume_run(rest, is_digit) && rest.empty()) return true;
  }
  // nvme\d+n\d+p\d+: nvme0n1p2
  rest = name;
  if (consume(rest, "nvme") && consume_run(rest, is_digit) && consume(rest, "n") && consume_run(rest, is_digit) &&
      consume(rest, "p") && consume_run(rest, is_digit) && rest.empty()) {
    return true;
  }
  // mmcblk\d+p\d+: mmcblk0p1
  rest = name;
  return consume(rest, "mmcblk") && consume_run(rest, is_digit) && consume(rest, "p") &&
         consume_run(rest, is_digit) && rest.empty();
}

// "dm-<number>": a device-mapper device, whose name people know is in sysfs.
bool is_device_mapper(std::string_view name) { return is_prefix_then_number(name, "dm-"); }

}  // namespace

Status parse_diskstats_line(std::string_view line, DiskStatsLine& out) {
  out = DiskStatsLine{};
  std::string_view rest = line;
  if (Status status = parse_device_number(next_field(rest), "major", out.major); !status.ok()) return status;
  if (Status status = parse_device_number(next_field(rest), "minor", out.minor); !status.ok()) return status;
  out.name = next_field(rest);
  if (out.name.empty()) return Status::failure("device name missing");

  std::size_t fields = 3;
  for (std::string_view token = next_field(rest); !token.empty(); token = next_field(rest)) {
    std::uint64_t value = 0;
    if (const NumberError error = procfs_text::parse_unsigned(token, value); error != NumberError::none) {
      return Status::failure(std::string("field ") + std::to_string(fields + 1) + " of " + quote(out.name) + ": " +
                             describe(error, token));
    }
    if (fields - 3 < kCounterFields.size()) out.counters.*kCounterFields[fields - 3] = value;
    ++fields;
  }
  // A count between the known ones is a line cut short (or padded), not a
  // kernel's layout: its discard or flush columns cannot be trusted.
  if (fields < kDiskstatsMinFields || (fields > kDiskstatsMinFields && fields < kFieldsWithDiscards) ||
      (fields > kFieldsWithDiscards && fields < kFieldsWithFlushes)) {
    return Status::failure(quote(out.name) + ": expected 14, 18 or 20 fields, got " + std::to_string(fields));
  }
  out.fields = static_cast<std::uint8_t>(std::min<std::size_t>(fields, 255));
  return Status::success();
}

DiskKind classify_disk_name(std::string_view name) {
  if (is_prefix_then_number(name, "ram") || is_prefix_then_number(name, "zram")) return DiskKind::ram;
  if (is_prefix_then_number(name, "loop")) return DiskKind::loop;
  if (is_prefix_then_number(name, "fd")) return DiskKind::floppy;
  if (is_partition_name(name)) return DiskKind::partition;
  return DiskKind::disk;
}

bool disk_kind_wanted(DiskKind kind, const DiskOptions& options) {
  switch (kind) {
    case DiskKind::disk: return true;
    case DiskKind::partition: return options.partitions;
    case DiskKind::loop: return options.loop;
    case DiskKind::ram: return options.ram;
    case DiskKind::floppy: return false;
  }
  return false;
}

DiskState::DiskState(const SourceSettings& settings)
    : sys_block_(settings.paths.sys_file("block/")), options_(settings.disks) {}

std::string DiskState::resolve_name(std::string_view kernel_name) {
  if (!is_device_mapper(kernel_name)) return std::string(kernel_name);
  // Read once, when the device first appears: a dm device keeps its name
  // while it exists (a rename is rare and shows after it next appears).
  FileReader reader(sys_block_ + std::string(kernel_name) + "/dm/name", kMaxDmNameFileBytes);
  if (!reader.read().ok()) return std::string(kernel_name);  // no sysfs (a container): dm-N it is
  std::string_view name = reader.contents();
  if (name.ends_with('\n')) name.remove_suffix(1);
  if (name.empty() || name.find('\n') != std::string_view::npos) return std::string(kernel_name);
  if (name.size() > kMaxDiskNameBytes) {
    ++skipped.dm_names_too_long;
    return std::string(kernel_name);
  }
  return std::string(name);
}

DiskState::Device* DiskState::find_or_add(const DiskStatsLine& line) {
  // The kernel lists devices in the same order every read, so the device
  // after the last one found is almost always the next line's.
  const auto matches = [&line](const Device& device) {
    return device.major == line.major && device.minor == line.minor && device.kernel_name == line.name;
  };
  if (hint_ < devices_.size() && matches(devices_[hint_])) return &devices_[hint_++];
  for (std::size_t index = 0; index < devices_.size(); ++index) {
    if (matches(devices_[index])) {
      hint_ = index + 1;
      return &devices_[index];
    }
  }
  if (devices_.size() >= kMaxKnownDevices) return nullptr;
  devices_.push_back(Device{.major = line.major,
                            .minor = line.minor,
                            .kernel_name = std::string(line.name),
                            .name = resolve_name(line.name),
                            .reported = disk_kind_wanted(classify_disk_name(line.name), options_)});
  hint_ = devices_.size();
  return &devices_.back();
}

void DiskState::forget_unseen(std::uint64_t read_number) {
  std::erase_if(devices_, [read_number](const Device& device) { return device.seen_in_read != read_number; });
  hint_ = 0;
}

Status read_disks(DiskState& state, std::string_view primary, DiskStats& out) {
  const std::uint64_t read_number = ++state.reads;
  std::size_t reported = 0;
  std::size_t seen = 0;
  Status duplicate;
  Status status = parse_proc_diskstats(primary, [&](const DiskStatsLine& line) {
    if (!duplicate.ok()) return;
    if (line.name.size() > kMaxDiskNameBytes) {
      ++state.skipped.names_too_long;
      return;
    }
    DiskState::Device* device = state.find_or_add(line);
    if (device == nullptr) {
      ++state.skipped.over_known_cap;
      return;
    }
    if (device->seen_in_read == read_number) {
      // Two lines for one device: which one holds its counters is unknowable.
      duplicate = Status::failure("diskstats: " + quote(line.name) + " appears twice");
      return;
    }
    device->seen_in_read = read_number;
    ++seen;
    if (!device->reported) return;
    if (reported == kMaxReportedDisks) {
      ++state.skipped.over_reported_cap;
      return;
    }
    if (reported == out.disks.size()) out.disks.emplace_back();
    DiskSample& sample = out.disks[reported++];
    sample.major = line.major;
    sample.minor = line.minor;
    sample.name.assign(device->name);  // reuses the slot's capacity
    sample.counters = line.counters;
    sample.kernel_name.assign(line.name);
    sample.fields = line.fields;
  });
  if (status.ok()) status = duplicate;
  // Slots past the last disk go only when disks do, so a steady read keeps
  // every name's buffer.
  out.disks.resize(reported);
  if (status.ok() && seen < state.known_devices()) state.forget_unseen(read_number);
  return status;
}

namespace {

using derive_math::hundredths;
using derive_math::kNoValue;

enum Spec : std::size_t {
  kReadBytesTotal,
  kWriteBytesTotal,
  kReads,
  kWrites,
  kReadBytes,
  kWriteBytes,
  kReadAwait,
  kWriteAwait,
  kUtil,
  kQueueDepth,
};

constexpr int kHundredths = 2;

constexpr SeriesSpec kSeries[] = {
    {"disk.read_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes read per second, summed over the reported disks", kHundredths},
    {"disk.write_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes written per second, summed over the reported disks", kHundredths},
    {"disk.{disk}.reads_per_s", "per_second", SeriesKind::rate, "Reads completed per second", kHundredths},
    {"disk.{disk}.writes_per_s", "per_second", SeriesKind::rate, "Writes completed per second", kHundredths},
    {"disk.{disk}.read_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes read per second", kHundredths},
    {"disk.{disk}.write_bytes_per_s", "bytes_per_second", SeriesKind::rate, "Bytes written per second", kHundredths},
    {"disk.{disk}.read_await_ms", "milliseconds", SeriesKind::gauge, "Average time per read completed this tick (queue and service)", kHundredths},
    {"disk.{disk}.write_await_ms", "milliseconds", SeriesKind::gauge, "Average time per write completed this tick (queue and service)", kHundredths},
    {"disk.{disk}.util_pct", "percent", SeriesKind::gauge, "Share of the tick with at least one request in flight", kHundredths},
    {"disk.{disk}.queue_depth", "count", SeriesKind::gauge, "Average requests in flight over the tick", kHundredths},
};
static_assert(std::size(kSeries) == kQueueDepth + 1);

// /proc/diskstats counts 512-byte sectors on every device.
constexpr double kBytesPerSector = 512.0;
constexpr double kMillisecondsPerSecond = 1000.0;

// after - before, or nothing when the counter went back (a reset, or a
// 32-bit counter of an old kernel wrapping): no value rather than a spike.
bool delta(std::uint64_t before, std::uint64_t after, double& out) {
  if (after < before) return false;
  out = static_cast<double>(after - before);
  return true;
}

double per_second(std::uint64_t before, std::uint64_t after, double scale, double elapsed_s) {
  double change = 0;
  if (!delta(before, after, change) || !(elapsed_s > 0)) return kNoValue;
  return hundredths(change * scale / elapsed_s);
}

// Milliseconds spent per operation completed this tick; 0 when none completed.
double await_ms(std::uint64_t ops_before, std::uint64_t ops_after, std::uint64_t ms_before, std::uint64_t ms_after) {
  double ops = 0;
  double ms = 0;
  if (!delta(ops_before, ops_after, ops) || !delta(ms_before, ms_after, ms)) return kNoValue;
  return ops > 0 ? hundredths(ms / ops) : 0.0;
}

const DiskSample* find_disk(const std::vector<DiskSample>& disks, const DiskSample& disk, std::size_t hint) {
  const auto same = [&disk](const DiskSample& other) {
    return other.major == disk.major && other.minor == disk.minor && other.name == disk.name;
  };
  if (hint < disks.size() && same(disks[hint])) return &disks[hint];
  for (const DiskSample& other : disks) {
    if (same(other)) return &other;
  }
  return nullptr;
}

// node_exporter's diskstats collector, labelled with the kernel's name
// (dm-0) as it does; a device-mapper name is in node_disk_device_mapper_info.
namespace metric {
enum : std::size_t {
  kReadsCompleted, kReadsMerged, kReadBytes, kReadTime, kWritesCompleted, kWritesMerged, kWrittenBytes, kWriteTime,
  kIoNow, kIoTime, kIoTimeWeighted, kDiscardsCompleted, kDiscardsMerged, kDiscardedSectors, kDiscardTime,
  kFlushRequests, kFlushRequestsTime, kInfo, kDeviceMapperInfo,
};
}
constexpr MetricSpec kMetrics[] = {
    {"node_disk_reads_completed_total", MetricType::counter, "The total number of reads completed successfully.",
     {"device"}},
    {"node_disk_reads_merged_total", MetricType::counter, "The total number of reads merged.", {"device"}},
    {"node_disk_read_bytes_total", MetricType::counter, "The total number of bytes read successfully.", {"device"}},
    {"node_disk_read_time_seconds_total", MetricType::counter, "The total number of seconds spent by all reads.",
     {"device"}},
    {"node_disk_writes_completed_total", MetricType::counter, "The total number of writes completed successfully.",
     {"device"}},
    {"node_disk_writes_merged_total", MetricType::counter, "The number of writes merged.", {"device"}},
    {"node_disk_written_bytes_total", MetricType::counter, "The total number of bytes written successfully.",
     {"device"}},
    {"node_disk_write_time_seconds_total", MetricType::counter,
     "This is the total number of seconds spent by all writes.", {"device"}},
    {"node_disk_io_now", MetricType::gauge, "The number of I/Os currently in progress.", {"device"}},
    {"node_disk_io_time_seconds_total", MetricType::counter, "Total seconds spent doing I/Os.", {"device"}},
    {"node_disk_io_time_weighted_seconds_total", MetricType::counter,
     "The weighted # of seconds spent doing I/Os.", {"device"}},
    {"node_disk_discards_completed_total", MetricType::counter,
     "The total number of discards completed successfully.", {"device"}},
    {"node_disk_discards_merged_total", MetricType::counter, "The total number of discards merged.", {"device"}},
    {"node_disk_discarded_sectors_total", MetricType::counter, "The total number of sectors discarded successfully.",
     {"device"}},
    {"node_disk_discard_time_seconds_total", MetricType::counter,
     "This is the total number of seconds spent by all discards.", {"device"}},
    {"node_disk_flush_requests_total", MetricType::counter,
     "The total number of flush requests completed successfully", {"device"}},
    {"node_disk_flush_requests_time_seconds_total", MetricType::counter,
     "This is the total number of seconds spent by all flush requests.", {"device"}},
    // node_exporter adds model, path, revision, serial and wwn from udev's
    // database, empty without it (in a container): those are left out.
    {"node_disk_info", MetricType::gauge, "Info of /sys/block/<block_device>.", {"device", "major", "minor"}},
    // node_exporter has uuid, vg_name, lv_name and lv_layer too, from udev.
    {"node_disk_device_mapper_info", MetricType::gauge, "Info about disk device mapper.", {"device", "name"}},
};
static_assert(std::size(kMetrics) == metric::kDeviceMapperInfo + 1);

constexpr StatefulFunctions<DiskStats, DiskState> kFunctions{&read_disks, &derive_disks, nullptr, &expose_disks};

}  // namespace

void derive_disks(const DiskStats* previous, const DiskStats& current, const DeriveContext& context,
                  SeriesWriter& out) {
  const double elapsed_s = context.elapsed_s;
  const double elapsed_ms = elapsed_s * kMillisecondsPerSecond;
  double read_bytes_total = 0;
  double write_bytes_total = 0;
  for (std::size_t index = 0; index < current.disks.size(); ++index) {
    const DiskSample& disk = current.disks[index];
    const EntityHandle entity = out.entity("disk", disk.name);
    if (!entity.valid() || previous == nullptr) continue;
    const DiskSample* before = find_disk(previous->disks, disk, index);
    if (before == nullptr) continue;  // new this tick: values from the next one
    const DiskCounters& a = before->counters;
    const DiskCounters& b = disk.counters;

    const double read_bytes = per_second(a.sectors_read, b.sectors_read, kBytesPerSector, elapsed_s);
    const double write_bytes = per_second(a.sectors_written, b.sectors_written, kBytesPerSector, elapsed_s);
    read_bytes_total += read_bytes;  // NaN stays NaN: one disk's reset leaves the total without a value
    write_bytes_total += write_bytes;

    double util = kNoValue;
    double queue_depth = kNoValue;
    double io_ms = 0;
    double weighted_ms = 0;
    if (elapsed_ms > 0 && delta(a.io_ms, b.io_ms, io_ms)) util = hundredths(std::min(100.0, 100.0 * io_ms / elapsed_ms));
    if (elapsed_ms > 0 && delta(a.weighted_io_ms, b.weighted_io_ms, weighted_ms)) {
      queue_depth = hundredths(weighted_ms / elapsed_ms);
    }
    const double values[] = {
        per_second(a.reads_completed, b.reads_completed, 1.0, elapsed_s),
        per_second(a.writes_completed, b.writes_completed, 1.0, elapsed_s),
        read_bytes,
        write_bytes,
        await_ms(a.reads_completed, b.reads_completed, a.read_ms, b.read_ms),
        await_ms(a.writes_completed, b.writes_completed, a.write_ms, b.write_ms),
        util,
        queue_depth,
    };
    static_assert(std::size(values) == kQueueDepth - kReads + 1);
    out.set_all(entity, kReads, values);
  }
  // A disk whose counter went back makes the total unknown this tick, not
  // lower: a dip would look like real traffic falling.
  if (previous != nullptr && elapsed_s > 0) {
    out.set(kReadBytesTotal, hundredths(read_bytes_total));
    out.set(kWriteBytesTotal, hundredths(write_bytes_total));
  }
}

SourceDefinition disks_source() {
  return {.name = "disks", .procfs_path = "diskstats", .series = kSeries,
          .create = &create_stateful_source<DiskStats, DiskState, kFunctions>, .metrics = kMetrics};
}

void expose_disks(const DiskStats& current, MetricWriter& out) {
  // Linux 4.18 added the four discard fields, 5.5 the two flush fields
  // (kFieldsWithDiscards, kFieldsWithFlushes above).
  for (const DiskSample& disk : current.disks) {
    const std::initializer_list<std::string_view> device = {disk.kernel_name};
    const DiskCounters& c = disk.counters;
    const auto count = [](std::uint64_t value) { return static_cast<double>(value); };
    const auto seconds = [](std::uint64_t ms) { return static_cast<double>(ms) / kMillisecondsPerSecond; };
    out.sample(metric::kReadsCompleted, device, count(c.reads_completed));
    out.sample(metric::kReadsMerged, device, count(c.reads_merged));
    out.sample(metric::kReadBytes, device, count(c.sectors_read) * kBytesPerSector);
    out.sample(metric::kReadTime, device, seconds(c.read_ms));
    out.sample(metric::kWritesCompleted, device, count(c.writes_completed));
    out.sample(metric::kWritesMerged, device, count(c.writes_merged));
    out.sample(metric::kWrittenBytes, device, count(c.sectors_written) * kBytesPerSector);
    out.sample(metric::kWriteTime, device, seconds(c.write_ms));
    out.sample(metric::kIoNow, device, count(c.in_flight));
    out.sample(metric::kIoTime, device, seconds(c.io_ms));
    out.sample(metric::kIoTimeWeighted, device, seconds(c.weighted_io_ms));
    if (disk.fields >= kFieldsWithDiscards) {
      out.sample(metric::kDiscardsCompleted, device, count(c.discards_completed));
      out.sample(metric::kDiscardsMerged, device, count(c.discards_merged));
      out.sample(metric::kDiscardedSectors, device, count(c.sectors_discarded));
      out.sample(metric::kDiscardTime, device, seconds(c.discard_ms));
    }
    if (disk.fields >= kFieldsWithFlushes) {
      out.sample(metric::kFlushRequests, device, count(c.flushes_completed));
      out.sample(metric::kFlushRequestsTime, device, seconds(c.flush_ms));
    }
    const NumberLabel major(disk.major);
    const NumberLabel minor(disk.minor);
    out.sample(metric::kInfo, {disk.kernel_name, major.view(), minor.view()}, 1.0);
    if (disk.name != disk.kernel_name) out.sample(metric::kDeviceMapperInfo, {disk.kernel_name, disk.name}, 1.0);
  }
}

}  // namespace hostpulse
