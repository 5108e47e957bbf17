#pragma once

#include "collectors/linux/proc_loadavg.hpp"
#include "collectors/linux/proc_meminfo.hpp"
#include "collectors/linux/proc_stat.hpp"
#include "collectors/linux/proc_uptime.hpp"

namespace hostpulse {

// Everything the collectors read in one tick: raw counters and gauges, no
// history and no rates (STYLE rule 4). A *_ok flag is false when that source
// failed this tick; its struct then holds nothing to trust.
struct RawSample {
  ProcStat stat;
  MemInfo memory;
  LoadAvg load;
  Uptime uptime;
  bool stat_ok = false;
  bool memory_ok = false;
  bool load_ok = false;
  bool uptime_ok = false;
};

}  // namespace hostpulse
