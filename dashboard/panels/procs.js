// Processes running and blocked, as steps (they are counts).
import { lineChartPanel } from "{{asset:chart.js}}";
import { whole } from "{{asset:format.js}}";

const steps = () => uPlot.paths.stepped({ align: 1 });

export default lineChartPanel({
  id: "procs",
  title: "Processes",
  bindings: {
    running: { family: "procs.running" },
    blocked: { family: "procs.blocked" },
  },
  lines: (colours) => [
    { binding: "running", label: "running", stroke: colours[0], width: 1.5, paths: steps(), value: (u, v) => whole(v) },
    { binding: "blocked", label: "blocked", stroke: colours[3], width: 1.5, paths: steps(), value: (u, v) => whole(v) },
  ],
  chart: { yRange: (u, min, max) => [0, Math.max(2, max) * 1.15], yFormat: (v) => (Number.isInteger(v) ? String(v) : "") },
});
