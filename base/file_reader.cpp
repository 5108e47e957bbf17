#include "base/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace hostpulse {
namespace {

// Big enough for most procfs files in one read(); /proc/stat on large
// machines grows the buffer a few times, once.
constexpr std::size_t kInitialBufferBytes = 4096;

// O_NONBLOCK: opening a FIFO without it waits for a writer, forever if none
// comes. O_NOCTTY: a terminal device planted in procfs must not become the
// controlling terminal of a daemon that has none.
constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

std::string describe_errno(const std::string& path, std::string_view action, int error_number) {
  return path + ": " + std::string(action) + ": " + std::generic_category().message(error_number);
}

// Names what was found where a file was expected ("is a FIFO"), so the
// health endpoint says what to remove.
Status not_a_regular_file(const std::string& path, mode_t mode) {
  const char* what = S_ISDIR(mode)    ? "a directory"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISSOCK(mode) ? "a socket"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                                      : "a special file";
  return Status::failure(path + ": is " + what + ", not a regular file");
}

// The size the buffer grows to when it has to hold more than `size` bytes:
// the same doubling steps read() takes, so a shrunk buffer is one a read of
// that size would have grown to anyway.
std::size_t buffer_step_above(std::size_t size, std::size_t max_bytes) {
  std::size_t step = kInitialBufferBytes;
  while (step <= size && step < max_bytes) step *= 2;
  return step < max_bytes ? step : max_bytes;
}

// Closes on every return path, including an exception from buffer growth.
class FileDescriptor {
 public:
  explicit FileDescriptor(int descriptor) : descriptor_(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  // close() is not retried on EINTR: on Linux the descriptor is released
  // anyway, and retrying could close one another thread just opened.
  ~FileDescriptor() { ::close(descriptor_); }

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

Status FileReader::too_large() const {
  return Status::failure(path_ + ": larger than " + describe_byte_count(max_bytes_) + ", refusing to read it");
}

FileReader::FileReader(std::string path, std::size_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes) {}

Status FileReader::read() {
  Status status = read_into_buffer();
  if (!status.ok()) size_ = 0;
  shrink_if_oversized();
  return status;
}

Status FileReader::read_into_buffer() {
  size_ = 0;
  error_number_ = 0;

  int descriptor = -1;
  do {
    descriptor = ::open(path_.c_str(), kOpenFlags);
  } while (descriptor < 0 && errno == EINTR);
  missing_ = descriptor < 0 && errno == ENOENT;
  if (descriptor < 0) {
    const int error_number = errno;
    // A UNIX socket cannot be opened at all (ENXIO); say what is there.
    struct stat info {};
    if (error_number == ENXIO && ::stat(path_.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
      return not_a_regular_file(path_, info.st_mode);
    }
    error_number_ = error_number;
    return Status::failure(describe_errno(path_, "cannot open", error_number));
  }
  const FileDescriptor file(descriptor);

  // Checked on the open descriptor, not the path: whatever was swapped in
  // after a path check is what read() would see.
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return Status::failure(describe_errno(path_, "cannot stat", errno));
  if (!S_ISREG(info.st_mode)) return not_a_regular_file(path_, info.st_mode);
  // procfs reports 0 and sysfs 4096 whatever the contents; a size above the
  // limit can only be an ordinary file, refused before reading any of it.
  if (info.st_size > 0 && static_cast<std::uintmax_t>(info.st_size) > max_bytes_) {
    return too_large();
  }

  // procfs files report size 0 in stat(), so the only way to know the size
  // is to read until read() returns 0.
  for (;;) {
    if (size_ == buffer_.size()) {
      if (buffer_.size() >= max_bytes_) {
        // Full at the limit: the file fits only if nothing is left to read.
        char probe = 0;
        ssize_t probed = 0;
        do {
          probed = ::read(file.get(), &probe, 1);
        } while (probed < 0 && errno == EINTR);
        if (probed == 0) break;
        if (probed < 0) {
          error_number_ = errno;
          return Status::failure(describe_errno(path_, "read failed", error_number_));
        }
        return too_large();
      }
      const std::size_t doubled = buffer_.empty() ? kInitialBufferBytes : buffer_.size() * 2;
      const std::size_t grown = doubled < max_bytes_ ? doubled : max_bytes_;
      try {
        buffer_.resize(grown);
      } catch (const std::exception&) {
        return Status::failure(path_ + ": out of memory growing the read buffer to " +
                               std::to_string(grown) + " bytes");
      }
    }

    const ssize_t received = ::read(file.get(), buffer_.data() + size_, buffer_.size() - size_);
    if (received < 0) {
      if (errno == EINTR) continue;
      // Waiting for data is exactly what a sampler tick must never do, so
      // "would block" fails the read instead of being retried.
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Status::failure(path_ + ": read would block (not a plain file?)");
      }
      error_number_ = errno;
      return Status::failure(describe_errno(path_, "read failed", error_number_));
    }
    if (received == 0) break;
    size_ += static_cast<std::size_t>(received);
  }
  return Status::success();
}

void FileReader::shrink_if_oversized() {
  const std::size_t capacity = buffer_.size();
  if (capacity <= kShrinkAboveBytes || capacity / kShrinkRatio <= size_) return;
  const std::size_t target = buffer_step_above(size_, max_bytes_);
  if (target >= capacity) return;
  try {
    // A fresh string, not resize() + shrink_to_fit(): that one is only a
    // request, and this must give the memory back.
    std::string smaller(target, '\0');
    smaller.replace(0, size_, buffer_.data(), size_);
    buffer_.swap(smaller);
  } catch (const std::exception&) {
    // Out of memory for the smaller copy: keeping the big buffer is correct,
    // only wasteful.
  }
}

}  // namespace hostpulse
