// The whole-host list panels (network, disks, filesystems, pressure, sensors,
// power, container, system activity) under node with a counting fake DOM
// (fake_dom.mjs): a big host's schema (64 CPUs, 50 interfaces, 30 disks, 40
// mounts, 20 sensors) and 60 ticks through the page's own PointBuffer. Checks
// what the panels show (ranking, top N and "show all", the virtual-interface
// toggle, errors only when non-zero, fullness bars, read-only marks,
// thresholds), that they appear only with their families and follow
// entities added and retired, and what a tick costs: no element created once
// the rows exist, writes bounded by what changed, none for a tick that
// changed nothing, none while collapsed.
//
// usage: node host_panels_test.mjs

import { register } from "node:module";

import { FakeDocument } from "./fake_dom.mjs";
import { check, summary } from "./harness.mjs";

register("./asset_loader.mjs", import.meta.url);
const { SchemaView } = await import("../../dashboard/schema.js");
const { PanelHost } = await import("../../dashboard/panel-host.js");
const { PANELS } = await import("../../dashboard/panels/panel-list.js");
const { makeView, PointBuffer } = await import("../../dashboard/buffer.js");
const { escapeLabelValue, subscriptionFor } = await import("../../dashboard/stream.js");
const { flattenFamilies } = await import("../../dashboard/hostpulse-client.js");
const { TOP_COUNT } = await import("../../dashboard/entity-list.js");
const format = await import("../../dashboard/format.js");

const HOST_PANELS = ["net", "disks", "fs", "pressure", "sensors", "power", "cgroup", "activity"];
const CPUS = 64;
const INTERVAL_MS = 1000;
const TICKS = 60;

// --- the big host: entities and their values per tick ---------------------------------------------

const PHYSICAL = Array.from({ length: 10 }, (_, i) => `eth${i}`);
const VIRTUAL = ["lo", ...Array.from({ length: 39 }, (_, i) => `veth${i}`)];
const INTERFACES = [...PHYSICAL, ...VIRTUAL];
const DISKS = [...Array.from({ length: 28 }, (_, i) => `sd${String.fromCharCode(97 + (i % 26))}${i >= 26 ? i : ""}`), "vg0-root", "md0"];
const MOUNTS = ["/", "/home", "/var", "/boot", "/mnt/my disk", "/srv/eth0.100",
  ...Array.from({ length: 34 }, (_, i) => `/srv/data${i}`)];
const SENSORS = [...Array.from({ length: 17 }, (_, i) => `coretemp/Core ${i}`), "coretemp/Package id 0", "nvme/Composite", "acpitz/temp1"];
const FANS = ["it87/fan1", "it87/fan2", "it87/fan3", "it87/fan4"];
const RESOURCES = ["irq", "io", "memory", "cpu"];  // not the page's order: the panel puts them in the kernel's

