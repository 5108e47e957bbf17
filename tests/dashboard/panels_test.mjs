// The dashboard's panel modules under node, no browser: each panel resolves
// its series from a schema by family and labels, the page subscribes to what
// they resolved to, and "schema" messages through the client add and remove
// per-core rows.
//
// usage: node panels_test.mjs

import { register } from "node:module";

import { check, summary } from "./harness.mjs";

register("./asset_loader.mjs", import.meta.url);
const { describe, followSchema, resolveBinding, SchemaView } = await import("../../dashboard/schema.js");
const { PanelHost } = await import("../../dashboard/panel-host.js");
const { PANELS } = await import("../../dashboard/panels/panel-list.js");
const { entityGlob, subscriptionFor } = await import("../../dashboard/stream.js");
const { flattenFamilies, HostpulseClient } = await import("../../dashboard/hostpulse-client.js");

const json = (value) => JSON.stringify(value);
const panel = (id) => PANELS.find((p) => p.id === id);

// What the agent sends in hello: series grouped by family, host-wide ones
// first in id order, then one cpu.busy_pct per CPU.
const CPU_STATES = ["user", "nice", "system", "iowait", "irq", "softirq", "steal"];
function helloFamilies(cpus) {
  const names = ["cpu.busy_pct", ...CPU_STATES.map((s) => `cpu.${s}_pct`),
    "mem.total_bytes", "mem.used_bytes", "mem.cached_bytes", "mem.available_bytes",
    "swap.total_bytes", "swap.used_bytes", "load.1m", "load.5m", "load.15m",
    "procs.running", "procs.blocked", "system.uptime_s", "system.context_switches_per_s"];
  const families = names.map((name, id) => ({ family: name, unit: name.endsWith("_pct") ? "percent" : "count",
    kind: "gauge", decimals: 2, description: name, series: [{ id, name }] }));
  for (let cpu = 0; cpu < cpus; cpu++) {
    families[0].series.push({ id: names.length + cpu, name: `cpu.${cpu}.busy_pct`, labels: { cpu: String(cpu) } });
  }
  return families;
}
// The same as the flat entries the REST API lists (and the client makes of a hello).
const schemaOf = (cpus) => flattenFamilies(helloFamilies(cpus));

// The series list the dashboard subscribed to when it was one module with a
// hard-coded list: the panels must still ask for exactly these.
const OLD_SERIES = ["cpu.busy_pct", ...CPU_STATES.map((s) => `cpu.${s}_pct`), "cpu.*.busy_pct",
  "mem.total_bytes", "mem.used_bytes", "mem.cached_bytes", "mem.available_bytes", "swap.total_bytes", "swap.used_bytes",
  "load.1m", "load.5m", "load.15m", "procs.running", "procs.blocked", "system.uptime_s"];

// --- flattening the hello's families ------------------------------------------------------------------
{
  const flat = schemaOf(2);
  const core1 = flat.find((e) => e.name === "cpu.1.busy_pct");
  check("families flatten to one entry per series with the family's unit and kind",
    flat.length === 21 + 2 && core1.family === "cpu.busy_pct" && json(core1.labels) === json({ cpu: "1" }) &&
    core1.unit === "percent" && core1.decimals === 2, core1);
  check("a host-wide series has labels {}", json(flat.find((e) => e.name === "load.1m").labels) === json({}));
  check("describe: the agent's family and labels are kept",
    json(describe({ id: 1, name: "cpu.3.busy_pct", family: "cpu.busy_pct", labels: { cpu: "3", socket: "0" } }).labels) ===
    json({ cpu: "3", socket: "0" }));
}

