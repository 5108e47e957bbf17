// hostpulse dashboard: live uPlot charts over the stream, through the same
// client module users get at /hostpulse-client.js. uPlot is the global from
// uPlot.iife.min.js (loaded before this module).
import { HostpulseClient } from "{{asset:hostpulse-client.js}}";

const CPU_STATES = ["user", "nice", "system", "iowait", "irq", "softirq", "steal"];
const SERIES = [
  "cpu.busy_pct",
  ...CPU_STATES.map((state) => `cpu.${state}_pct`),
  "cpu.*.busy_pct",
  "mem.total_bytes", "mem.used_bytes", "mem.cached_bytes", "mem.available_bytes",
  "swap.total_bytes", "swap.used_bytes",
  "load.1m", "load.5m", "load.15m",
  "procs.running", "procs.blocked",
  "system.uptime_s",
];
const BUSIEST_COUNT = 5;
const BUSIEST_SPAN_MS = 10_000;
const EVENT_LOG_LIMIT = 100;

const $ = (id) => document.getElementById(id);
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// ---------------------------------------------------------------------------
// Points in arrival order, one array per column, capped to the window: memory
// stays bounded in a tab left open for hours.

class PointBuffer {
  constructor() {
    this.clear();
  }

  clear() {
    this.seq = [];
    this.t = [];        // ms
    this.x = [];        // s, what uPlot takes
    this.columns = new Map();  // name -> values
    this.gaps = 0;
  }

  column(name) {
    let column = this.columns.get(name);
    if (!column) {
      column = new Array(this.seq.length).fill(null);
      this.columns.set(name, column);
    }
    return column;
  }

  lastSeq() {
    return this.seq.length ? this.seq[this.seq.length - 1] : 0;
  }

  // Appends points newer than what we hold.
  append(samples) {
    const last = this.lastSeq();
    for (let k = 0; k < samples.seqs.length; k++) {
      const seq = samples.seqs[k];
      if (seq <= last && this.seq.length) continue;
      if (this.seq.length && seq !== this.lastSeq() + 1) this.gaps++;
      this.seq.push(seq);
      this.t.push(samples.t[k]);
      this.x.push(samples.t[k] / 1000);
      const length = this.seq.length;
      for (const column of this.columns.values()) column.push(null);
      samples.names.forEach((name, i) => {
        this.column(name)[length - 1] = samples.values[i][k];
      });
    }
  }

  // Puts older points (history) in front of what we hold.
  prepend(samples) {
    const first = this.seq.length ? this.seq[0] : Infinity;
    let count = 0;
    while (count < samples.seqs.length && samples.seqs[count] < first) count++;
    if (count === 0) return;
    const names = new Set([...this.columns.keys(), ...samples.names]);
    const index = new Map(samples.names.map((name, i) => [name, i]));
    for (const name of names) {
      const column = this.column(name);
      const i = index.get(name);
      const older = i === undefined ? new Array(count).fill(null) : samples.values[i].slice(0, count);
      this.columns.set(name, older.concat(column));
    }
    this.seq = samples.seqs.slice(0, count).concat(this.seq);
    this.t = samples.t.slice(0, count).concat(this.t);
    this.x = this.t.map((t) => t / 1000);
  }

  // Drops points older than the window. Trims in steps so a 1 h window of
  // 256 cores is not shifted every second.
  trim(windowMs, maxPoints) {
    if (!this.t.length) return;
    const newest = this.t[this.t.length - 1];
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < newest - windowMs) drop++;
    drop = Math.max(drop, this.t.length - maxPoints);
    const slack = Math.max(1, Math.floor(maxPoints / 20));
    if (drop < slack && this.t.length <= maxPoints + slack) return;
    if (drop <= 0) return;
    this.seq.splice(0, drop);
    this.t.splice(0, drop);
    this.x.splice(0, drop);
    for (const column of this.columns.values()) column.splice(0, drop);
  }

  // The points with t in [from, to], as copies (for export and a paused view).
  range(fromMs, toMs) {
    let a = 0;
    while (a < this.t.length && this.t[a] < fromMs) a++;
    let b = this.t.length;
    while (b > a && this.t[b - 1] > toMs) b--;
    const out = { seq: this.seq.slice(a, b), t: this.t.slice(a, b), x: this.x.slice(a, b), columns: new Map() };
    for (const [name, column] of this.columns) out.columns.set(name, column.slice(a, b));
    return out;
  }
}

