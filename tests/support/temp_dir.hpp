#pragma once

// A scratch directory removed with everything in it when the test ends, and
// an atomic file write for procfs trees a running agent is reading.

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hostpulse::testing_support {

// Writes to a temporary name next to path, then rename(2)s it over path: a
// reader that opens path sees the old file or the new one, never half of one.
inline void write_file_atomically(const std::string& path, std::string_view contents) {
  const std::string temporary = path + ".writing";
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    stream.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    stream.close();
    if (!stream) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
  }
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hostpulse-e2e-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes (atomically) and returns the file's path.
  std::string write(std::string_view name, std::string_view contents) const {
    const std::string target = file(name);
    write_file_atomically(target, contents);
    return target;
  }

 private:
  std::string path_;
};

}  // namespace hostpulse::testing_support
