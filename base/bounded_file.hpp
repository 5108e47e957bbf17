#pragma once

#include <cstddef>
#include <string>

#include "base/file_reader.hpp"
#include "base/status.hpp"

namespace hostpulse {

// Every file a configuration names (the config file, rules files, the token
// file) is read through here, so none of them can hang start-up or a reload,
// or fill memory: opened with O_NONBLOCK (a FIFO with no writer cannot block
// the open), refused unless fstat() says it is a regular file (directories,
// FIFOs, sockets and devices such as /dev/zero), and refused past max_bytes
// (also when the file grows while it is read). Errors start with the path:
//   "/etc/hostpulse/conf.d: is a directory, not a regular file"
//   "/dev/zero: is a character device, not a regular file"
Status read_bounded_file(const std::string& path, std::size_t max_bytes, std::string& out);

}  // namespace hostpulse
