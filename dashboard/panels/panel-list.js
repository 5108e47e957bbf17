// The panels of the page, in page order. A new panel is one module in
// dashboard/panels/ (see docs/architecture.md#dashboard) and one line here
// (plus its file in dashboard/CMakeLists.txt, which embeds it).
import cpu from "{{asset:cpu.js}}";
import cores from "{{asset:cores.js}}";
import memory from "{{asset:memory.js}}";
import load from "{{asset:load.js}}";
import procs from "{{asset:procs.js}}";
import system from "{{asset:system.js}}";

export const PANELS = [cpu, cores, memory, load, procs, system];
