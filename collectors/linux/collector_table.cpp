#include "collectors/collector_table.hpp"

#include "collectors/linux/cgroup.hpp"
#include "collectors/linux/cpufreq.hpp"
#include "collectors/linux/disks.hpp"
#include "collectors/linux/filesystems.hpp"
#include "collectors/linux/net.hpp"
#include "collectors/linux/power_supply.hpp"
#include "collectors/linux/proc_loadavg.hpp"
#include "collectors/linux/proc_meminfo.hpp"
#include "collectors/linux/proc_stat.hpp"
#include "collectors/linux/proc_uptime.hpp"
#include "collectors/linux/pressure.hpp"
#include "collectors/linux/proc_file_nr.hpp"
#include "collectors/linux/proc_net_snmp.hpp"
#include "collectors/linux/proc_net_sockstat.hpp"
#include "collectors/linux/proc_vmstat.hpp"
#include "collectors/linux/sensors.hpp"

namespace hostpulse {

// Every Linux source, in the order the sampler reads them (and the order
// their host-wide series get ids). Adding a source is adding a line here.
std::span<const SourceDefinition> platform_sources() {
  static const SourceDefinition table[] = {
      proc_stat_source(),
      proc_meminfo_source(),
      proc_loadavg_source(),
      proc_uptime_source(),
      net_source(),
      pressure_source(),
      proc_vmstat_source(),
      proc_net_snmp_source(),
      proc_net_sockstat_source(),
      proc_file_nr_source(),
      cgroup_source(),
      sensors_source(),
      cpufreq_source(),
      power_supply_source(),
      filesystems_source(),
      disks_source(),
  };
  return table;
}

std::span<const SourceDefinition> core_sources() {
  constexpr std::size_t kCoreSources = 4;
  return platform_sources().first(kCoreSources);
}

}  // namespace hostpulse
