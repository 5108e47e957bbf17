// Per core: a heat map with one row per CPU (family cpu.busy_pct, one series
// per "cpu" label) and one column per pixel of the window, each cell the
// average of the points it covers. Rows follow the schema: a CPU added at run
// time gets a row (empty until its first point), a retired one loses it.
import { css } from "{{asset:chart.js}}";
import { clock, percent } from "{{asset:format.js}}";

// The list beside the map names the few cores worth a look, not a ranking of all.
const BUSIEST_COUNT = 5;
// Long enough to smooth one noisy tick, short enough to name what is busy now.
const BUSIEST_SPAN_MS = 10_000;

// The rows to draw, in CPU order: {name, label}.
export function coreRows(resolved) {
  return resolved.busy.map((entry) => ({ name: entry.name, label: `cpu${entry.labels.cpu}` }));
}

// Rows shrink with the CPU count so 64-256 cores stay on one screen.
export function rowHeight(count) {
  return count <= 8 ? 14 : count <= 32 ? 8 : count <= 64 ? 5 : count <= 128 ? 3 : 2;
}

function heatColour(p) {
  // dark blue -> cyan -> yellow -> red
  const stops = [[40, 60, 120], [40, 160, 200], [240, 210, 60], [230, 60, 40]];
  const x = Math.min(1, Math.max(0, p / 100)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, j) => Math.round(c + (stops[i + 1][j] - c) * f));
}

const MARKUP = `
  <div class="heat">
    <canvas id="heatmap" role="img" aria-label="Heat map of busy percentage per CPU over time"></canvas>
    <ol id="busiest" class="busiest" aria-label="Busiest cores (last 10 s)"></ol>
  </div>
  <div class="heat-foot">
    <span id="heat-readout" class="muted" aria-live="off">Hover the map for a value.</span>
    <span class="scale" aria-hidden="true"><span>0 %</span><i></i><span>100 %</span></span>
  </div>`;

export default {
  id: "cores",
  title: "Per core",
  subtitle: "busy %, one row per CPU",
  wide: true,
  bindings: { busy: { family: "cpu.busy_pct", each: "cpu" } },
  model: (resolved) => ({ rows: coreRows(resolved) }),
  mount(body, ctx) {
    body.insertAdjacentHTML("beforeend", MARKUP);
    const canvas = body.querySelector("#heatmap");
    const list = body.querySelector("#busiest");
    const readout = body.querySelector("#heat-readout");
    let rows = [];
    let lastView = null;
    const heat = { rowHeight: 8, columns: 0, from: 0, bucketMs: 1000 };
    const instance = {
      busiest: [],  // [{row, name, label, value}], busiest first
      bind(model) {
        rows = model.rows;
        if (lastView) instance.draw(lastView);
      },
      draw(v) {
        lastView = v;
        drawHeatmap(v);
      },
      resize() {
        if (lastView) drawHeatmap(lastView);
      },
    };

    function drawHeatmap(v) {
      const height = rows.length * rowHeight(rows.length);
      const width = Math.max(100, Math.floor(canvas.getBoundingClientRect().width)) || 600;
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
        canvas.style.height = `${height}px`;
      }
      if (!rows.length) {
        instance.busiest = [];
        list.replaceChildren();
        return;
      }
      const context = canvas.getContext("2d");
      const image = context.createImageData(width, height);
      const [fromS, toS] = ctx.xRange();
      const from = fromS * 1000;
      const bucketMs = (toS - fromS) * 1000 / width;
      heat.rowHeight = rowHeight(rows.length);
      heat.from = from;
      heat.bucketMs = bucketMs;
      heat.columns = width;
      const empty = css("--grid");
      const emptyRgb = empty.startsWith("#") && empty.length === 7
        ? [1, 3, 5].map((i) => parseInt(empty.slice(i, i + 2), 16)) : [128, 128, 128];
      const pixels = image.data;
      // Column -> first point index, so each cell averages its points.
      const startIndex = new Int32Array(width + 1);
      let k = 0;
      for (let c = 0; c <= width; c++) {
        const edge = from + c * bucketMs;
        while (k < v.t.length && v.t[k] < edge) k++;
        startIndex[c] = k;
      }
      const recentFrom = v.toMs - BUSIEST_SPAN_MS;
      const recent = [];
      rows.forEach(({ name, label }, row) => {
        const column = v.column(name);
        let recentSum = 0;
        let recentCount = 0;
        for (let i = column.length - 1; i >= 0 && v.t[i] >= recentFrom; i--) {
          if (column[i] != null) {
            recentSum += column[i];
            recentCount++;
          }
        }
        recent.push({ row, name, label, value: recentCount ? recentSum / recentCount : null });
        let last = null;
        for (let c = 0; c < width; c++) {
          let sum = 0;
          let count = 0;
          for (let i = startIndex[c]; i < startIndex[c + 1]; i++) {
            if (column[i] != null) {
              sum += column[i];
              count++;
            }
          }
          // Wide windows have more columns than points: carry the last value across the pixel gap.
          let value = count ? sum / count : null;
          if (value == null && startIndex[c] === startIndex[c + 1] && last != null && startIndex[c] > 0 && startIndex[c] < v.t.length) value = last;
          if (value != null) last = value;
          const rgb = value == null ? emptyRgb : heatColour(value);
          for (let y = row * heat.rowHeight; y < (row + 1) * heat.rowHeight; y++) {
            const p = (y * width + c) * 4;
            pixels[p] = rgb[0];
            pixels[p + 1] = rgb[1];
            pixels[p + 2] = rgb[2];
            pixels[p + 3] = 255;
          }
        }
      });
      context.putImageData(image, 0, 0);
      // Busiest cores: outlined rows and a list with their recent average.
      const busiest = recent.filter((r) => r.value != null).sort((a, b) => b.value - a.value).slice(0, BUSIEST_COUNT);
      instance.busiest = busiest;
      context.strokeStyle = css("--fg");
      context.lineWidth = 1;
      // Outline only where there is data (a new agent in a 1 h window fills a sliver).
      let dataFrom = 0;
      while (dataFrom < width - 1 && startIndex[dataFrom + 1] === 0) dataFrom++;
      for (const r of busiest) context.strokeRect(dataFrom + 0.5, r.row * heat.rowHeight + 0.5, width - dataFrom - 1, Math.max(1, heat.rowHeight - 1));
      list.replaceChildren(...busiest.map((r) => {
        const item = document.createElement("li");
        const label = document.createElement("span");
        label.textContent = r.label;
        const value = document.createElement("span");
        value.textContent = percent(r.value);
        item.append(label, value);
        return item;
      }));
    }

    canvas.addEventListener("mousemove", (event) => {
      const box = canvas.getBoundingClientRect();
      const c = Math.floor(((event.clientX - box.left) / box.width) * heat.columns);
      const row = Math.floor(((event.clientY - box.top) / box.height) * (canvas.height / heat.rowHeight));
      const target = rows[row];
      if (!target || !lastView) return;
      const v = ctx.view();
      const from = heat.from + c * heat.bucketMs;
      const to = from + heat.bucketMs;
      const column = v.column(target.name);
      let sum = 0;
      let count = 0;
      let at = null;
      for (let i = 0; i < v.t.length; i++) {
        if (v.t[i] >= from && v.t[i] < to && column[i] != null) {
          sum += column[i];
          count++;
          at = v.t[i];
        }
      }
      readout.textContent = count ? `${target.label} at ${clock(at)}: ${percent(sum / count)}` : `${target.label}: no data here`;
    });
    return instance;
  },
};