// --- (1) each panel resolves its series from the schema ----------------------------------------------
{
  const entries = schemaOf(12).map(describe);
  const names = (id) => Object.fromEntries(Object.entries(new SchemaView(schemaOf(12)).resolve(panel(id)))
    .map(([key, value]) => [key, Array.isArray(value) ? value.map((e) => e.name) : value?.name ?? null]));
  // The whole-host list panels (tests/dashboard/host_panels_test.mjs) find nothing on this CPU-only schema.
  const classic = PANELS.slice(0, 6);
  check("every panel in the list has an id and bindings; every binding of the classic six resolves, of the rest none",
    PANELS.length === 14 && classic.every((p) => p.id && Object.values(new SchemaView(schemaOf(4)).resolve(p))
      .every((value) => (Array.isArray(value) ? value.length === 4 : value !== null))) &&
    PANELS.slice(6).every((p) => p.id && Object.values(new SchemaView(schemaOf(4)).resolve(p))
      .every((value) => (Array.isArray(value) ? value.length === 0 : value === null))),
    PANELS.map((p) => p.id));
  const cpu = names("cpu");
  check("cpu panel: cpu.busy_pct and one host-wide series per state",
    cpu.busy === "cpu.busy_pct" && CPU_STATES.every((s) => cpu[s] === `cpu.${s}_pct`), cpu);
  const cores = panel("cores").model(new SchemaView(schemaOf(12)).resolve(panel("cores")));
  check("per-core panel: one row per CPU in numeric order (cpu10 after cpu9), labelled from the label",
    json(cores.rows.map((r) => r.name)) === json(Array.from({ length: 12 }, (_, i) => `cpu.${i}.busy_pct`)) &&
    cores.rows[10].label === "cpu10", cores.rows.map((r) => r.label));
  check("per-core binding leaves out the host-wide cpu.busy_pct",
    !resolveBinding(entries, { family: "cpu.busy_pct", each: "cpu" }).some((e) => e.name === "cpu.busy_pct"));
  const mem = names("mem");
  check("memory panel: used, cached, available, swap used (and totals)",
    mem.used === "mem.used_bytes" && mem.cached === "mem.cached_bytes" && mem.available === "mem.available_bytes" &&
    mem.swapUsed === "swap.used_bytes" && mem.total === "mem.total_bytes" && mem.swapTotal === "swap.total_bytes", mem);
  const load = names("load");
  check("load panel: 1, 5, 15 min and the CPUs for the reference line",
    load.load1 === "load.1m" && load.load5 === "load.5m" && load.load15 === "load.15m" && load.cpus.length === 12, load);
  const procs = names("procs");
  check("processes panel: running and blocked", procs.running === "procs.running" && procs.blocked === "procs.blocked", procs);
  check("system panel: uptime", names("system").uptime === "system.uptime_s");

  const panelsHost = new PanelHost(PANELS, new SchemaView(schemaOf(12)));
  const subscription = subscriptionFor(panelsHost.allResolved());
  check("subscription: the same series as the old hard-coded list, 12 cores as one glob",
    json([...subscription.series].sort()) === json([...OLD_SERIES].sort()), subscription.series);
  check("history: host-wide series in one request, the cores in another",
    subscription.history.length === 2 && json(subscription.history[1]) === json(["cpu.*.busy_pct"]) &&
    subscription.history[0].length === OLD_SERIES.length - 1, subscription.history);
  const noSwap = new SchemaView(schemaOf(2).filter((e) => !e.name.startsWith("swap.")));
  const withoutSwap = subscriptionFor(new PanelHost(PANELS, noSwap).allResolved());
  check("a family the agent does not have is drawn as no data and not subscribed (the agent refuses unknown names)",
    new PanelHost(PANELS, noSwap).model("mem").swapUsed === null && !withoutSwap.series.some((s) => s.startsWith("swap.")),
    withoutSwap.series);
}

// --- descriptions bound by family and labels, whatever the name ------------------------
{
  const schema = new SchemaView([
    { id: 0, name: "host_cpu_busy", family: "cpu.busy_pct", labels: {}, unit: "percent", kind: "gauge", decimals: 2 },
    { id: 1, name: "core-b", family: "cpu.busy_pct", labels: { cpu: "1" }, unit: "percent", kind: "gauge", decimals: 2 },
    { id: 2, name: "core-a", family: "cpu.busy_pct", labels: { cpu: "0" }, unit: "percent", kind: "gauge", decimals: 2 },
    { id: 3, name: "cpu.5.busy_pct", family: "cpu.busy_pct", labels: { cpu: "5", node: "1" }, unit: "percent", kind: "gauge" },
    { id: 4, name: "load.1m", family: "load.1m", labels: {}, unit: "load", kind: "gauge", decimals: 2 },
  ]);
  const host = new PanelHost(PANELS, schema);
  check("by family: rows come from family and label, ordered by the label, not by name",
    json(host.model("cores").rows.map((r) => [r.name, r.label])) === json([["core-a", "cpu0"], ["core-b", "cpu1"]]),
    host.model("cores").rows);
  check("by family: the host-wide series is the one with labels {}", host.model("cpu").busy?.name === "host_cpu_busy");
  const subscription = subscriptionFor(host.allResolved());
  check("by family: names that do not carry the label get no glob; they are subscribed by name",
    entityGlob(schema.resolve(panel("cores")).busy) === null && subscription.series.includes("core-a") &&
    subscription.series.includes("core-b") && !subscription.series.some((s) => s.includes("*")), subscription.series);
}

