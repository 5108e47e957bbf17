// hostpulse dashboard: the page's glue. The panels (dashboard/panels/, listed
// in panel-list.js) say what they show by series family and labels; the
// schema view resolves that against what the agent describes (and keeps
// doing so as series are added and retired); this module subscribes to what
// they resolved to, through the same client module users get at
// /hostpulse-client.js, keeps the points of the window, and runs the header,
// controls, alerts and export. Layout: docs/architecture.md#dashboard.
import { HostpulseClient } from "{{asset:hostpulse-client.js}}";
import { AlertsView } from "{{asset:alerts.js}}";
import { makeView, PointBuffer } from "{{asset:buffer.js}}";
import { download, exportName, toCsv, toJson } from "{{asset:export.js}}";
import { PanelHost } from "{{asset:panel-host.js}}";
import { PANELS } from "{{asset:panel-list.js}}";
import { followSchema, SchemaView } from "{{asset:schema.js}}";
import { connectionText, loadHistory, subscriptionFor } from "{{asset:stream.js}}";

// How often the reconnect countdown is redrawn: smooth enough for whole seconds.
const COUNTDOWN_REFRESH_MS = 250;

const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  hello: null,
  windowS: 300,
  paused: false,
  frozen: null,          // the view while paused
  buffer: new PointBuffer(),
  resets: 0,
  refilling: false,
  redrawQueued: false,
};

const schema = new SchemaView();
const panels = new PanelHost(PANELS, schema);
const alerts = new AlertsView(document, (name) => schema.byName(name)?.unit);
let client = null;
let subscription = { series: [], history: [] };

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
  $("connection").dataset.state = connection.state;
  $("connection-text").textContent = connectionText(connection);
}
setInterval(() => (connection.state === "reconnecting" || connection.state === "offline") && showConnection(), COUNTDOWN_REFRESH_MS);

// --- drawing -----------------------------------------------------------------------

function xRange() {
  const frozen = state.paused && state.frozen ? state.frozen : null;
  const newest = frozen ? frozen.toMs : (state.buffer.t.length ? state.buffer.t[state.buffer.t.length - 1] : Date.now());
  return [(newest - state.windowS * 1000) / 1000, newest / 1000];
}

function view() {
  if (state.paused && state.frozen) return makeView(state.frozen);
  const b = state.buffer;
  return makeView({ seq: b.seq, t: b.t, x: b.x, columns: b.columns, toMs: b.t.length ? b.t[b.t.length - 1] : Date.now() });
}

function redraw() {
  state.redrawQueued = false;
  panels.draw(view());
}

function queueRedraw() {
  if (state.paused || state.redrawQueued) return;
  state.redrawQueued = true;
  requestAnimationFrame(redraw);
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

// Fills the window from history. Live samples keep arriving meanwhile;
// history only fills in front of them.
async function refill() {
  state.refilling = true;
  $("window-status").textContent = "loading history…";
  try {
    state.buffer.prepend(await loadHistory(client, subscription.history, `${state.windowS}s`));
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

function freeze() {
  const b = state.buffer;
  const toMs = b.t.length ? b.t[b.t.length - 1] : Date.now();
  const range = b.range(toMs - state.windowS * 1000, toMs);
  return { ...range, toMs };
}

// The series the panels resolve to now. A hello's subscribe uses it, so a
// reconnect after a schema change asks for what the panels want then.
function updateSubscription() {
  subscription = subscriptionFor(panels.allResolved());
  if (client) client.options.series = subscription.series;
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

function exportCsv() {
  download(document, exportName(state.info?.host, "csv"), "text/csv", toCsv(visibleData()));
}

function exportJson() {
  download(document, exportName(state.info?.host, "json"), "application/json",
    toJson(visibleData(), { host: state.info?.host, windowS: state.windowS }));
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
  if (grew && client?.state === "connected") refill();
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
  new ResizeObserver(() => panels.resize()).observe($("charts"));
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => panels.rebuild(view()));
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
  panels.mount($("panels"), { document, xRange, view, info: () => state.info });
  wireControls();
  const response = await fetch("/api/v1/info", { cache: "no-store" });
  if (response.status === 401) return askForToken();
  if (!response.ok) throw new Error(`/api/v1/info: ${response.status}`);
  state.info = await response.json();
  showInfo(state.info);
  // The schema as of now, so the first subscribe asks for what the panels
  // show; every hello and "schema" message updates it from then on.
  schema.reset(state.info.schema);
  updateSubscription();
  schema.onChange(() => {
    updateSubscription();
    if (state.paused) redraw();
    else queueRedraw();
  });

  client = new HostpulseClient({ series: subscription.series, format: "msgpack" });
  followSchema(client, schema);
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
    alerts.loadLog();
  });
  client.on("samples", onSamples);
  client.on("alerts", (active) => alerts.setActive(active));
  client.on("alert", (event) => alerts.add(event));
  client.on("error", (error) => console.warn("hostpulse:", error.message));
  client.start();
  alerts.show();
}

// For tests and the curious: a read-only look at the page's state.
window.hostpulseDashboard = {
  get state() { return client?.state ?? "idle"; },
  get seqs() { return state.buffer.seq.slice(); },
  get windowS() { return state.windowS; },
  get gaps() { return state.buffer.gaps + (client?.gaps ?? 0); },
  get resets() { return state.resets; },
  get startedT() { return client?.startedT ?? null; },
  get busiest() { return (panels.instance("cores")?.busiest ?? []).map((r) => r.name); },
  get pointCount() { return state.buffer.seq.length; },
  get loading() { return state.refilling; },
  get rows() { return (panels.model("cores")?.rows ?? []).map((r) => r.name); },
};

main().catch((error) => {
  $("connection-text").textContent = `failed: ${error.message}`;
  console.error(error);
});
