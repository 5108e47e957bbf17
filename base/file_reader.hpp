#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace hostpulse {

// Reads one whole (small, pseudo-filesystem) file per call into a buffer kept
// between calls: once the buffer has grown to the file's size, a read
// allocates nothing. /proc files report size 0, so it reads until EOF.
//
// A read never waits: the file is opened non-blocking and anything that is
// not a regular file (a FIFO, socket, device or directory planted where a
// procfs file should be) is refused before the first read(). /proc and /sys
// files are regular files, so they are unaffected.
// "1 MiB", "4 KiB", "100 bytes": how size limits appear in messages.
std::string describe_byte_count(std::size_t bytes);

class FileReader {
 public:
  // Files larger than max_bytes are an error rather than unbounded growth.
  // Real procfs files are far smaller: /proc/stat of an 8192-CPU host is
  // under 1 MiB.
  static constexpr std::size_t kDefaultMaxBytes = 16u << 20;
  // Big enough for most procfs files in one read(); /proc/stat on large
  // machines grows the buffer a few times, once.
  static constexpr std::size_t kDefaultInitialBytes = 4096;
  // After a read, a buffer holding more than kShrinkRatio times what it was
  // last filled with, and more than kShrinkAboveBytes, is reallocated to fit:
  // one odd tick (a file that was briefly huge) must not pin megabytes for
  // the agent's lifetime. The ratio is well above the at most 2x a doubling
  // growth leaves, so a steady file never shrinks and regrows every tick.
  static constexpr std::size_t kShrinkRatio = 4;
  static constexpr std::size_t kShrinkAboveBytes = 64u << 10;
  // Descriptors held open at once by readers with hold_descriptor, process
  // wide. They cover the files a typical host reads every tick (the procfs
  // tables, cgroup files, a few dozen interfaces and sensors) and leave
  // most of even a 1024 soft limit to client connections; past it a reader
  // opens its file on each read as before.
  static constexpr std::size_t kMaxHeldDescriptors = 256;

  struct Options {
    std::size_t max_bytes = kDefaultMaxBytes;
    // What the buffer is first grown to (it doubles from there while a file
    // does not fit). A sysfs attribute holds a few bytes: a reader per
    // attribute of every interface and sensor should not keep a page each.
    std::size_t initial_bytes = kDefaultInitialBytes;
    // The kernel produces the whole file in one read() (a sysfs or cgroupfs
    // attribute: its show() fills one buffer and read() hands over all of
    // it that fits), so a read() that leaves room in the buffer has reached
    // the end and the read() that would return 0 is skipped: one system
    // call fewer per read. Also true of a regular file (a fake tree). Not of
    // procfs tables such as /proc/net/dev, which come a page at a time.
    bool whole_in_one_read = false;
    // Keep the file open between reads and read it again from offset 0
    // (pread): procfs, sysfs and cgroupfs make the contents afresh for
    // every read at offset 0, so only the first read pays for open(), the
    // path walk, fstat() and close(). Held only on those filesystems (a
    // regular file may be replaced by rename(), which an open descriptor
    // would never see) and within kMaxHeldDescriptors. For files read every
    // tick; one read now and then gains nothing from it.
    bool hold_descriptor = false;
  };

  explicit FileReader(std::string path, std::size_t max_bytes = kDefaultMaxBytes);
  FileReader(std::string path, Options options);
  ~FileReader();
  FileReader(FileReader&& other) noexcept;
  FileReader& operator=(FileReader&& other) noexcept;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Reads the file again. On success contents() holds it until the next call.
  Status read();
  // read() without building the failure's message, which allocates: for
  // files whose failure is often "no value now" (an attribute of hardware
  // that is asleep gives EIO every tick). false: the read failed; failure()
  // then builds the message read() would have returned.
  [[nodiscard]] bool try_read();
  [[nodiscard]] Status failure() const;

  [[nodiscard]] std::string_view contents() const { return {buffer_.data(), size_}; }
  // The errno open() or read() gave when the last read() failed, 0 when it
  // succeeded or failed for another reason (too large, not a regular file).
  // sysfs attributes of absent hardware fail with EIO or ENODATA, which
  // callers treat as "no value now", not as a broken file.
  [[nodiscard]] int error_number() const { return error_number_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  // Whether the last read failed because the file does not exist (ENOENT).
  [[nodiscard]] bool missing() const { return missing_; }
  // Bytes held by the read buffer (what a read can fill without growing).
  [[nodiscard]] std::size_t capacity() const { return buffer_.size(); }
  // Whether the file is held open between reads (hold_descriptor, on a
  // kernel filesystem, within the cap).
  [[nodiscard]] bool holds_descriptor() const { return held_ >= 0; }
  // Descriptors all readers hold now (tests).
  [[nodiscard]] static std::size_t held_descriptors();

 private:
  // Why the last read failed; the message is built from it only when asked.
  enum class Failure : std::uint8_t {
    none,
    cannot_open,
    cannot_stat,
    not_regular,
    too_large,
    read_failed,
    would_block,
    out_of_memory,
  };
  Failure read_into_buffer();
  // Fills the buffer from descriptor; positional: pread() from offset 0 (a
  // held descriptor), else read() from where a fresh one stands.
  Failure read_contents(int descriptor, bool positional);
  void keep_if_worth_holding(int descriptor);
  void release_held();
  void shrink_if_oversized();

  std::string path_;
  std::string buffer_;
  std::size_t size_ = 0;
  Options options_;
  Failure failure_ = Failure::none;
  int failure_errno_ = 0;          // of cannot_open, cannot_stat, read_failed
  std::uint32_t failure_mode_ = 0;  // st_mode of not_regular
  std::size_t failure_bytes_ = 0;   // the size out_of_memory tried to grow to
  int error_number_ = 0;
  bool missing_ = false;
  int held_ = -1;  // the descriptor kept open between reads, -1: none
};

}  // namespace hostpulse