// A tick's value of each series; `wobble` (0 or 1) changes the text of rates without changing any rank.
function interfaceValues(name, wobble) {
  const i = INTERFACES.indexOf(name);
  const base = name === "eth3" ? 50e6 : name === "veth5" ? 90e6 : (INTERFACES.length - i) * 10_000;
  return { rx_bytes_per_s: base * (1 + wobble / 100), tx_bytes_per_s: base / 4, rx_packets_per_s: 10, tx_packets_per_s: 10,
    rx_errors_per_s: name === "eth7" ? 0.5 : 0, tx_errors_per_s: 0, rx_drops_per_s: 0, tx_drops_per_s: name === "eth2" ? 3 : 0,
    speed_bytes_per_s: 125e6, up: name === "eth9" ? 0 : 1, mtu_bytes: 1500, virtual: VIRTUAL.includes(name) ? 1 : 0 };
}
function diskValues(name, wobble) {
  const i = DISKS.indexOf(name);
  const base = name === "md0" ? 400e6 : (DISKS.length - i) * 1e6;
  return { reads_per_s: 5, writes_per_s: 5, read_bytes_per_s: base * (1 + wobble / 100), write_bytes_per_s: base / 2,
    read_await_ms: name === "md0" ? 12.5 : 0.4, write_await_ms: 1.25, util_pct: name === "md0" ? 97 : i, queue_depth: 0.5 };
}
function mountValues(name) {
  const i = MOUNTS.indexOf(name);
  const used = name === "/var" ? 96 : name === "/home" ? 10 : name === "/" ? 91 : 20 + i;
  return { size_bytes: 100 * 2 ** 30, used_bytes: used * 2 ** 30, avail_bytes: (100 - used) * 2 ** 30, used_pct: used,
    inodes_used_pct: name === "/home" ? 99 : 5, readonly: name === "/boot" ? 1 : 0 };
}
function sensorValues(name) {
  const i = SENSORS.indexOf(name);
  if (name === "nvme/Composite") return { temp_celsius: 78, temp_max_celsius: 81.8, temp_crit_celsius: 84.8 };
  if (name === "acpitz/temp1") return { temp_celsius: 90 };
  return { temp_celsius: 40 + i, temp_max_celsius: 90, temp_crit_celsius: 100 };
}
const PER_ENTITY = [
  { prefix: "net", label: "interface", entities: INTERFACES, values: interfaceValues,
    units: { rx_bytes_per_s: "bytes_per_second", tx_bytes_per_s: "bytes_per_second", speed_bytes_per_s: "bytes_per_second",
      up: "bool", virtual: "bool", mtu_bytes: "bytes" } },
  { prefix: "disk", label: "disk", entities: DISKS, values: diskValues,
    units: { read_bytes_per_s: "bytes_per_second", write_bytes_per_s: "bytes_per_second", read_await_ms: "milliseconds",
      write_await_ms: "milliseconds", util_pct: "percent", queue_depth: "count" } },
  { prefix: "fs", label: "mount", entities: MOUNTS, values: mountValues, units: { used_pct: "percent", inodes_used_pct: "percent", readonly: "bool" } },
  { prefix: "pressure", label: "resource", entities: RESOURCES, values: (name, wobble) => ({
    some_avg10_pct: name === "memory" ? 12 : 1, some_avg60_pct: 1, some_avg300_pct: 1, full_avg10_pct: 0.5, full_avg60_pct: 0.5,
    full_avg300_pct: 0.5, some_stall_pct: 2 + wobble, full_stall_pct: 1 }), units: {} },
  { prefix: "sensor", label: "sensor", entities: SENSORS, values: sensorValues, units: {} },
  { prefix: "fan", label: "fan", entities: FANS, values: (name) => ({ rpm: name === "it87/fan4" ? 0 : 1200 }), units: { rpm: "rpm" } },
  { prefix: "power", label: "supply", entities: ["BAT0", "AC"], values: (name) => (name === "AC" ? { online: 1 } : { charge_pct: 55, discharging: 1 }),
    units: {} },
  { prefix: "cpu", label: "cpu", entities: Array.from({ length: CPUS }, (_, i) => String(i)), values: (name, wobble) => ({ busy_pct: 10 + wobble }),
    units: { busy_pct: "percent" } },
];
const HOST_WIDE = (wobble) => ({
  "cpu.busy_pct": 10, "load.1m": 1, "mem.used_bytes": 2 ** 30,
  "net.rx_bytes_per_s": 51e6 + wobble, "net.tx_bytes_per_s": 13e6, "net.interfaces": INTERFACES.length,
  "disk.read_bytes_per_s": 800e6, "disk.write_bytes_per_s": 400e6,
  "cgroup.cpu_limit_cores": 2, "cgroup.cpu_used_cores": 1.5 + wobble / 10, "cgroup.cpu_used_pct": 75 + wobble * 5,
  "cgroup.memory_limit_bytes": 4 * 2 ** 30, "cgroup.memory_used_bytes": 3.8 * 2 ** 30, "cgroup.memory_used_pct": 95,
  "vm.page_ins_per_s": 100 + wobble, "vm.page_outs_per_s": 50, "vm.swap_ins_per_s": 0, "vm.swap_outs_per_s": 0, "vm.major_faults_per_s": 1,
  "vm.oom_kills": 2, "tcp.established": 120, "tcp.active_opens_per_s": 3, "tcp.passive_opens_per_s": 4, "tcp.retransmits_per_s": 0.25,
  "udp.in_errors_per_s": 0, "sockets.used": 300, "tcp.time_wait": 20, "tcp.orphan": 0, "files.open": 4096, "files.max": 65536,
  "files.used_pct": 6.25,
});
const unitOf = (field, units) => units[field] ?? (field.endsWith("_pct") ? "percent" : field.endsWith("_per_s") ? "per_second"
  : field.endsWith("celsius") ? "celsius" : field === "discharging" || field === "online" ? "bool" : field.endsWith("_bytes") ? "bytes" : "count");

