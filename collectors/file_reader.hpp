#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "collectors/status.hpp"

namespace hostpulse {

// Reads one whole (small, pseudo-filesystem) file per call into a buffer kept
// between calls: once the buffer has grown to the file's size, a read
// allocates nothing. /proc files report size 0, so it reads until EOF.
class FileReader {
 public:
  // Files larger than max_bytes are an error rather than unbounded growth.
  static constexpr std::size_t kDefaultMaxBytes = 16u << 20;

  explicit FileReader(std::string path, std::size_t max_bytes = kDefaultMaxBytes);

  // Reads the file again. On success contents() holds it until the next call.
  Status read();

  [[nodiscard]] std::string_view contents() const { return {buffer_.data(), size_}; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::size_t capacity() const { return buffer_.size(); }

 private:
  std::string path_;
  std::string buffer_;
  std::size_t size_ = 0;
  std::size_t max_bytes_;
};

}  // namespace hostpulse
