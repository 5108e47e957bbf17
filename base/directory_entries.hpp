#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hostpulse {

// One entry of a directory listing. name points into the lister's own
// storage and is valid until its next list().
struct DirectoryEntry {
  std::string_view name;
  // The getdents64 d_type (DT_DIR, DT_LNK, DT_REG...); DT_UNKNOWN on
  // filesystems that do not fill it in, so callers that care must stat.
  unsigned char type = 0;
};

// Lists a directory's entries without touching the heap once constructed:
// the getdents64 buffer, the name storage and the entry array are all sized
// up front and reused by every list(). Sources that rescan /sys/class/...
// every tick use it so a steady tick allocates nothing (opendir/readdir
// would allocate a DIR and its buffer on each call).
//
// "." and ".." are skipped. Entries past max_entries, or whose names no
// longer fit the name storage, are dropped and counted (dropped()), never
// grown into: a directory with a million planted files costs the same as one
// with max_entries.
class DirectoryEntries {
 public:
  // sysfs class directories hold one entry per device; 4096 is more hwmon
  // chips, thermal zones or CPUs than a real host exposes in one folder.
  static constexpr std::size_t kDefaultMaxEntries = 4096;
  // 4096 names of 16 bytes on average: sysfs names ("hwmon12",
  // "temp17_input", "thermal_zone3") are shorter than that.
  static constexpr std::size_t kDefaultNameBytes = 64u << 10;
  // One getdents64 call returns what fits; a bigger buffer only means fewer
  // calls. 32 KiB holds ~1000 sysfs entries.
  static constexpr std::size_t kReadBufferBytes = 32u << 10;

  explicit DirectoryEntries(std::size_t max_entries = kDefaultMaxEntries,
                            std::size_t name_bytes = kDefaultNameBytes);

  // Lists path (a NUL-terminated string, so the caller can keep it in a
  // std::string built once). Returns 0, or the errno of what failed
  // (ENOENT: no such directory; ENOTDIR: not a directory): an error code,
  // not a Status, because a missing directory is the steady state of a host
  // without that hardware, and building a message would allocate every tick.
  int list(const char* path);
  int list(const std::string& path) { return list(path.c_str()); }

  [[nodiscard]] std::span<const DirectoryEntry> entries() const { return {entries_.data(), count_}; }
  // Entries of the last list() that did not fit (max_entries or name storage).
  [[nodiscard]] std::size_t dropped() const { return dropped_; }
  [[nodiscard]] std::size_t max_entries() const { return entries_.size(); }

 private:
  bool keep(std::string_view name, unsigned char type);

  std::unique_ptr<char[]> read_buffer_;
  std::vector<char> names_;
  std::size_t names_used_ = 0;
  std::vector<DirectoryEntry> entries_;
  std::size_t count_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace hostpulse
