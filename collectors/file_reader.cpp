#include "collectors/file_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace hostpulse {
namespace {

// Big enough for most procfs files in one read(); /proc/stat on large
// machines grows the buffer a few times, once.
constexpr std::size_t kInitialBufferBytes = 4096;

std::string describe_errno(const std::string& path, std::string_view action, int error_number) {
  return path + ": " + std::string(action) + ": " + std::generic_category().message(error_number);
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

FileReader::FileReader(std::string path, std::size_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes) {}

Status FileReader::read() {
  size_ = 0;

  int descriptor = -1;
  do {
    descriptor = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (descriptor < 0 && errno == EINTR);
  if (descriptor < 0) return Status::failure(describe_errno(path_, "cannot open", errno));
  const FileDescriptor file(descriptor);

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
        const int error_number = errno;
        size_ = 0;
        if (probed < 0) return Status::failure(describe_errno(path_, "read failed", error_number));
        return Status::failure(path_ + ": file larger than " + std::to_string(max_bytes_) + " bytes");
      }
      const std::size_t doubled = buffer_.empty() ? kInitialBufferBytes : buffer_.size() * 2;
      const std::size_t grown = doubled < max_bytes_ ? doubled : max_bytes_;
      try {
        buffer_.resize(grown);
      } catch (const std::exception&) {
        size_ = 0;
        return Status::failure(path_ + ": out of memory growing the read buffer to " +
                               std::to_string(grown) + " bytes");
      }
    }

    const ssize_t received = ::read(file.get(), buffer_.data() + size_, buffer_.size() - size_);
    if (received < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      size_ = 0;
      return Status::failure(describe_errno(path_, "read failed", error_number));
    }
    if (received == 0) break;
    size_ += static_cast<std::size_t>(received);
  }
  return Status::success();
}

}  // namespace hostpulse
