#pragma once

#include <string>
#include <string_view>

namespace hostpulse {

// Where the kernel's pseudo-filesystems are mounted. Every collector path goes
// through here so tests (and containers with the host's /proc bind-mounted
// elsewhere) can point the agent at another root. This is the only place that
// names the real mount points (STYLE rule 3).
struct HostPaths {
  std::string proc = "/proc";
  std::string sys = "/sys";

  [[nodiscard]] std::string proc_file(std::string_view relative) const {
    return join(proc, relative);
  }
  [[nodiscard]] std::string sys_file(std::string_view relative) const {
    return join(sys, relative);
  }

 private:
  static std::string join(const std::string& root, std::string_view relative) {
    std::string path = root;
    if (path.empty() || path.back() != '/') path += '/';
    path.append(relative);
    return path;
  }
};

}  // namespace hostpulse
