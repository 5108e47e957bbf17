#include "agent/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace hostpulse {
namespace {

// Reads in pieces this big, so a file that lies about its size (or grows
// while it is read) is caught at the limit without a buffer of its claimed size.
constexpr std::size_t kReadChunkBytes = 16 * 1024;

std::string errno_message(const std::string& path, std::string_view action, int error_number) {
  return path + ": " + std::string(action) + ": " + std::generic_category().message(error_number);
}

std::string_view kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// Closes on every return path.
class Descriptor {
 public:
  explicit Descriptor(int descriptor) : descriptor_(descriptor) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  // Not retried on EINTR: on Linux the descriptor is released anyway.
  ~Descriptor() { ::close(descriptor_); }
  [[nodiscard]] int get() const { return descriptor_; }

 private:
  int descriptor_;
};

}  // namespace

std::string describe_byte_count(std::size_t bytes) {
  constexpr std::size_t kKibibyte = 1024;
  constexpr std::size_t kMebibyte = 1024 * kKibibyte;
  if (bytes >= kMebibyte && bytes % kMebibyte == 0) return std::to_string(bytes / kMebibyte) + " MiB";
  if (bytes >= kKibibyte && bytes % kKibibyte == 0) return std::to_string(bytes / kKibibyte) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Status read_bounded_file(const std::string& path, std::size_t max_bytes, std::string& out) {
  out.clear();
  int opened = -1;
  do {
    // O_NOCTTY: a terminal named by mistake must not become our controlling one.
    opened = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  } while (opened < 0 && errno == EINTR);
  if (opened < 0) return Status::failure(errno_message(path, "cannot open", errno));
  const Descriptor file(opened);

  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return Status::failure(errno_message(path, "cannot stat", errno));
  if (S_ISDIR(info.st_mode)) return Status::failure(path + ": is a directory");
  if (!S_ISREG(info.st_mode)) {
    return Status::failure(path + ": not a regular file (" + std::string(kind_of(info.st_mode)) + ")");
  }
  const auto too_large = [&] {
    return Status::failure(path + ": larger than " + describe_byte_count(max_bytes) + ", refusing to read it");
  };
  if (info.st_size < 0 || static_cast<unsigned long long>(info.st_size) > max_bytes) return too_large();

  std::string contents;
  contents.reserve(static_cast<std::size_t>(info.st_size));
  char chunk[kReadChunkBytes];
  for (;;) {
    const ssize_t received = ::read(file.get(), chunk, sizeof chunk);
    if (received < 0) {
      if (errno == EINTR) continue;
      return Status::failure(errno_message(path, "read failed", errno));
    }
    if (received == 0) break;
    if (contents.size() + static_cast<std::size_t>(received) > max_bytes) return too_large();
    contents.append(chunk, static_cast<std::size_t>(received));
  }
  out = std::move(contents);
  return Status::success();
}

}  // namespace hostpulse
