#pragma once

#include <cstddef>
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
  // After a read, a buffer holding more than kShrinkRatio times what it was
  // last filled with, and more than kShrinkAboveBytes, is reallocated to fit:
  // one odd tick (a file that was briefly huge) must not pin megabytes for
  // the agent's lifetime. The ratio is well above the at most 2x a doubling
  // growth leaves, so a steady file never shrinks and regrows every tick.
  static constexpr std::size_t kShrinkRatio = 4;
  static constexpr std::size_t kShrinkAboveBytes = 64u << 10;

  explicit FileReader(std::string path, std::size_t max_bytes = kDefaultMaxBytes);

  // Reads the file again. On success contents() holds it until the next call.
  Status read();

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

 private:
  Status read_into_buffer();
  [[nodiscard]] Status too_large() const;
  void shrink_if_oversized();

  std::string path_;
  std::string buffer_;
  std::size_t size_ = 0;
  std::size_t max_bytes_;
  int error_number_ = 0;
  bool missing_ = false;
};

}  // namespace hostpulse
