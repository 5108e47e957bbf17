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
  // The root of the filesystems to measure: "/" on the host itself; the
  // host's / bind-mounted elsewhere (e.g. /host/root) when the agent runs in
  // a container and watches the host, like node_exporter's --path.rootfs.
  std::string rootfs = "/";

  // Whether the agent watches a host from outside its mount namespace (a
  // container with the host's root mounted): mount tables then come from
  // the host's init (proc/1/mountinfo), not the agent's own.
  [[nodiscard]] bool foreign_root() const { return rootfs != "/" && !rootfs.empty(); }

  [[nodiscard]] std::string proc_file(std::string_view relative) const {
    return join(proc, relative);
  }
  [[nodiscard]] std::string sys_file(std::string_view relative) const {
    return join(sys, relative);
  }
  // A path as the host sees it ("/home") under rootfs ("/host/root/home").
  [[nodiscard]] std::string root_file(std::string_view host_path) const {
    while (!host_path.empty() && host_path.front() == '/') host_path.remove_prefix(1);
    if (!foreign_root()) return "/" + std::string(host_path);
    return join(rootfs, host_path);
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
