// The whole-host sources' parsers (network, disks, mounts, pressure, vmstat,
// snmp, sockstat, file-nr, cgroup, sysfs attributes) as a hostile --procfs or
// --sysfs tree might hand them over. The first byte picks the parser, the
// rest is the file, so one target and one corpus cover every format.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "collectors/linux/cgroup.hpp"
#include "collectors/linux/cpufreq.hpp"
#include "collectors/linux/disks.hpp"
#include "collectors/linux/filesystems.hpp"
#include "collectors/linux/net.hpp"
#include "collectors/linux/power_supply.hpp"
#include "collectors/linux/pressure.hpp"
#include "collectors/linux/proc_file_nr.hpp"
#include "collectors/linux/proc_net_snmp.hpp"
#include "collectors/linux/proc_net_sockstat.hpp"
#include "collectors/linux/proc_vmstat.hpp"
#include "collectors/linux/sensors.hpp"
#include "collectors/linux/sysfs_attribute.hpp"

namespace {

using namespace hostpulse;

void parse(std::uint8_t selector, std::string_view text) {
  switch (selector % 17) {
    case 0: { NetDev out; (void)parse_proc_net_dev(text, out); break; }
    case 1: {
      std::size_t lines = 0;
      (void)parse_proc_diskstats(text, [&lines](const DiskStatsLine&) { ++lines; });
      break;
    }
    case 2: { MountTable out; (void)parse_mountinfo(text, out); break; }
    case 3: { PressureFile out; (void)parse_pressure_file(text, "cpu", out); break; }
    case 4: { VmStat out; (void)parse_proc_vmstat(text, out); break; }
    case 5: { NetSnmp out; (void)parse_proc_net_snmp(text, out); break; }
    case 6: { SockStat out; (void)parse_proc_net_sockstat(text, out); break; }
    case 7: { FileNr out; (void)parse_proc_file_nr(text, out); break; }
    case 8: { CgroupMembership out; (void)parse_cgroup_membership(text, out); break; }
    case 9: { CgroupMounts out; (void)parse_cgroup_mountinfo(text, out); break; }
    case 10: { std::optional<double> out; (void)parse_cpu_max(text, out); break; }
    case 11: { std::optional<std::uint64_t> out; (void)parse_memory_max(text, out); break; }
    case 12: { std::optional<std::uint64_t> out; (void)parse_v1_memory_limit(text, out); break; }
    case 13: { double out = 0; (void)parse_scaling_cur_freq(text, "scaling_cur_freq", out); break; }
    case 14: {
      double out = 0;
      (void)parse_capacity(text, "capacity", out);
      (void)parse_status(text, "status", out);
      (void)parse_online(text, "online", out);
      break;
    }
    case 15: { std::int64_t out = 0; (void)sysfs_attribute::parse_integer(text, "temp1_input", out); break; }
    default: {
      std::string_view line;
      (void)sysfs_attribute::parse_line(text, "name", line);
      (void)is_critical_trip(text);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  parse(data[0], std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
