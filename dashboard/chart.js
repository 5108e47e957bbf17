// The uPlot wrapper every chart panel uses: our axes and colours, one shared
// cursor, the x range of the selected window. uPlot is the global from
// uPlot.iife.min.js (loaded before the modules).
import { clock, NO_VALUE } from "{{asset:format.js}}";

export const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// The series colours of the theme (style.css --s1..--s7), read anew when the theme flips.
export const palette = () => [1, 2, 3, 4, 5, 6, 7].map((i) => css(`--s${i}`));

function axisStyle() {
  return { stroke: css("--muted"), grid: { stroke: css("--grid"), width: 1 }, ticks: { stroke: css("--grid"), width: 1 } };
}

export function chartWidth(element) {
  return Math.max(200, Math.floor(element.getBoundingClientRect().width));
}

// A uPlot chart in `element`: `series` are uPlot series options (without the
// x series), `xRange()` gives [from, to] in seconds.
export class Chart {
  constructor(element, series, { xRange, height = 220, yRange, yFormat = (v) => v, bands } = {}) {
    this.element = element;
    const axis = axisStyle();
    const opts = {
      width: chartWidth(element),
      height,
      cursor: { sync: { key: "hostpulse" }, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true, range: () => xRange() }, y: yRange ? { range: yRange } : {} },
      axes: [
        { ...axis },
        { ...axis, size: 72, values: (u, ticks) => ticks.map(yFormat) },
      ],
      series: [{ label: "time", value: (u, v) => (v == null ? NO_VALUE : clock(v * 1000)) }, ...series],
    };
    if (bands) opts.bands = bands;
    this.uplot = new uPlot(opts, [[], ...series.map(() => [])], element);
  }

  // columns: one array per series, same length as x.
  setData(x, columns) {
    this.uplot.setData([x, ...columns]);
    // Away from the cursor, the legend shows the newest values.
    const cursor = this.uplot.cursor.left;
    if (x.length && (cursor == null || cursor < 0)) this.uplot.setLegend({ idx: x.length - 1 }, false);
  }

  resize() {
    this.uplot.setSize({ width: chartWidth(this.element), height: this.uplot.height });
  }

  destroy() {
    this.uplot.destroy();
  }
}

// A panel that is one chart of lines, each line one binding. `lines(colours)`
// gives {binding, ...uPlot series options}; a binding that resolves to
// nothing is drawn as no data. `extra(view, model, ctx)` may add columns
// that are not series (a reference line).
export function lineChartPanel({ id, title, subtitle, wide, bindings, lines, chart = {}, extra }) {
  return {
    id, title, subtitle, wide, bindings,
    mount(body, ctx) {
      const element = document.createElement("div");
      element.id = `chart-${id}`;
      element.className = "chart";
      body.append(element);
      let resolved = {};
      let instance = null;
      const build = () => {
        instance?.chart.destroy();
        const specs = lines(palette());
        instance = { chart: new Chart(element, specs.map(({ binding, ...series }) => series), { xRange: ctx.xRange, ...chart }), specs };
      };
      build();
      return {
        bind(model) {
          resolved = model;
        },
        draw(view) {
          const columns = instance.specs.filter((spec) => spec.binding).map((spec) => view.column(resolved[spec.binding]?.name));
          instance.chart.setData(view.x, extra ? [...columns, ...extra(view, resolved, ctx)] : columns);
        },
        resize: () => instance.chart.resize(),
        rebuild: build,
      };
    },
  };
}
