#pragma once

// A source of one procfs file that some hosts do not have: /proc/net/snmp
// without IPv4, /proc/sys without a sysctl mount, a sandbox's partial /proc,
// or an agent pointed at a fixture tree holding only the classic files. A
// missing file is Status::absent (health: unavailable, not failing); one
// that exists but does not parse is a failure naming its path.

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/host_paths.hpp"

namespace hostpulse {

// Whether nothing is at path (as opposed to something unreadable there).
// Allocates nothing: the steady path of a source with an optional part.
inline bool procfs_path_missing(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

class OptionalProcFile {
 public:
  OptionalProcFile(const HostPaths& paths, std::string_view relative) : reader_(paths.proc_file(relative)) {}

  // Reads the file and parses it into out. why_missing says why a host may
  // lack it, for the health entry.
  template <class Raw>
  Status read(Status (*parse)(std::string_view, Raw&), Raw& out, std::string_view why_missing) {
    // Checked first, because a failed read builds an error message: a host
    // without the file would allocate every tick.
    if (procfs_path_missing(reader_.path())) return absent(why_missing);
    if (Status status = reader_.read(); !status.ok()) {
      if (procfs_path_missing(reader_.path())) return absent(why_missing);  // removed since the check
      return status;
    }
    Status status = parse(reader_.contents(), out);
    // Parser messages name the file but not where it was read from, which
    // matters when HostPaths points somewhere other than the real /proc.
    if (!status.ok()) status.error.insert(0, reader_.path() + ": ");
    return status;
  }

  [[nodiscard]] const std::string& path() const { return reader_.path(); }

 private:
  Status absent(std::string_view why_missing) const {
    return Status::absent(reader_.path() + " not present (" + std::string(why_missing) + ")");
  }

  FileReader reader_;
};

}  // namespace hostpulse
