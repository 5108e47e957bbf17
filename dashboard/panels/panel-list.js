// The panels of the page, in page order. A new panel is one module in
// dashboard/panels/ (see docs/architecture.md#dashboard) and one line here
// (plus its file in dashboard/CMakeLists.txt, which embeds it).
import cpu from "{{asset:cpu.js}}";
import cores from "{{asset:cores.js}}";
import memory from "{{asset:memory.js}}";
import load from "{{asset:load.js}}";
import procs from "{{asset:procs.js}}";
import system from "{{asset:system.js}}";
import network from "{{asset:network.js}}";
import disks from "{{asset:disks.js}}";
import filesystems from "{{asset:filesystems.js}}";
import pressure from "{{asset:pressure.js}}";
import sensors from "{{asset:sensors.js}}";
import power from "{{asset:power.js}}";
import container from "{{asset:container.js}}";
import activity from "{{asset:activity.js}}";

// The whole-host panels (network onwards) show only on an agent with their families.
export const PANELS = [cpu, cores, memory, load, procs, system, network, disks, filesystems, pressure, sensors, power,
  container, activity];