// The hello's families (as the agent groups them), with names escaped as the agent does.
let nextId = 0;
function familiesFor(groups, hostWide) {
  const families = new Map();
  const add = (family, unit, series) => {
    if (!families.has(family)) families.set(family, { family, unit, kind: "gauge", decimals: 2, description: family, series: [] });
    families.get(family).series.push(series);
  };
  for (const name of Object.keys(hostWide)) add(name, unitOf(name.split(".").pop(), {}), { id: nextId++, name });
  for (const group of groups) {
    for (const entity of group.entities) {
      for (const field of Object.keys(group.values(entity, 0))) {
        add(`${group.prefix}.${field}`, unitOf(field, group.units),
          { id: nextId++, name: `${group.prefix}.${escapeLabelValue(entity)}.${field}`, labels: { [group.label]: entity } });
      }
    }
  }
  return [...families.values()];
}

function samplesAt(seq, wobble, groups = PER_ENTITY) {
  const names = [];
  const values = [];
  for (const [name, value] of Object.entries(HOST_WIDE(wobble))) {
    names.push(name);
    values.push([value]);
  }
  for (const group of groups) {
    for (const entity of group.entities) {
      for (const [field, value] of Object.entries(group.values(entity, wobble))) {
        names.push(`${group.prefix}.${escapeLabelValue(entity)}.${field}`);
        values.push([value]);
      }
    }
  }
  return { seqs: [seq], t: [seq * INTERVAL_MS], names, values };
}

function mountPanels(schema) {
  const document = new FakeDocument();
  const host = new PanelHost(PANELS.filter((p) => HOST_PANELS.includes(p.id)), schema);
  const container = document.createElement("div");
  const buffer = new PointBuffer();
  const view = () => makeView({ seq: buffer.seq, t: buffer.t, x: buffer.x, columns: buffer.columns, toMs: buffer.t.at(-1) ?? 0 });
  host.mount(container, { document, xRange: () => [0, 1], view, info: () => null });
  const card = (id) => container.children.find((c) => c.dataset.panel === id);
  // The rows as shown: [{name, cells: [text of each shown cell], tones}], for one list of a card.
  const rows = (id, list = 0) => card(id).byClass("entities")[list].children.map((item) => ({
    name: item.children[0].textContent,
    cells: item.children.slice(1).filter((c) => !c.hidden).map((c) => c.textContent),
    tones: item.children.slice(1).filter((c) => !c.hidden).map((c) => c.className.replace("entity-cell", "").trim()),
    item,
    toJSON() {
      return { name: this.name, cells: this.cells, tones: this.tones };
    },
  }));
  const button = (id, prefix) => card(id).byClass("more").find((b) => b.textContent.startsWith(prefix) && !b.hidden);
  const tick = (seq, wobble, groups) => {
    buffer.append(samplesAt(seq, wobble, groups));
    buffer.trim(300_000, 302);
    const created = document.created;
    const writes = document.writes;
    const started = process.hrtime.bigint();
    host.draw(view());
    return { created: document.created - created, writes: document.writes - writes, ns: Number(process.hrtime.bigint() - started) };
  };
  return { document, host, container, card, rows, button, tick, buffer };
}

