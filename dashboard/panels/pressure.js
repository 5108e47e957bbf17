// Pressure stall information: the share of time some (or all) tasks waited
// for CPU, memory, I/O or IRQ, over the kernel's last 10 s, and this tick.
import { entityPanel } from "{{asset:entity-list.js}}";
import { percent } from "{{asset:format.js}}";

// Above this much stalled time the host is visibly slow for someone.
const HIGH_PCT = 10;
const ORDER = ["cpu", "memory", "io", "irq"];
const tone = (pct) => (pct >= HIGH_PCT ? "warn" : "");
const both = (some, full) => (full == null ? percent(some) : `${percent(some)} / ${percent(full)}`);

export default entityPanel({
  id: "pressure",
  title: "Pressure",
  subtitle: "some / full, % of time stalled",
  groups: [{
    id: "psi",
    label: "resource",
    fields: { some10: "pressure.some_avg10_pct", full10: "pressure.full_avg10_pct",
      someStall: "pressure.some_stall_pct", fullStall: "pressure.full_stall_pct" },
    // The kernel's order, not ranked: four rows that never move.
    sortKey: (key) => ORDER.indexOf(key),
    cells: [
      { text: (v) => `avg10 ${both(v.some10, v.full10)}`, bar: (v) => v.some10, tone: (v) => tone(v.some10) },
      { text: (v) => `now ${both(v.someStall, v.fullStall)}`, tone: (v) => tone(v.someStall) },
    ],
  }],
});
