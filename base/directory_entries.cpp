#include "base/directory_entries.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace hostpulse {
namespace {

// The fixed head of a struct linux_dirent64 (the kernel's layout; glibc's
// struct dirent64 has the same one but only recent glibc wraps the call).
// Read with memcpy: entries in the buffer are 8-byte aligned by the kernel,
// but the buffer is a char array as far as the compiler knows.
constexpr std::size_t kReclenOffset = 16;  // after d_ino, d_off (8 bytes each)
constexpr std::size_t kTypeOffset = 18;
constexpr std::size_t kNameOffset = 19;

// Closes on every return path.
class Descriptor {
 public:
  explicit Descriptor(int descriptor) : descriptor_(descriptor) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  // Not retried on EINTR: Linux releases the descriptor anyway.
  ~Descriptor() { ::close(descriptor_); }
  [[nodiscard]] int get() const { return descriptor_; }

 private:
  int descriptor_;
};

}  // namespace

DirectoryEntries::DirectoryEntries(std::size_t max_entries, std::size_t name_bytes)
    : read_buffer_(new char[kReadBufferBytes]), names_(name_bytes), entries_(max_entries) {}

bool DirectoryEntries::keep(std::string_view name, unsigned char type) {
  if (count_ == entries_.size() || names_.size() - names_used_ < name.size()) return false;
  char* const stored = names_.data() + names_used_;
  std::memcpy(stored, name.data(), name.size());
  names_used_ += name.size();
  entries_[count_++] = DirectoryEntry{.name = std::string_view(stored, name.size()), .type = type};
  return true;
}

int DirectoryEntries::list(const char* path) {
  count_ = 0;
  names_used_ = 0;
  dropped_ = 0;

  int descriptor = -1;
  do {
    descriptor = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (descriptor < 0 && errno == EINTR);
  if (descriptor < 0) return errno;
  const Descriptor directory(descriptor);

  for (;;) {
    const long received = ::syscall(SYS_getdents64, directory.get(), read_buffer_.get(), kReadBufferBytes);
    if (received < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      count_ = 0;
      return error_number;
    }
    if (received == 0) return 0;

    const auto length = static_cast<std::size_t>(received);
    std::size_t offset = 0;
    while (offset + kNameOffset <= length) {
      const char* const record = read_buffer_.get() + offset;
      std::uint16_t record_length = 0;
      std::memcpy(&record_length, record + kReclenOffset, sizeof record_length);
      // A record that cannot hold its own head, or runs past what the
      // kernel returned, would send the scan out of bounds.
      if (record_length < kNameOffset || offset + record_length > length) {
        count_ = 0;
        return EIO;
      }
      const auto type = static_cast<unsigned char>(record[kTypeOffset]);
      // The name is NUL-terminated inside the record (padding follows).
      const std::size_t name_room = record_length - kNameOffset;
      const char* const name_start = record + kNameOffset;
      const void* const terminator = std::memchr(name_start, '\0', name_room);
      const std::size_t name_length = terminator == nullptr
                                          ? name_room
                                          : static_cast<std::size_t>(static_cast<const char*>(terminator) - name_start);
      const std::string_view name(name_start, name_length);
      if (name != "." && name != ".." && !keep(name, type)) ++dropped_;
      offset += record_length;
    }
  }
}

}  // namespace hostpulse