const json = (value) => JSON.stringify(value);
const names = (list) => list.map((r) => r.name);

// --- formats of the new units --------------------------------------------------------------------
check("format: bytes per second, per second, milliseconds",
  format.bytesPerSecond(1536) === "1.5 KiB/s" && format.perSecond(0.5) === "0.50/s" && format.perSecond(1234.4) === "1234/s" &&
  format.milliseconds(0.456) === "0.46 ms" && format.milliseconds(12.5) === "12.5 ms" && format.bytesPerSecond(null) === format.NO_VALUE);
check("format: celsius, hertz, rpm, bool",
  format.celsius(84.75) === "84.8 °C" && format.hertz(3.4e9) === "3.40 GHz" && format.hertz(800e6) === "800.00 MHz" &&
  format.rpm(1199.6) === "1200 rpm" && format.yesNo(1) === "yes" && format.yesNo(0) === "no",
  [format.celsius(84.75), format.hertz(3.4e9), format.hertz(800e6)]);
check("format: an alert's value in the new units",
  format.inUnit(2048, "bytes_per_second") === "2.0 KiB/s" && format.inUnit(90, "celsius") === "90.0 °C" &&
  format.inUnit(1, "bool") === "yes" && format.inUnit(3, "milliseconds") === "3.00 ms" && format.inUnit(1200, "rpm") === "1200 rpm");

// --- only with their families --------------------------------------------------------------------
{
  const cpuOnly = new SchemaView(flattenFamilies(familiesFor([PER_ENTITY.at(-1)], { "cpu.busy_pct": 1, "load.1m": 1 })));
  const page = mountPanels(cpuOnly);
  check("an agent without the whole-host families: every list card hidden",
    HOST_PANELS.every((id) => page.card(id).hidden), HOST_PANELS.filter((id) => !page.card(id).hidden));
  check("... and none of their series subscribed",
    json(subscriptionFor(page.host.allResolved()).series) === json([]), subscriptionFor(page.host.allResolved()).series);
  const tick = page.tick(1, 0, [PER_ENTITY.at(-1)]);
  check("... and a tick draws nothing for them", tick.writes === 0 && tick.created === 0, tick);
  // The family appears at run time (a power supply plugged in).
  const power = PER_ENTITY.find((g) => g.prefix === "power");
  cpuOnly.apply({ addedSeries: flattenFamilies(familiesFor([power], {})), retired: [] });
  page.tick(2, 0, [PER_ENTITY.at(-1), power]);
  check("a family that appears brings its card", !page.card("power").hidden && page.card("net").hidden &&
    json(names(page.rows("power"))) === json(["AC", "BAT0"]), names(page.rows("power")));
}

// --- the big host ------------------------------------------------------------------------------------
const schema = new SchemaView(flattenFamilies(familiesFor(PER_ENTITY, HOST_WIDE(0))));
const page = mountPanels(schema);
console.log(`big host: ${schema.entries().length} series`);
const ticks = [];
for (let seq = 1; seq <= TICKS; seq++) ticks.push(page.tick(seq, seq % 2));
check("every list card shown", HOST_PANELS.every((id) => !page.card(id).hidden), HOST_PANELS.filter((id) => page.card(id).hidden));

const subscription = subscriptionFor(page.host.allResolved());
check("subscription: one glob per per-entity family, escaped names included (\"/mnt/my disk\", \"eth0.100\")",
  ["net.*.rx_bytes_per_s", "fs.*.used_pct", "sensor.*.temp_celsius", "fan.*.rpm", "pressure.*.some_avg10_pct", "net.rx_bytes_per_s",
    "cgroup.memory_used_pct", "files.used_pct"].every((s) => subscription.series.includes(s)) &&
  !subscription.series.some((s) => s.includes("%")) && subscription.series.length < 80,
  subscription.series);

