#include "base/file_reader.hpp"

#include <fcntl.h>
#include <linux/magic.h>  // PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC
#include <sys/stat.h>
#include <sys/vfs.h>  // fstatfs
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace hostpulse {
namespace {

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
std::size_t buffer_step_above(std::size_t size, std::size_t initial_bytes, std::size_t max_bytes) {
  std::size_t step = initial_bytes;
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
  ~FileDescriptor() {
    if (descriptor_ >= 0) ::close(descriptor_);
  }

  [[nodiscard]] int get() const { return descriptor_; }
  // The caller keeps the descriptor open.
  int release() { return std::exchange(descriptor_, -1); }

 private:
  int descriptor_;
};

// Descriptors held by all readers now, against FileReader::kMaxHeldDescriptors.
std::atomic<std::size_t> held_count{0};

// Filesystems whose files are made afresh by every read at offset 0, and
// are never replaced under their name by rename().
bool is_kernel_filesystem(int descriptor) {
  struct statfs info {};
  if (::fstatfs(descriptor, &info) != 0) return false;
  switch (static_cast<unsigned long>(info.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

// Reserves one of the held descriptors; false at the cap.
bool reserve_held() {
  std::size_t count = held_count.load(std::memory_order_relaxed);
  while (count < FileReader::kMaxHeldDescriptors) {
    if (held_count.compare_exchange_weak(count, count + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace

std::string describe_byte_count(std::size_t bytes) {
  constexpr std::size_t kKibibyte = 1024;
  constexpr std::size_t kMebibyte = 1024 * kKibibyte;
  if (bytes >= kMebibyte && bytes % kMebibyte == 0) return std::to_string(bytes / kMebibyte) + " MiB";
  if (bytes >= kKibibyte && bytes % kKibibyte == 0) return std::to_string(bytes / kKibibyte) + " KiB";
  return std::to_string(bytes) + " bytes";
}

FileReader::FileReader(std::string path, std::size_t max_bytes)
    : FileReader(std::move(path), Options{.max_bytes = max_bytes}) {}

FileReader::FileReader(std::string path, Options options) : path_(std::move(path)), options_(options) {
  if (options_.initial_bytes == 0) options_.initial_bytes = 1;
}

FileReader::~FileReader() { release_held(); }

FileReader::FileReader(FileReader&& other) noexcept
    : path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      size_(std::exchange(other.size_, 0)),
      options_(other.options_),
      failure_(other.failure_),
      failure_errno_(other.failure_errno_),
      failure_mode_(other.failure_mode_),
      failure_bytes_(other.failure_bytes_),
      error_number_(other.error_number_),
      missing_(other.missing_),
      held_(std::exchange(other.held_, -1)) {}

FileReader& FileReader::operator=(FileReader&& other) noexcept {
  if (this == &other) return *this;
  release_held();
  path_ = std::move(other.path_);
  buffer_ = std::move(other.buffer_);
  size_ = std::exchange(other.size_, 0);
  options_ = other.options_;
  failure_ = other.failure_;
  failure_errno_ = other.failure_errno_;
  failure_mode_ = other.failure_mode_;
  failure_bytes_ = other.failure_bytes_;
  error_number_ = other.error_number_;
  missing_ = other.missing_;
  held_ = std::exchange(other.held_, -1);
  return *this;
}

std::size_t FileReader::held_descriptors() { return held_count.load(std::memory_order_relaxed); }

void FileReader::release_held() {
  if (held_ < 0) return;
  ::close(held_);
  held_ = -1;
  held_count.fetch_sub(1, std::memory_order_relaxed);
}

void FileReader::keep_if_worth_holding(int descriptor) {
  if (!options_.hold_descriptor || held_ >= 0 || !is_kernel_filesystem(descriptor) || !reserve_held()) return;
  held_ = descriptor;
}

Status FileReader::read() {
  if (try_read()) return Status::success();
  return failure();
}

bool FileReader::try_read() {
  failure_ = read_into_buffer();
  if (failure_ != Failure::none) size_ = 0;
  shrink_if_oversized();
  return failure_ == Failure::none;
}

Status FileReader::failure() const {
  switch (failure_) {
    case Failure::none:
      return Status::success();
    case Failure::cannot_open:
      return Status::failure(describe_errno(path_, "cannot open", failure_errno_));
    case Failure::cannot_stat:
      return Status::failure(describe_errno(path_, "cannot stat", failure_errno_));
    case Failure::not_regular:
      return not_a_regular_file(path_, static_cast<mode_t>(failure_mode_));
    case Failure::too_large:
      return Status::failure(path_ + ": larger than " + describe_byte_count(options_.max_bytes) +
                             ", refusing to read it");
    case Failure::read_failed:
      return Status::failure(describe_errno(path_, "read failed", failure_errno_));
    case Failure::would_block:
      // Waiting for data is exactly what a sampler tick must never do, so
      // "would block" fails the read instead of being retried.
      return Status::failure(path_ + ": read would block (not a plain file?)");
    case Failure::out_of_memory:
      return Status::failure(path_ + ": out of memory growing the read buffer to " +
                             std::to_string(failure_bytes_) + " bytes");
  }
  return Status::failure(path_ + ": read failed");
}

FileReader::Failure FileReader::read_into_buffer() {
  size_ = 0;
  error_number_ = 0;
  failure_errno_ = 0;

  if (held_ >= 0) {
    missing_ = false;
    if (read_contents(held_, true) == Failure::none) return Failure::none;
    // A held file that fails may have been removed and made again under its
    // name (an interface re-created, a cgroup re-made): the path is opened
    // afresh once, which also gives the failure a path-based reason.
    release_held();
    size_ = 0;
    error_number_ = 0;
    failure_errno_ = 0;
  }

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
      failure_mode_ = info.st_mode;
      return Failure::not_regular;
    }
    error_number_ = error_number;
    failure_errno_ = error_number;
    return Failure::cannot_open;
  }
  FileDescriptor file(descriptor);

  // Checked on the open descriptor, not the path: whatever was swapped in
  // after a path check is what read() would see.
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) {
    failure_errno_ = errno;
    return Failure::cannot_stat;
  }
  if (!S_ISREG(info.st_mode)) {
    failure_mode_ = info.st_mode;
    return Failure::not_regular;
  }
  // procfs reports 0 and sysfs 4096 whatever the contents; a size above the
  // limit can only be an ordinary file, refused before reading any of it.
  if (info.st_size > 0 && static_cast<std::uintmax_t>(info.st_size) > options_.max_bytes) {
    return Failure::too_large;
  }
  const Failure failure = read_contents(file.get(), false);
  if (failure == Failure::none) {
    keep_if_worth_holding(file.get());
    if (held_ == file.get()) file.release();
  }
  return failure;
}

FileReader::Failure FileReader::read_contents(int descriptor, bool positional) {
  const std::size_t max_bytes = options_.max_bytes;
  const auto read_some = [descriptor, positional](char* into, std::size_t bytes, std::size_t offset) {
    return positional ? ::pread(descriptor, into, bytes, static_cast<off_t>(offset)) : ::read(descriptor, into, bytes);
  };
  // procfs files report size 0 in stat(), so the only way to know the size
  // is to read until read() returns 0 (or, for a file made whole in one
  // read(), until one leaves room in the buffer).
  for (;;) {
    if (size_ == buffer_.size()) {
      if (buffer_.size() >= max_bytes) {
        // Full at the limit: the file fits only if nothing is left to read.
        char probe = 0;
        ssize_t probed = 0;
        do {
          probed = read_some(&probe, 1, size_);
        } while (probed < 0 && errno == EINTR);
        if (probed == 0) break;
        if (probed < 0) {
          error_number_ = errno;
          failure_errno_ = errno;
          return Failure::read_failed;
        }
        return Failure::too_large;
      }
      const std::size_t doubled = buffer_.empty() ? options_.initial_bytes : buffer_.size() * 2;
      const std::size_t grown = doubled < max_bytes ? doubled : max_bytes;
      try {
        buffer_.resize(grown);
      } catch (const std::exception&) {
        failure_bytes_ = grown;
        return Failure::out_of_memory;
      }
    }

    const std::size_t room = buffer_.size() - size_;
    const ssize_t received = read_some(buffer_.data() + size_, room, size_);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Failure::would_block;
      error_number_ = errno;
      failure_errno_ = errno;
      return Failure::read_failed;
    }
    if (received == 0) break;
    size_ += static_cast<std::size_t>(received);
    if (options_.whole_in_one_read && static_cast<std::size_t>(received) < room) break;
  }
  return Failure::none;
}

void FileReader::shrink_if_oversized() {
  const std::size_t capacity = buffer_.size();
  if (capacity <= kShrinkAboveBytes || capacity / kShrinkRatio <= size_) return;
  const std::size_t target = buffer_step_above(size_, options_.initial_bytes, options_.max_bytes);
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
