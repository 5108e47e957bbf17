#pragma once

// Parsers for sysfs attribute files: one value per file, printed by the
// kernel with a final '\n' ("45000\n", "Discharging\n"). Shared by the
// sources that read /sys/class/... (sensors, power supplies, cpufreq).

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "base/file_reader.hpp"
#include "base/quote.hpp"
#include "base/status.hpp"

namespace hostpulse::sysfs_attribute {

// sysfs shows at most one page per attribute (PAGE_SIZE); anything bigger
// was planted, so readers are capped at it.
inline constexpr std::size_t kMaxAttributeBytes = 4096;

// The buffer an attribute reader starts with: every value attribute the
// sources read per tick fits ("lowerlayerdown\n" is 15 bytes, a 64-bit number
// 21), so it is read in one read() with no page per reader; a longer one
// (a label) grows the buffer once.
inline constexpr std::size_t kAttributeBufferBytes = 32;

// How often an attribute is read: every tick (a temperature, operstate),
// whose reader keeps the file open, or now and then (a limit, the link
// speed), whose reader opens it each time rather than hold a descriptor.
enum class AttributeReads : std::uint8_t { every_tick, now_and_then };

// A reader for one sysfs attribute: capped at a page, a small buffer, and
// one read() per read (show() prints the whole value at once).
inline FileReader attribute_reader(std::string path, AttributeReads reads = AttributeReads::every_tick) {
  return FileReader(std::move(path), FileReader::Options{.max_bytes = kMaxAttributeBytes,
                                                         .initial_bytes = kAttributeBufferBytes,
                                                         .whole_in_one_read = true,
                                                         .hold_descriptor = reads == AttributeReads::every_tick});
}

// Reads between two reads of an attribute that rarely changes: link speed
// and MTU (they change on renegotiation or an administrator's command),
// sensor limits (set by the driver or a one-off sensors -s). At the default
// 1 s interval a changed one shows within 30 s, and a tick reads one file
// per interface or sensor instead of three.
inline constexpr std::uint32_t kRarelyChangingRereadReads = 30;

// When an entity's rarely changing attributes are read again: at its first
// read, then every `period` reads, or at the next read once asked to.
class RereadSchedule {
 public:
  explicit RereadSchedule(std::uint32_t period = kRarelyChangingRereadReads) : period_(period == 0 ? 1 : period) {}
  // Whether this read reads them; counts the read.
  bool due() {
    if (reads_left_ == 0) {
      reads_left_ = period_ - 1;
      return true;
    }
    --reads_left_;
    return false;
  }
  // The next due() is true (the entity changed in a way that may change them).
  void now() { reads_left_ = 0; }

 private:
  std::uint32_t period_;
  std::uint32_t reads_left_ = 0;
};

// Errors a driver's show() gives for hardware that has no reading now (a fan
// header with nothing on it, an NVMe drive asleep, an empty battery slot, an
// I2C chip that timed out, a Wi-Fi thermal zone while the radio is off),
// and ENOENT for an entity that went away between listing and reading: no
// value this tick, not a broken source. A permission error is not among
// them: that is a setup problem health should show.
inline bool is_no_value_error(int error_number) {
  switch (error_number) {
    case EIO:
    case ENODATA:
    case ENXIO:
    case ENODEV:
    case ETIMEDOUT:
    case EAGAIN:
    case EINVAL:
    case EOPNOTSUPP:
    case EBUSY:
    case EREMOTEIO:
    case ENOENT:
      return true;
    default:
      return false;
  }
}

// The one line of an attribute, without its '\n'. A missing final newline
// means a cut read (a cut "45000" would parse as a smaller number), a second
// line means this is not an attribute file.
inline Status parse_line(std::string_view text, std::string_view file_name, std::string_view& line) {
  if (text.empty()) return Status::failure(std::string(file_name) + ": file is empty");
  if (text.back() != '\n') {
    return Status::failure(std::string(file_name) + ": text does not end with a newline (truncated read?)");
  }
  text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) {
    return Status::failure(std::string(file_name) + ": expected one line, found more");
  }
  line = text;
  return Status::success();
}

// A whole-token decimal integer, sign allowed ("-5000": 5 degrees below
// zero is a valid outdoor reading). "45.0", "0x10", "+5", " 5", "" are not.
inline Status parse_integer(std::string_view text, std::string_view file_name, std::int64_t& value) {
  std::string_view line;
  if (Status status = parse_line(text, file_name, line); !status.ok()) return status;
  const char* const end = line.data() + line.size();
  const auto [stop, error] = std::from_chars(line.data(), end, value);
  if (error == std::errc::result_out_of_range) {
    return Status::failure(std::string(file_name) + ": value " + quote(line) + " does not fit in 64 bits");
  }
  if (error != std::errc{} || stop != end || line.empty()) {
    return Status::failure(std::string(file_name) + ": expected an integer, got " +
                           (line.empty() ? std::string("nothing") : quote(line)));
  }
  return Status::success();
}

// Whether text can be part of an entity key as it is: not empty, no more
// than max_bytes, no control bytes (they would make the key unreadable in a
// log or on the dashboard) and no '/' (it separates chip from sensor).
inline bool usable_name(std::string_view text, std::size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '/') return false;
  }
  return true;
}

}  // namespace hostpulse::sysfs_attribute