// Network
const net = page.rows("net");
check("network: top interfaces by rx + tx, virtual ones hidden", net.length === TOP_COUNT && net[0].name === "eth3" &&
  net.every((r) => r.name.startsWith("eth")), names(net));
check("network: rx and tx of the busiest", net[0].cells[0].startsWith("↓ 4") && net[0].cells[1] === "↑ 11.9 MiB/s", net[0].cells);
const eth7 = net.find((r) => r.name === "eth7");
check("network: errors shown (as bad) only where non-zero, drops as a warning",
  eth7?.cells.includes("errors 0.50/s") && eth7.tones.includes("bad") &&
  net.filter((r) => r.cells.some((c) => c.startsWith("errors"))).length === 1 &&
  net.find((r) => r.name === "eth2")?.cells.includes("drops 3.00/s"), net.map((r) => [r.name, r.cells]));
check("network: the host-wide totals above the list", page.card("net").byClass("entity-summary")[0].textContent === "all physical: ↓ 48.6 MiB/s ↑ 12.4 MiB/s",
  page.card("net").byClass("entity-summary")[0].textContent);
const eth3Item = net[0].item;
const showVirtual = page.button("net", "show 40 virtual");
check("network: a toggle names how many virtual interfaces are hidden", showVirtual !== undefined,
  page.card("net").byClass("more").map((b) => [b.textContent, b.hidden]));
showVirtual?.click();
check("network: with virtual ones, the busiest veth leads", page.rows("net")[0].name === "veth5" && page.rows("net").length === TOP_COUNT,
  names(page.rows("net")));
page.button("net", "show all 50")?.click();
check("network: show all lists all 50", page.rows("net").length === 50, page.rows("net").length);
page.button("net", "show top")?.click();
page.button("net", "hide virtual")?.click();
check("network: back to the top physical ones, the same row elements",
  page.rows("net").length === TOP_COUNT && page.rows("net")[0].item === eth3Item, names(page.rows("net")));
check("network: a down link marked", (() => {
  page.button("net", "show all")?.click();
  const eth9 = page.rows("net").find((r) => r.name === "eth9");
  page.button("net", "show top")?.click();
  return eth9?.cells.includes("down") && eth9.tones.includes("bad");
})());

// Disks
const disks = page.rows("disks");
check("disks: by bytes/s, util % and await", disks[0].name === "md0" && disks[0].cells[0] === "r 381 MiB/s" &&
  disks[0].cells.includes("util 97.0 %") && disks[0].tones.includes("warn") && disks[0].cells.includes("await r 12.5 ms w 1.25 ms") &&
  disks[1].name === "sda" && disks.length === TOP_COUNT, disks.map((r) => [r.name, r.cells]));
const utilBar = disks[0].item.byClass("bar")[0]?.children[0];
check("disks: util drawn as a bar", utilBar?.style.width === "97%", utilBar?.style);

// Filesystems
const fs = page.rows("fs");
check("filesystems: fullest first, inodes counted as fullness", json(names(fs).slice(0, 3)) === json(["/home", "/var", "/"]), names(fs));
const varRow = fs.find((r) => r.name === "/var");
check("filesystems: used % with a bar, bytes, free, inodes; 95 % is critical, 91 % a warning",
  varRow.cells[0] === "96.0 %" && varRow.cells[1] === "96.0 GiB of 100 GiB" && varRow.cells[2] === "free 4.0 GiB" &&
  varRow.cells[3] === "inodes 5.0 %" && varRow.tones[0] === "bad" && fs.find((r) => r.name === "/").tones[0] === "warn" &&
  varRow.item.byClass("bar")[0].children[0].style.width === "96%", varRow);
