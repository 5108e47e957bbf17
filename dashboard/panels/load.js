// Load average, with the CPU count as a dashed reference line (the CPUs the
// schema lists now, so a CPU added at run time raises it).
import { lineChartPanel } from "{{asset:chart.js}}";
import { fixed2, whole } from "{{asset:format.js}}";

export default lineChartPanel({
  id: "load",
  title: "Load average",
  subtitle: "dashed: CPU count",
  bindings: {
    load1: { family: "load.1m" },
    load5: { family: "load.5m" },
    load15: { family: "load.15m" },
    cpus: { family: "cpu.busy_pct", each: "cpu" },
  },
  lines: (colours) => [
    { binding: "load1", label: "1 min", stroke: colours[0], width: 2, value: (u, v) => fixed2(v) },
    { binding: "load5", label: "5 min", stroke: colours[1], width: 1.5, value: (u, v) => fixed2(v) },
    { binding: "load15", label: "15 min", stroke: colours[2], width: 1.5, value: (u, v) => fixed2(v) },
    { label: "CPUs", stroke: colours[6], width: 1, dash: [4, 4], points: { show: false }, value: (u, v) => whole(v) },
  ],
  chart: { yRange: (u, min, max) => [0, Math.max(1, max) * 1.1], yFormat: (v) => v.toFixed(1) },
  extra: (view, resolved, ctx) => [new Array(view.x.length).fill(resolved.cpus.length || ctx.info()?.cpu_count || 0)],
});
