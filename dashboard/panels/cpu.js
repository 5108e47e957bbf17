// CPU by state: the host-wide cpu.<state>_pct families stacked, so the top of
// the stack is how busy the machine is. Legend and cursor show each state's
// own value, not the running sum.
import { Chart, palette } from "{{asset:chart.js}}";
import { percent } from "{{asset:format.js}}";

export const CPU_STATES = ["user", "nice", "system", "iowait", "irq", "softirq", "steal"];

// Running sums; a missing state leaves the sum unchanged, and a point with no
// state at all stays empty.
export function stack(columns, length) {
  const stacked = [];
  let running = new Array(length).fill(0);
  let anyValue = new Array(length).fill(false);
  for (const column of columns) {
    running = running.map((sum, k) => sum + (column[k] ?? 0));
    anyValue = anyValue.map((seen, k) => seen || column[k] != null);
    stacked.push(running.map((sum, k) => (anyValue[k] ? sum : null)));
  }
  return stacked;
}

export default {
  id: "cpu",
  title: "CPU by state",
  subtitle: "% of all CPUs, stacked",
  wide: true,
  bindings: {
    // Not drawn (the stack's top is the same number), but subscribed so the export carries it.
    busy: { family: "cpu.busy_pct" },
    ...Object.fromEntries(CPU_STATES.map((state) => [state, { family: `cpu.${state}_pct` }])),
  },
  mount(body, ctx) {
    const element = document.createElement("div");
    element.id = "chart-cpu";
    element.className = "chart";
    body.append(element);
    let resolved = {};
    let raw = [];
    let chart = null;
    const build = () => {
      chart?.destroy();
      const colours = palette();
      const series = CPU_STATES.map((name, i) => ({
        label: name,
        stroke: colours[i],
        fill: colours[i] + "99",
        width: 1,
        value: (u, v, si, idx) => (idx == null ? "–" : percent(raw[si - 1]?.[idx] ?? null)),
      }));
      const bands = CPU_STATES.slice(1).map((_, i) => ({ series: [i + 2, i + 1] }));
      chart = new Chart(element, series, { xRange: ctx.xRange, yRange: [0, 100], yFormat: (v) => `${v}%`, bands, height: 240 });
    };
    build();
    return {
      bind(model) {
        resolved = model;
      },
      draw(view) {
        raw = CPU_STATES.map((state) => view.column(resolved[state]?.name));
        chart.setData(view.x, stack(raw, view.x.length));
      },
      resize: () => chart.resize(),
      rebuild: build,
    };
  },
};