check("filesystems: inodes nearly full is critical", fs[0].cells.includes("inodes 99.0 %") && fs[0].tones[3] === "bad", fs[0]);
page.button("fs", "show all 40")?.click();
const allMounts = page.rows("fs");
check("filesystems: read-only marked, odd mount names shown as they are",
  allMounts.length === 40 && allMounts.find((r) => r.name === "/boot")?.cells.includes("read-only") &&
  allMounts.some((r) => r.name === "/mnt/my disk") && allMounts.some((r) => r.name === "/srv/eth0.100"), names(allMounts));
page.button("fs", "show top")?.click();

// Pressure, sensors, power, container, activity
const pressure = page.rows("pressure");
check("pressure: cpu, memory, io, irq in that order, avg10 and this tick, high memory pressure toned",
  json(names(pressure)) === json(["cpu", "memory", "io", "irq"]) && pressure[1].cells[0] === "avg10 12.0 % / 0.5 %" &&
  pressure[1].tones[0] === "warn" && pressure[0].tones[0] === "" && /^now [23]\.0 % \/ 1\.0 %$/.test(pressure[0].cells[1]),
  pressure.map((r) => [r.name, r.cells, r.tones]));
const temps = page.rows("sensors", 0);
check("sensors: closest to critical first, against the chip's threshold or the fixed 85/95 °C",
  temps[0].name === "acpitz/temp1" && temps[0].tones[0] === "warn" && temps[0].cells.length === 1 &&
  temps[1].name === "nvme/Composite" && json(temps[1].cells) === json(["78.0 °C", "crit 84.8 °C"]) && temps[1].tones[0] === "warn" &&
  temps.find((r) => r.name === "coretemp/Core 0") === undefined && temps.length === TOP_COUNT, temps.map((r) => [r.name, r.cells, r.tones]));
const fans = page.rows("sensors", 1);
check("sensors: fans in their own list, a stopped one flagged", fans.length === 4 && fans[3].cells[0] === "0 rpm" && fans[3].tones[0] === "warn",
  fans.map((r) => [r.name, r.cells]));
const power = page.rows("power");
check("power: battery charge and discharging, AC online",
  json(power.map((r) => [r.name, r.cells])) === json([["AC", ["AC online"]], ["BAT0", ["55.0 %", "discharging"]]]), power.map((r) => r.cells));
const cgroup = page.rows("cgroup");
check("container: CPU and memory against the limits, memory near the limit toned",
  cgroup.length === 1 && /^CPU 1\.[56]0 of 2\.00 cores$/.test(cgroup[0].cells[0]) && cgroup[0].cells[1] === "memory 3.8 GiB of 4.0 GiB (95.0 %)" &&
  cgroup[0].tones[1] === "warn", cgroup[0]?.cells);
const activity = [...page.rows("activity", 0), ...page.rows("activity", 1), ...page.rows("activity", 2)];
check("system activity: paging, OOM kills, TCP, sockets and files",
  json(names(activity)) === json(["paging", "TCP", "files"]) && activity[0].cells.includes("OOM kills 2") &&
  activity[1].cells.includes("established 120") && activity[1].cells.includes("retransmits 0.25/s") &&
  !activity[1].cells.some((c) => c.startsWith("UDP")) && json(activity[2].cells) === json(["sockets 300", "open 4096 of 65536"]),
  activity.map((r) => r.cells));

