// Memory and swap: used, cached, available, and swap used dashed.
import { lineChartPanel } from "{{asset:chart.js}}";
import { bytes } from "{{asset:format.js}}";

export default lineChartPanel({
  id: "mem",
  title: "Memory and swap",
  bindings: {
    used: { family: "mem.used_bytes" },
    cached: { family: "mem.cached_bytes" },
    available: { family: "mem.available_bytes" },
    swapUsed: { family: "swap.used_bytes" },
    // Not drawn, but subscribed so the export carries them.
    total: { family: "mem.total_bytes" },
    swapTotal: { family: "swap.total_bytes" },
  },
  lines: (colours) => [
    { binding: "used", label: "used", stroke: colours[0], width: 2, value: (u, v) => bytes(v) },
    { binding: "cached", label: "cached", stroke: colours[2], width: 1.5, value: (u, v) => bytes(v) },
    { binding: "available", label: "available", stroke: colours[5], width: 1.5, value: (u, v) => bytes(v) },
    { binding: "swapUsed", label: "swap used", stroke: colours[3], width: 1.5, dash: [6, 4], value: (u, v) => bytes(v) },
  ],
  chart: { yFormat: bytes, yRange: (u, min, max) => [0, Math.max(1, max) * 1.05] },
});
