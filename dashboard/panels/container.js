// The agent's own cgroup (a container's view of itself): CPU and memory used
// against their limits.
import { entityPanel } from "{{asset:entity-list.js}}";
import { bytes, fixed2, percent } from "{{asset:format.js}}";

// Close to the memory limit the kernel reclaims hard, then OOM-kills.
const MEMORY_WARN_PCT = 90;

export default entityPanel({
  id: "cgroup",
  title: "Container",
  subtitle: "cgroup limits and use",
  groups: [{
    id: "cgroup",
    label: null,
    name: () => "this cgroup",
    fields: { cpuLimit: "cgroup.cpu_limit_cores", cpuUsed: "cgroup.cpu_used_cores", cpuPct: "cgroup.cpu_used_pct",
      memLimit: "cgroup.memory_limit_bytes", memUsed: "cgroup.memory_used_bytes", memPct: "cgroup.memory_used_pct" },
    cells: [
      { text: (v) => `CPU ${fixed2(v.cpuUsed)} of ${v.cpuLimit == null ? "no limit" : `${fixed2(v.cpuLimit)} cores`}`,
        bar: (v) => v.cpuPct },
      { text: (v) => `memory ${bytes(v.memUsed)} of ${v.memLimit == null ? "no limit" : bytes(v.memLimit)}`
        + (v.memPct == null ? "" : ` (${percent(v.memPct)})`),
        bar: (v) => v.memPct, tone: (v) => (v.memPct >= MEMORY_WARN_PCT ? "warn" : "") },
    ],
  }],
});