// --- what a tick costs ---------------------------------------------------------------------------
{
  const shownCells = HOST_PANELS.reduce((sum, id) => sum + page.card(id).byClass("entity-cell").filter((c) => c.visible).length, 0);
  const steady = ticks.slice(5);
  const maxCreated = Math.max(...steady.map((t) => t.created));
  const maxWrites = Math.max(...steady.map((t) => t.writes));
  console.log(`ticks: first created ${ticks[0].created} elements; later at most ${maxCreated} created, ${maxWrites} writes ` +
    `(${shownCells} cells shown); median draw ${(steady.map((t) => t.ns).sort((a, b) => a - b)[steady.length >> 1] / 1e6).toFixed(2)} ms`);
  check("steady ticks create no element (rows are made once)", maxCreated === 0, steady.map((t) => t.created));
  // Each changing cell costs one text write (a bar one more): a rebuild would cost every element of every row.
  check("steady ticks write at most what changed: under one write per shown cell", maxWrites > 0 && maxWrites <= shownCells,
    [maxWrites, shownCells]);
  const same = page.tick(TICKS, 0);  // the same seq again: the buffer ignores it, nothing changed
  check("a draw with nothing new writes nothing", same.writes === 0 && same.created === 0, same);
  // Collapse every card: ticks with new values then write nothing; opening one draws its newest values.
  const toggles = HOST_PANELS.map((id) => page.card(id).firstElementChild.byClass("collapse")[0]);
  for (const toggle of toggles) toggle.click();
  check("collapsed: the card's lists hidden, the button says so", page.card("net").byClass("entity-groups")[0].hidden &&
    toggles.every((toggle) => toggle.getAttribute("aria-expanded") === "false" && toggle.textContent === "show"));
  const whileCollapsed = [page.tick(TICKS + 1, 1), page.tick(TICKS + 2, 0)];
  check("collapsed: ticks with new values draw nothing", whileCollapsed.every((t) => t.writes === 0 && t.created === 0), whileCollapsed);
  for (const toggle of toggles) toggle.click();
  check("opened again: drawn with the newest values", page.rows("net")[0].cells[0] === "↓ 47.7 MiB/s" &&
    page.card("net").byClass("entity-groups")[0].visible, page.rows("net")[0]);
  // Time, as a ratio: a host with 5x the entities must not cost more than ~5x per tick (no quadratic work).
  const small = mountPanels(new SchemaView(flattenFamilies(familiesFor(PER_ENTITY.map((g) => ({ ...g, entities: g.entities.slice(0, Math.ceil(g.entities.length / 5)) })), HOST_WIDE(0)))));
  const smallGroups = PER_ENTITY.map((g) => ({ ...g, entities: g.entities.slice(0, Math.ceil(g.entities.length / 5)) }));
  const smallTicks = [];
  for (let seq = 1; seq <= TICKS; seq++) smallTicks.push(small.tick(seq, seq % 2, smallGroups));
  const median = (list) => list.map((t) => t.ns).sort((a, b) => a - b)[list.length >> 1];
  const ratio = median(steady) / median(smallTicks.slice(5));
  console.log(`draw time big / small host: ${ratio.toFixed(2)}`);
  check("draw time grows at most linearly with the entities (big / one-fifth host under 15x)", ratio < 15, ratio);
}

// --- entities that come and go -------------------------------------------------------------------
{
  const eth3 = schema.entries().filter((e) => e.labels.interface === "eth3").map((e) => e.id);
  schema.apply({ addedSeries: [], retired: eth3 });
  const after = page.rows("net");
  check("a retired interface loses its row at once", !names(after).includes("eth3") && after.length === TOP_COUNT, names(after));
  const wlan = { prefix: "net", label: "interface", entities: ["wlan0"], units: {},
    values: (name, wobble) => ({ ...interfaceValues("eth0", wobble), rx_bytes_per_s: 70e6 }) };
  schema.apply({ addedSeries: flattenFamilies(familiesFor([wlan], {})), retired: [] });
  const groups = [...PER_ENTITY.map((g) => (g.prefix === "net" ? { ...g, entities: g.entities.filter((e) => e !== "eth3") } : g)), wlan];
  for (let seq = TICKS + 1; seq <= TICKS + 12; seq++) page.tick(seq, 0, groups);
  check("a new interface gets a row, ranked by its traffic", page.rows("net")[0].name === "wlan0", names(page.rows("net")));
}

process.exit(summary("host_panels_test"));