// ---------------------------------------------------------------------------

const state = {
  info: null,
  hello: null,
  windowS: 300,
  paused: false,
  frozen: null,          // the view while paused
  buffer: new PointBuffer(),
  cores: [],             // ["cpu.0.busy_pct", ...] in CPU order
  units: new Map(),      // series name -> unit, from the schema
  charts: [],
  active: [],            // active alerts
  events: [],            // newest last
  resets: 0,
  refilling: false,
  redrawQueued: false,
};

const client = new HostpulseClient({ series: SERIES, format: "msgpack" });

// --- formatting -----------------------------------------------------------

const percent = (v) => (v == null ? "–" : `${v.toFixed(1)} %`);
function bytes(v) {
  if (v == null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${(Math.sign(v) * x).toFixed(x >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}
function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const stamp = (ms) => new Date(ms).toLocaleString([], { hour12: false });

// --- header and connection ---------------------------------------------------

function showInfo(info) {
  $("host").textContent = info.host;
  $("kernel").textContent = info.kernel;
  $("cpus").textContent = String(info.cpu_count);
  $("version").textContent = info.version;
  document.title = `${info.host} · hostpulse`;
}

let connection = { state: "connecting", rttMs: null, nextAttemptAt: null };
function showConnection() {
  const box = $("connection");
  box.dataset.state = connection.state;
  let text;
  if (connection.state === "connected") {
    text = connection.rttMs == null ? "connected" : `connected · ${connection.rttMs.toFixed(connection.rttMs < 10 ? 1 : 0)} ms`;
  } else if (connection.state === "reconnecting" || connection.state === "offline") {
    const seconds = connection.nextAttemptAt ? Math.max(0, Math.ceil((connection.nextAttemptAt - Date.now()) / 1000)) : 0;
    const countdown = connection.nextAttemptAt && seconds > 0 ? ` in ${seconds} s` : "…";
    text = connection.state === "offline" ? `offline · retrying${countdown}` : `reconnecting${countdown}`;
  } else {
    text = "connecting…";
  }
  $("connection-text").textContent = text;
}
setInterval(() => (connection.state === "reconnecting" || connection.state === "offline") && showConnection(), 250);

// --- charts --------------------------------------------------------------------

function axisStyle() {
  return { stroke: css("--muted"), grid: { stroke: css("--grid"), width: 1 }, ticks: { stroke: css("--grid"), width: 1 } };
}

function chartWidth(element) {
  return Math.max(200, Math.floor(element.getBoundingClientRect().width));
}

function makeChart(element, series, { height = 220, yRange, yFormat = (v) => v, bands } = {}) {
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
    series: [{ label: "time", value: (u, v) => (v == null ? "–" : clock(v * 1000)) }, ...series],
  };
  if (bands) opts.bands = bands;
  const chart = new uPlot(opts, [[], ...series.map(() => [])], element);
  return chart;
}

function xRange() {
  const view = state.paused && state.frozen ? state.frozen : null;
  const newest = view ? view.toMs : (state.buffer.t.length ? state.buffer.t[state.buffer.t.length - 1] : Date.now());
  return [(newest - state.windowS * 1000) / 1000, newest / 1000];
}

const charts = {};

function buildCharts() {
  for (const chart of state.charts) chart.destroy();
  state.charts = [];
  const colours = [1, 2, 3, 4, 5, 6, 7].map((i) => css(`--s${i}`));

  // CPU: cumulative per state, each band filled between its neighbours; the
  // legend and tooltip show each state's own value.
  const cpuSeries = CPU_STATES.map((name, i) => ({
    label: name,
    stroke: colours[i],
    fill: colours[i] + "99",
    width: 1,
    value: (u, v, si, idx) => (idx == null ? "–" : percent(charts.cpuRaw?.[si - 1]?.[idx] ?? null)),
  }));
  const bands = CPU_STATES.slice(1).map((_, i) => ({ series: [i + 2, i + 1] }));
  charts.cpu = makeChart($("chart-cpu"), cpuSeries, { yRange: [0, 100], yFormat: (v) => `${v}%`, bands, height: 240 });

  charts.mem = makeChart($("chart-mem"), [
    { label: "used", stroke: colours[0], width: 2, value: (u, v) => bytes(v) },
    { label: "cached", stroke: colours[2], width: 1.5, value: (u, v) => bytes(v) },
    { label: "available", stroke: colours[5], width: 1.5, value: (u, v) => bytes(v) },
    { label: "swap used", stroke: colours[3], width: 1.5, dash: [6, 4], value: (u, v) => bytes(v) },
  ], { yFormat: bytes, yRange: (u, min, max) => [0, Math.max(1, max) * 1.05] });

  charts.load = makeChart($("chart-load"), [
    { label: "1 min", stroke: colours[0], width: 2, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
    { label: "5 min", stroke: colours[1], width: 1.5, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
    { label: "15 min", stroke: colours[2], width: 1.5, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
    { label: "CPUs", stroke: colours[6], width: 1, dash: [4, 4], points: { show: false }, value: (u, v) => (v == null ? "–" : String(v)) },
  ], { yRange: (u, min, max) => [0, Math.max(1, max) * 1.1], yFormat: (v) => v.toFixed(1) });

  charts.procs = makeChart($("chart-procs"), [
    { label: "running", stroke: colours[0], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? "–" : String(v)) },
    { label: "blocked", stroke: colours[3], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? "–" : String(v)) },
  ], { yRange: (u, min, max) => [0, Math.max(2, max) * 1.15], yFormat: (v) => (Number.isInteger(v) ? String(v) : "") });

  state.charts = [charts.cpu, charts.mem, charts.load, charts.procs];
  redraw();
}

function view() {
  if (state.paused && state.frozen) return state.frozen;
  const b = state.buffer;
  return { seq: b.seq, t: b.t, x: b.x, columns: b.columns, toMs: b.t.length ? b.t[b.t.length - 1] : Date.now() };
}

function col(v, name) {
  return v.columns.get(name) ?? new Array(v.x.length).fill(null);
}

function redraw() {
  state.redrawQueued = false;
  if (!charts.cpu) return;
  const v = view();
  const n = v.x.length;
  // CPU stacked: running sums; a missing state leaves the sum unchanged.
  const raw = CPU_STATES.map((name) => col(v, `cpu.${name}_pct`));
  const stacked = [];
  let running = new Array(n).fill(0);
  let anyValue = new Array(n).fill(false);
  for (const column of raw) {
    running = running.map((sum, k) => sum + (column[k] ?? 0));
    anyValue = anyValue.map((seen, k) => seen || column[k] != null);
    stacked.push(running.map((sum, k) => (anyValue[k] ? sum : null)));
  }
  charts.cpuRaw = raw;
  charts.cpu.setData([v.x, ...stacked]);
  charts.mem.setData([v.x, col(v, "mem.used_bytes"), col(v, "mem.cached_bytes"), col(v, "mem.available_bytes"), col(v, "swap.used_bytes")]);
  const cpuCount = state.info ? state.info.cpu_count : state.cores.length;
  charts.load.setData([v.x, col(v, "load.1m"), col(v, "load.5m"), col(v, "load.15m"), new Array(n).fill(cpuCount)]);
  charts.procs.setData([v.x, col(v, "procs.running"), col(v, "procs.blocked")]);
  // Away from the cursor, legends show the newest values.
  for (const chart of state.charts) {
    if (n && (chart.cursor.left == null || chart.cursor.left < 0)) chart.setLegend({ idx: n - 1 }, false);
  }
  drawHeatmap(v);
  const uptime = col(v, "system.uptime_s");
  if (n && uptime[n - 1] != null) $("uptime").textContent = duration(uptime[n - 1]);
}

function queueRedraw() {
  if (state.paused || state.redrawQueued) return;
  state.redrawQueued = true;
  requestAnimationFrame(redraw);
}

// --- per-core heat map -----------------------------------------------------------

function heatColour(p) {
  // dark blue -> cyan -> yellow -> red
  const stops = [[40, 60, 120], [40, 160, 200], [240, 210, 60], [230, 60, 40]];
  const x = Math.min(1, Math.max(0, p / 100)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, j) => Math.round(c + (stops[i + 1][j] - c) * f));
}

const heat = { rowHeight: 8, columns: 0, from: 0, bucketMs: 1000, busiest: [] };

function drawHeatmap(v) {
  const canvas = $("heatmap");
  const cores = state.cores;
  if (!cores.length) return;
  const rowHeight = cores.length <= 8 ? 14 : cores.length <= 32 ? 8 : cores.length <= 64 ? 5 : cores.length <= 128 ? 3 : 2;
  const width = Math.max(100, Math.floor(canvas.getBoundingClientRect().width)) || 600;
  const height = cores.length * rowHeight;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.height = `${height}px`;
  }
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const [fromS, toS] = xRange();
  const from = fromS * 1000;
  const bucketMs = (toS - fromS) * 1000 / width;
  heat.rowHeight = rowHeight;
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
  cores.forEach((name, row) => {
    const column = col(v, name);
    let recentSum = 0;
    let recentCount = 0;
    for (let i = column.length - 1; i >= 0 && v.t[i] >= recentFrom; i--) {
      if (column[i] != null) {
        recentSum += column[i];
        recentCount++;
      }
    }
    recent.push({ row, name, value: recentCount ? recentSum / recentCount : null });
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
      for (let y = row * rowHeight; y < (row + 1) * rowHeight; y++) {
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
  heat.busiest = busiest;
  context.strokeStyle = css("--fg");
  context.lineWidth = 1;
  // Outline only where there is data (a new agent in a 1 h window fills a sliver).
  let dataFrom = 0;
  while (dataFrom < width - 1 && startIndex[dataFrom + 1] === 0) dataFrom++;
  for (const r of busiest) context.strokeRect(dataFrom + 0.5, r.row * rowHeight + 0.5, width - dataFrom - 1, Math.max(1, rowHeight - 1));
  const list = $("busiest");
  list.replaceChildren(...busiest.map((r) => {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = r.name.replace(/^cpu\.(\d+)\.busy_pct$/, "cpu$1");
    const value = document.createElement("span");
    value.textContent = percent(r.value);
    item.append(label, value);
    return item;
  }));
}

function heatReadout(event) {
  const canvas = $("heatmap");
  const box = canvas.getBoundingClientRect();
  const c = Math.floor(((event.clientX - box.left) / box.width) * heat.columns);
  const row = Math.floor(((event.clientY - box.top) / box.height) * (canvas.height / heat.rowHeight));
  const name = state.cores[row];
  if (!name) return;
  const v = view();
  const from = heat.from + c * heat.bucketMs;
  const to = from + heat.bucketMs;
  const column = col(v, name);
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
  $("heat-readout").textContent = count
    ? `${name.replace(/^cpu\.(\d+)\.busy_pct$/, "cpu$1")} at ${clock(at)}: ${percent(sum / count)}`
    : `${name.replace(/^cpu\.(\d+)\.busy_pct$/, "cpu$1")}: no data here`;
}

// --- data flow ---------------------------------------------------------------------

function maxPoints() {
  const interval = state.hello?.interval_ms ?? state.info?.interval_ms ?? 1000;
  return Math.ceil((state.windowS * 1000) / interval) + 2;
}

function onSamples(samples) {
  state.buffer.append(samples);
  state.buffer.trim(state.windowS * 1000, maxPoints());
  queueRedraw();
}

// Fills the window from history: the cores in one request and the rest in
// another, so 256 cores × 1 h stays under the agent's per-reply limit. Live
// samples keep arriving meanwhile; history only fills in front of them.
async function refill() {
  state.refilling = true;
  const last = `${state.windowS}s`;
  $("window-status").textContent = "loading history…";
  try {
    const replies = await Promise.all([
      client.history({ series: SERIES.filter((s) => s !== "cpu.*.busy_pct"), last }),
      client.history({ series: ["cpu.*.busy_pct"], last }),
    ]);
    state.buffer.prepend(joinBySeq(replies));
    state.buffer.trim(state.windowS * 1000, maxPoints());
    $("window-status").textContent = "";
  } catch (error) {
    $("window-status").textContent = `history unavailable: ${error.message}`;
  } finally {
    state.refilling = false;
    state.frozen = state.paused ? freeze() : null;
    if (state.paused) redraw();
    else queueRedraw();
  }
}

// Columns of several history replies over the seqs they all cover (they
// were answered a moment apart).
function joinBySeq(replies) {
  const first = Math.max(...replies.map((r) => r.seqs[0] ?? Infinity));
  const last = Math.min(...replies.map((r) => r.seqs[r.seqs.length - 1] ?? -Infinity));
  const joined = { seqs: [], t: [], names: [], values: [] };
  if (!(first <= last)) return joined;
  for (const reply of replies) {
    const a = reply.seqs.indexOf(first);
    const b = reply.seqs.indexOf(last) + 1;
    if (!joined.seqs.length) {
      joined.seqs = reply.seqs.slice(a, b);
      joined.t = reply.t.slice(a, b);
    }
    joined.names.push(...reply.names);
    joined.values.push(...reply.values.map((column) => column.slice(a, b)));
  }
  return joined;
}

function freeze() {
  const b = state.buffer;
  const toMs = b.t.length ? b.t[b.t.length - 1] : Date.now();
  const range = b.range(toMs - state.windowS * 1000, toMs);
  return { ...range, toMs };
}

// --- alerts ----------------------------------------------------------------------

const SEVERITY_RANK = { critical: 3, warning: 2, nodata: 1, pending: 0 };

function showAlerts() {
  const body = $("alerts-active").tBodies[0];
  const active = [...state.active].sort((a, b) => (SEVERITY_RANK[b.state] ?? 0) - (SEVERITY_RANK[a.state] ?? 0) || a.since - b.since);
  body.replaceChildren(...active.map((alert) => {
    const row = document.createElement("tr");
    row.dataset.rule = alert.rule;
    row.dataset.state = alert.state;
    const sev = document.createElement("span");
    sev.className = `sev ${alert.state}`;
    sev.textContent = alert.state;
    const cells = [sev, `${alert.rule} · ${alert.instance}${alert.description ? " — " + alert.description : ""}`,
      alert.value == null ? "–" : formatAlertValue(alert), stamp(alert.since)];
    for (const content of cells) {
      const cell = document.createElement("td");
      cell.append(content);
      row.append(cell);
    }
    return row;
  }));
  $("alerts-none").hidden = active.length > 0;
  $("alert-count").textContent = active.length ? `${active.length} active` : "";
  const critical = active.filter((a) => a.state === "critical");
  const banner = $("critical-banner");
  banner.hidden = critical.length === 0;
  banner.textContent = critical.length
    ? `Critical: ${critical.map((a) => a.description || `${a.rule} on ${a.instance}`).join("; ")}`
    : "";
  const log = $("alert-log");
  log.replaceChildren(...state.events.slice(-EVENT_LOG_LIMIT).reverse().map((event) => {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = new Date(event.t).toISOString();
    time.textContent = stamp(event.t);
    item.append(time, `${event.rule} · ${event.instance}: ${event.from} → ${event.to}` +
      (event.value == null ? "" : ` (${formatAlertValue(event)})`));
    return item;
  }));
}

function formatAlertValue(alert) {
  const unit = state.units.get(alert.instance);
  const v = alert.value;
  if (unit === "bytes") return bytes(v);
  if (unit === "percent") return percent(v);
  if (unit === "count") return String(Math.round(v));
  if (unit === "seconds") return duration(v);
  return Number.isInteger(v) && unit !== "load" ? String(v) : v.toFixed(2);
}

async function loadAlertLog() {
  try {
    const response = await fetch("/api/v1/alerts", { cache: "no-store" });
    if (!response.ok) return;
    const body = await response.json();
    state.events = body.events ?? [];
    if (state.events.length > EVENT_LOG_LIMIT) state.events = state.events.slice(-EVENT_LOG_LIMIT);
    showAlerts();
  } catch {
    // the stream delivers new events anyway
  }
}

// --- export ----------------------------------------------------------------------

function visibleData() {
  const v = state.paused && state.frozen ? state.frozen : freeze();
  const [fromS, toS] = xRange();
  const keep = v.t.map((t) => t >= fromS * 1000 && t <= toS * 1000);
  const pick = (array) => array.filter((_, k) => keep[k]);
  const names = [...v.columns.keys()];
  return { seq: pick(v.seq), t: pick(v.t), names, values: names.map((name) => pick(v.columns.get(name))) };
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function exportName(extension) {
  const host = (state.info?.host ?? "host").replace(/[^A-Za-z0-9._-]/g, "_");
  return `hostpulse-${host}-${new Date().toISOString().replace(/[:.]/g, "-")}.${extension}`;
}

function exportCsv() {
  const d = visibleData();
  const lines = [["time", "t_ms", "seq", ...d.names].join(",")];
  for (let k = 0; k < d.t.length; k++) {
    lines.push([new Date(d.t[k]).toISOString(), d.t[k], d.seq[k], ...d.values.map((c) => (c[k] == null ? "" : c[k]))].join(","));
  }
  download(exportName("csv"), "text/csv", lines.join("\n") + "\n");
}

function exportJson() {
  const d = visibleData();
  const body = {
    host: state.info?.host ?? null,
    window_s: state.windowS,
    seq_first: d.seq[0] ?? 0,
    seq_last: d.seq[d.seq.length - 1] ?? 0,
    seq: d.seq,
    t: d.t,
    series: d.names,
    values: d.values,
  };
  download(exportName("json"), "application/json", JSON.stringify(body));
}

// --- controls ---------------------------------------------------------------------

function setWindow(seconds) {
  if (seconds === state.windowS) return;
  const grew = seconds > state.windowS;
  state.windowS = seconds;
  try {
    localStorage.setItem("hostpulse.window", String(seconds));
  } catch {
    // private mode
  }
  state.buffer.trim(seconds * 1000, maxPoints());
  if (grew && client.state === "connected") refill();
  state.frozen = state.paused ? freeze() : null;
  if (state.paused) redraw();
  else queueRedraw();
}

function setPaused(paused) {
  state.paused = paused;
  state.frozen = paused ? freeze() : null;
  const button = $("pause");
  button.setAttribute("aria-pressed", String(paused));
  button.textContent = paused ? "Resume" : "Pause";
  if (!paused) queueRedraw();
}

function wireControls() {
  let saved = null;
  try {
    saved = Number(localStorage.getItem("hostpulse.window"));
  } catch {
    // private mode
  }
  for (const input of document.querySelectorAll('input[name="window"]')) {
    if (saved && Number(input.value) === saved) {
      input.checked = true;
      state.windowS = saved;
    }
    input.addEventListener("change", () => input.checked && setWindow(Number(input.value)));
  }
  $("pause").addEventListener("click", () => setPaused(!state.paused));
  $("export-csv").addEventListener("click", exportCsv);
  $("export-json").addEventListener("click", exportJson);
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type !== "radio") return;
    if (event.key === " " && event.target === document.body) {
      event.preventDefault();
      setPaused(!state.paused);
    }
  });
  const canvas = $("heatmap");
  canvas.addEventListener("mousemove", heatReadout);
  new ResizeObserver(() => {
    for (const [element, chart] of [["chart-cpu", charts.cpu], ["chart-mem", charts.mem], ["chart-load", charts.load], ["chart-procs", charts.procs]]) {
      if (chart) chart.setSize({ width: chartWidth($(element)), height: chart.height });
    }
    drawHeatmap(view());
  }).observe($("charts"));
  // Canvas colours are not CSS: rebuild the charts when the system theme flips.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", buildCharts);
}

// --- login (only when the agent has a token) ----------------------------------------

function askForToken() {
  const form = $("login");
  form.hidden = false;
  $("login-token").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/api/v1/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: $("login-token").value }),
    });
    if (response.ok) location.reload();
    else $("login-error").textContent = response.status === 401 ? "wrong token" : `login failed (${response.status})`;
  });
}