// --- (2) schema messages through the client: rows added and removed ----------------------------------
{
  // A WebSocket stand-in: the test plays the agent by calling receive().
  class FakeSocket {
    static last = null;
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 1;
      this.sent = [];
      FakeSocket.last = this;
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {
      this.readyState = 3;
    }
    receive(message) {
      this.onmessage({ data: JSON.stringify(message) });
    }
  }
  const client = new HostpulseClient({ url: "ws://127.0.0.1:1/api/v1/stream", WebSocket: FakeSocket, series: ["*"],
    pingIntervalMs: 60_000, connectTimeoutMs: 60_000 });
  const schema = new SchemaView();
  followSchema(client, schema);
  // A panel of our own next to the real ones: records what the host binds it to.
  const bound = [];
  const recorder = { id: "recorder", card: false, bindings: { busy: { family: "cpu.busy_pct", each: "cpu" } },
    mount: () => ({ bind: (model) => bound.push(model.busy.map((e) => e.name)), draw() {} }) };
  // The real panels need a DOM to mount: their models are what they draw.
  const host = new PanelHost(PANELS, schema);
  new PanelHost([recorder], schema).mount(null, { document: null, xRange: () => [0, 1], view: () => null, info: () => null });
  const schemaEvents = [];
  client.on("schema", (message) => schemaEvents.push(message.seq));
  const rows = () => host.model("cores").rows.map((r) => r.name);
  const cpus = (...list) => list.map((n) => `cpu.${n}.busy_pct`);

  client.start();
  const hello = { type: "hello", protocol: 2, version: "0", host: "box", interval_ms: 1000, seq: 10, started_t: 1,
    schema_version: 1, families: helloFamilies(4) };
  FakeSocket.last.receive(hello);
  check("hello: the per-core panel has one row per CPU of its schema", json(rows()) === json(cpus(0, 1, 2, 3)), rows());
  const base = schemaOf(4).length;
  const cpuFamily = (series) => [{ family: "cpu.busy_pct", unit: "percent", kind: "gauge", decimals: 2, description: "busy", series }];
  FakeSocket.last.receive({ type: "schema", version: 2, seq: 12,
    added: cpuFamily([{ id: base, name: "cpu.4.busy_pct", labels: { cpu: "4" } }]), retired: [] });
  check("the client surfaces the schema message as a \"schema\" event", json(schemaEvents) === json([12]), schemaEvents);
  check("schema added a CPU: the per-core panel has a new row, in CPU order", json(rows()) === json(cpus(0, 1, 2, 3, 4)), rows());
  check("schema added a CPU: the load panel's CPU count follows", host.model("load").cpus.length === 5);
  check("schema added a CPU: the glob subscription already covers it",
    subscriptionFor(host.allResolved()).series.includes("cpu.*.busy_pct"));
  check("a mounted panel is bound again with the new series", json(bound.at(-1)) === json(cpus(0, 1, 2, 3, 4)), bound.at(-1));
  const cpu2 = schemaOf(4).find((e) => e.name === "cpu.2.busy_pct").id;
  FakeSocket.last.receive({ type: "schema", version: 3, seq: 20, added: [], retired: [cpu2] });
  check("schema retired a CPU: its row is removed", json(rows()) === json(cpus(0, 1, 3, 4)), rows());
  check("a retired series keeps its unit for old points (alerts, export)", schema.byName("cpu.2.busy_pct")?.unit === "percent");
  const bindsBefore = bound.length;
  FakeSocket.last.receive({ type: "schema", version: 3, seq: 21, added: [], retired: [cpu2] });
  check("a repeated retirement changes nothing", bound.length === bindsBefore && json(rows()) === json(cpus(0, 1, 3, 4)));
  FakeSocket.last.receive({ type: "schema", version: 4, seq: 30,
    added: cpuFamily([{ id: base + 1, name: "cpu.2.busy_pct", labels: { cpu: "2" } }]), retired: [] });
  check("a CPU back online under a new id gets its row again", json(rows()) === json(cpus(0, 1, 2, 3, 4)), rows());
  // The agent restarted with 2 CPUs: a new hello replaces the whole schema.
  FakeSocket.last.onclose({ code: 1006, reason: "" });
  client.connectNow();
  FakeSocket.last.receive({ ...hello, started_t: 2, families: helloFamilies(2) });
  check("a new hello replaces the schema: rows of the new agent only", json(rows()) === json(cpus(0, 1)), rows());
  client.stop();
}

process.exit(summary("panels_test"));