// --- start ---------------------------------------------------------------------------

async function main() {
  wireControls();
  const response = await fetch("/api/v1/info", { cache: "no-store" });
  if (response.status === 401) return askForToken();
  if (!response.ok) throw new Error(`/api/v1/info: ${response.status}`);
  state.info = await response.json();
  showInfo(state.info);
  state.units = new Map(state.info.schema.map((s) => [s.name, s.unit]));
  state.cores = state.info.schema.map((s) => s.name).filter((name) => /^cpu\.\d+\.busy_pct$/.test(name))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  buildCharts();

  let needsRefill = true;
  client.on("state", (s) => {
    connection = s;
    showConnection();
  });
  client.on("hello", (hello) => {
    state.hello = hello;
  });
  client.on("reset", () => {
    state.resets++;
    needsRefill = true;
    state.buffer.clear();
  });
  client.on("subscribed", () => {
    if (needsRefill) refill();
    needsRefill = false;
    loadAlertLog();
  });
  client.on("samples", onSamples);
  client.on("alerts", (active) => {
    state.active = active;
    showAlerts();
  });
  client.on("alert", (event) => {
    state.events.push(event);
    if (state.events.length > EVENT_LOG_LIMIT) state.events.splice(0, state.events.length - EVENT_LOG_LIMIT);
    state.active = state.active.filter((a) => !(a.rule === event.rule && a.instance === event.instance));
    if (["pending", "warning", "critical", "nodata"].includes(event.to)) {
      state.active.push({ rule: event.rule, instance: event.instance, state: event.to, value: event.value,
        since: event.t, severity: event.severity, description: event.description });
    }
    showAlerts();
  });
  client.on("error", (error) => console.warn("hostpulse:", error.message));
  client.start();
  showAlerts();
}

// For tests and the curious: a read-only look at the page's state.
window.hostpulseDashboard = {
  get state() { return client.state; },
  get seqs() { return state.buffer.seq.slice(); },
  get windowS() { return state.windowS; },
  get gaps() { return state.buffer.gaps + client.gaps; },
  get resets() { return state.resets; },
  get startedT() { return client.startedT; },
  get busiest() { return heat.busiest.map((r) => r.name); },
  get pointCount() { return state.buffer.seq.length; },
  get loading() { return state.refilling; },
};

main().catch((error) => {
  $("connection-text").textContent = `failed: ${error.message}`;
  console.error(error);
});
