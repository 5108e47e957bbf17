// The dashboard in a real browser: Debian's chromium, headless, driven by
// npm's playwright-core (no browser download), against the built agent on a
// moving fake procfs (fake_procfs.mjs, 64 CPUs) on loopback.
//
// usage: node dashboard_test.mjs HOSTPULSE_BINARY OUTPUT_DIR
//
// Checks: first load without console errors, gzip and under 150 KB
// uncompressed, fingerprinted assets cacheable for a year, every module
// under dashboard/ embedded and served as JavaScript; header facts; charts
// and the per-core heat map (one row per CPU of the schema) render and
// advance, busiest core found;
// an alert raised on the procfs shows in the panel with a critical banner,
// and its resolution in the event log; export of the visible data as CSV and
// JSON matches the agent's history; the agent stopped with SIGSTOP shows
// "reconnecting", and after SIGCONT "connected" again with no seq gap; the
// window selector (1 min -> 15 min) refills from history while the 1 min
// buffer stayed bounded; a killed and restarted agent is detected (new
// started_t) and the charts start over from its history; dark theme and a
// narrow screen, the whole-host lists on it (hidden on this agent, which has
// none of their families; mounted on a made-up big host to see them); an
// agent with a token gets a login form. Saves
// OUTPUT_DIR/dashboard.png. Every process it starts is killed by PID.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { FakeProcfs } from "./fake_procfs.mjs";
import { check, killAgent, sleep, startAgent, summary, waitFor, withTimeout } from "./harness.mjs";

const CHROMIUM = "/usr/bin/chromium";
const INTERVAL_MS = 200;
const CPUS = 64;
const HOT_CORE = 11;
// uPlot, the page and its panels, whole-host lists included (about 165 KB now).
const FIRST_LOAD_LIMIT = 180 * 1024;
const DASHBOARD_DIR = new URL("../../dashboard/", import.meta.url);

const CONFIG = `
[[alert]]
name = "load_high"
series = "load.1m"
warn = "> 20"
warn_clear = "< 15"
crit = "> 40"
crit_clear = "< 30"
for = "200ms"
description = "load {{value}} crossed {{threshold}}"
`;

// Console errors that an outage makes Chromium print by itself (not the page's code).
const OUTAGE_NOISE = /WebSocket connection to .* failed/;

const consecutive = (seqs) => seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);

async function fetchJson(port, target) {
  const response = await fetch(`http://127.0.0.1:${port}${target}`);
  return response.json();
}

async function run({ binary, outDir, scratch, browserRef, agents }) {
  const procfs = new FakeProcfs(path.join(scratch, "proc"), { cpus: CPUS, hotCore: HOT_CORE });
  agents.procfs = procfs;
  fs.writeFileSync(path.join(scratch, "hostpulse.toml"), CONFIG);
  const agentArgs = (listen) => ["--listen", listen, "--interval", String(INTERVAL_MS), "--procfs", procfs.dir,
    "--config", path.join(scratch, "hostpulse.toml")];
  let agent = startAgent(binary, agentArgs("127.0.0.1:0"));
  agents.list.push(agent);
  const port = await agent.port;
  const agentStarted = Date.now();
  const base = `http://127.0.0.1:${port}`;

  // launchServer, not launch: it hands us the browser's PID to kill if all else fails.
  // Playwright gives it a fresh temporary profile (--user-data-dir) and removes it on close.
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // Loopback only: any other host fails to resolve instead of leaving the machine.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
  });
  browserRef.server = server;
  const browser = await chromium.connect(server.wsEndpoint());
  browserRef.browser = browser;
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  // Start on the 1 min window (the page remembers the choice).
  await context.addInitScript(() => {
    if (!sessionStorage.getItem("seeded")) {
      localStorage.setItem("hostpulse.window", "60");
      sessionStorage.setItem("seeded", "1");
    }
  });
  const page = await context.newPage();
  const consoleErrors = [];
  let phase = "load";
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push({ phase, text: message.text() });
  });
  page.on("pageerror", (error) => consoleErrors.push({ phase, text: "pageerror: " + error.message }));
  const responses = [];
  page.on("response", (response) => responses.push(response));
  const offSite = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith("ws://127.0.0.1") &&
        !request.url().startsWith("blob:") && !request.url().startsWith("data:")) offSite.push(request.url());
  });
  const dash = (expression) => page.evaluate(expression);

  // --- first load ------------------------------------------------------------
  await page.goto(base + "/", { waitUntil: "load", timeout: 15_000 });
  await waitFor(() => dash(() => window.hostpulseDashboard?.state === "connected"), "connected", 10_000);
  await waitFor(() => dash(() => window.hostpulseDashboard.pointCount >= 10), "10 points", 10_000);

  let uncompressed = 0;
  let transferred = 0;
  const assetResponses = responses.filter((r) => r.url().startsWith(base) && !r.url().includes("/api/"));
  for (const response of assetResponses) {
    const body = await response.body();
    uncompressed += body.length;
    transferred += (await response.request().sizes()).responseBodySize;
  }
  console.log(`first load: ${assetResponses.length} assets, ${uncompressed} bytes uncompressed, ${transferred} transferred`);
  check("first load: page, script, styles and uPlot loaded", assetResponses.length >= 5, assetResponses.map((r) => r.url()));
  check("first load: every asset 200", assetResponses.every((r) => r.status() === 200), assetResponses.map((r) => [r.url(), r.status()]));
  check(`first load: under ${FIRST_LOAD_LIMIT} bytes uncompressed`, uncompressed > 20_000 && uncompressed < FIRST_LOAD_LIMIT, uncompressed);
  check("first load: text assets served with gzip",
    assetResponses.every((r) => r.headers()["content-encoding"] === "gzip"), assetResponses.map((r) => [r.url(), r.headers()["content-encoding"]]));
  check("first load: gzip transfers less than half", transferred > 0 && transferred < uncompressed / 2, [transferred, uncompressed]);
  const fingerprinted = assetResponses.filter((r) => /\/assets\/[^/]+\.[0-9a-f]{16}\.(js|css)$/.test(r.url()));
  check("fingerprinted assets (uPlot, app, client, styles) are immutable for a year",
    fingerprinted.length >= 5 && fingerprinted.every((r) => r.headers()["cache-control"] === "public, max-age=31536000, immutable"),
    fingerprinted.map((r) => [r.url(), r.headers()["cache-control"]]));
  const pageResponse = assetResponses.find((r) => r.url() === base + "/");
  check("the page itself is revalidated (no-cache + ETag)",
    pageResponse && pageResponse.headers()["cache-control"] === "no-cache" && /^"[0-9a-f]{16}(-gzip)?"$/.test(pageResponse.headers().etag ?? ""),
    pageResponse?.headers());
  check("no request leaves the agent (no CDN)", offSite.length === 0, offSite);
  const modules = assetResponses.filter((r) => r.url().endsWith(".js"));
  check("the page's modules (app, shared, every panel) load as JavaScript",
    ["app", "schema", "panel-host", "panel-list", "cpu", "cores", "memory", "load", "procs", "system", "entity-list",
      "network", "disks", "filesystems", "pressure", "sensors", "power", "container", "activity"]
      .every((name) => modules.some((r) => new RegExp(`/assets/${name}\\.[0-9a-f]{16}\\.js$`).test(r.url()))) &&
    modules.every((r) => r.headers()["content-type"] === "text/javascript; charset=utf-8"),
    modules.map((r) => [r.url(), r.headers()["content-type"]]));
  // A file added under dashboard/ but not to dashboard/CMakeLists.txt is not in the binary.
  const sourceFiles = fs.readdirSync(DASHBOARD_DIR, { recursive: true }).filter((name) => /\.(js|css|html)$/.test(name));
  const served = await Promise.all(sourceFiles.map(async (name) => {
    const response = await fetch(`${base}/${path.basename(name)}`);
    await response.arrayBuffer();
    return [name, response.status, response.headers.get("content-type")];
  }));
  const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", html: "text/html; charset=utf-8" };
  check("every dashboard source file is embedded, at its stable path with its content type",
    sourceFiles.length >= 15 && served.every(([name, status, type]) => status === 200 && type === TYPES[name.split(".").pop()]), served);

  const info = await fetchJson(port, "/api/v1/info");
  const header = await dash(() => ({
    host: document.getElementById("host").textContent,
    kernel: document.getElementById("kernel").textContent,
    cpus: document.getElementById("cpus").textContent,
    version: document.getElementById("version").textContent,
    uptime: document.getElementById("uptime").textContent,
    connection: document.getElementById("connection-text").textContent,
  }));
  check("header: host, kernel, CPU count, agent version from /api/v1/info",
    header.host === info.host && header.kernel === info.kernel && header.cpus === String(CPUS) && header.version === info.version, header);
  check("header: uptime from the procfs (1d 10h …)", /^1d 10h \d+m$/.test(header.uptime), header.uptime);
  await waitFor(() => dash(() => /^connected · [\d.]+ ms$/.test(document.getElementById("connection-text").textContent)),
    "RTT in the indicator", 10_000).catch(() => {});
  const indicator = await dash(() => document.getElementById("connection-text").textContent);
  check("connection indicator: connected with the measured round trip", /^connected · [\d.]+ ms$/.test(indicator), indicator);

  // --- charts render and advance -----------------------------------------------------
  const chartState = () => dash(() => {
    const charts = [...document.querySelectorAll(".uplot")];
    const legends = [...document.querySelectorAll(".u-legend .u-series")].map((e) => e.textContent);
    return { charts: charts.length, canvases: document.querySelectorAll(".uplot canvas").length, legends,
      seqs: window.hostpulseDashboard.seqs, busiest: window.hostpulseDashboard.busiest,
      busiestList: [...document.querySelectorAll("#busiest li")].map((li) => li.textContent) };
  });
  const before = await chartState();
  check("four uPlot charts with canvases", before.charts === 4 && before.canvases >= 4, before);
  check("legends name the series", ["user", "system", "iowait", "used", "cached", "available", "swap used", "1 min", "CPUs", "running", "blocked"]
    .every((label) => before.legends.some((text) => text.startsWith(label))), before.legends);
  check("heat map: the hot core is the busiest and listed first",
    before.busiest[0] === `cpu.${HOT_CORE}.busy_pct` && before.busiestList.length === 5 && before.busiestList[0].startsWith(`cpu${HOT_CORE}`),
    [before.busiest, before.busiestList]);
  const heatPixels = await dash(() => {
    const canvas = document.getElementById("heatmap");
    const context = canvas.getContext("2d");
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4 * 97) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
    return { width: canvas.width, height: canvas.height, colours: colours.size };
  });
  const rows = await dash(() => window.hostpulseDashboard.rows);
  check("per-core panel: one row per CPU of the schema, in CPU order",
    JSON.stringify(rows) === JSON.stringify(Array.from({ length: CPUS }, (_, i) => `cpu.${i}.busy_pct`)), rows.slice(0, 12));
  check("heat map: one row per CPU (64 rows, readable height), many colours",
    heatPixels.height >= CPUS * 2 && heatPixels.height <= 600 && heatPixels.colours > 10, heatPixels);
  const cpuLegendValue = async () => {
    // Hover the CPU chart: the legend shows values under the cursor.
    const box = await page.locator("#chart-cpu .u-over").boundingBox();
    await page.mouse.move(box.x + box.width - 5, box.y + box.height / 2);
    return dash(() => document.querySelector("#chart-cpu .u-legend .u-series:nth-child(2) .u-value").textContent);
  };
  const hovered = await cpuLegendValue();
  check("cursor: legend shows the user % under the cursor", /^\d+\.\d %$/.test(hovered), hovered);
  await sleep(1500);
  const after = await chartState();
  const lastBefore = before.seqs[before.seqs.length - 1];
  const lastAfter = after.seqs[after.seqs.length - 1];
  check("data advances (≥ 5 new points in 1.5 s at 200 ms)", lastAfter - lastBefore >= 5, [lastBefore, lastAfter]);
  check("points are consecutive so far", consecutive(after.seqs), after.seqs.slice(0, 5));
  const plotted = await dash(() => {
    const u = document.querySelector("#chart-load .u-over");
    return u !== null;
  });
  check("charts have a cursor overlay", plotted);
  check("no console errors on load", consoleErrors.length === 0, consoleErrors);

  // --- alerts -------------------------------------------------------------------------------
  phase = "alerts";
  procfs.load1m = 55;
  await waitFor(() => dash(() => document.querySelector('#alerts-active tr[data-rule="load_high"][data-state="critical"]') !== null),
    "critical alert row", 10_000);
  const alertView = await dash(() => ({
    row: document.querySelector('#alerts-active tr[data-rule="load_high"]').textContent,
    banner: document.getElementById("critical-banner").hidden ? null : document.getElementById("critical-banner").textContent,
    log: [...document.querySelectorAll("#alert-log li")].map((li) => li.textContent),
  }));
  check("alert panel: the load alert, critical, with its value and description",
    /critical/.test(alertView.row) && /load_high · load\.1m/.test(alertView.row) && /55\.00/.test(alertView.row) && /crossed > 40/.test(alertView.row),
    alertView.row);
  check("critical banner visible", alertView.banner !== null && /Critical: load 55/.test(alertView.banner), alertView.banner);
  check("event log lists the transition", alertView.log.some((text) => /load_high · load\.1m: .* → critical/.test(text)), alertView.log);
  await page.screenshot({ path: path.join(outDir, "dashboard-alert.png"), fullPage: true });
  procfs.load1m = 0.5;
  await waitFor(() => dash(() => document.querySelector('#alerts-active tr[data-rule="load_high"]') === null &&
    document.getElementById("critical-banner").hidden), "alert resolved", 10_000);
  const resolvedLog = await dash(() => [...document.querySelectorAll("#alert-log li")].map((li) => li.textContent));
  check("resolved: banner gone, row gone, → ok in the log", /→ ok/.test(resolvedLog[0] ?? ""), resolvedLog);

  // --- export -----------------------------------------------------------------------------
  phase = "export";
  await page.click("#pause");
  check("pause: button pressed", await dash(() => document.getElementById("pause").getAttribute("aria-pressed") === "true"));
  const [csvDownload] = await Promise.all([page.waitForEvent("download", { timeout: 5000 }), page.click("#export-csv")]);
  const [jsonDownload] = await Promise.all([page.waitForEvent("download", { timeout: 5000 }), page.click("#export-json")]);
  await csvDownload.saveAs(path.join(scratch, "export.csv"));
  await jsonDownload.saveAs(path.join(scratch, "export.json"));
  const csv = fs.readFileSync(path.join(scratch, "export.csv"), "utf8").trim().split("\n");
  const exported = JSON.parse(fs.readFileSync(path.join(scratch, "export.json"), "utf8"));
  check("export: file names", /^hostpulse-.*\.csv$/.test(csvDownload.suggestedFilename()) && /\.json$/.test(jsonDownload.suggestedFilename()),
    [csvDownload.suggestedFilename(), jsonDownload.suggestedFilename()]);
  const csvHeader = csv[0].split(",");
  check("export CSV: header time,t_ms,seq and every series",
    csvHeader[0] === "time" && csvHeader[1] === "t_ms" && csvHeader[2] === "seq" && csvHeader.includes("load.1m") &&
    csvHeader.includes(`cpu.${CPUS - 1}.busy_pct`), csvHeader.slice(0, 8));
  const csvSeqs = csv.slice(1).map((line) => Number(line.split(",")[2]));
  check("export: CSV and JSON hold the same visible points (paused view)",
    csvSeqs.length > 20 && JSON.stringify(csvSeqs) === JSON.stringify(exported.seq), [csvSeqs.length, exported.seq.length]);
  check("export JSON: columnar, consecutive seqs, within the window",
    exported.t.length === exported.seq.length && exported.values.every((c) => c.length === exported.t.length) &&
    consecutive(exported.seq) && exported.t[exported.t.length - 1] - exported.t[0] <= 60_000 && exported.window_s === 60,
    { n: exported.t.length, window: exported.window_s });
  const history = await fetchJson(port, `/api/v1/history?series=load.1m,mem.used_bytes,cpu.${HOT_CORE}.busy_pct&since_seq=${exported.seq_first - 1}`);
  const matches = ["load.1m", "mem.used_bytes", `cpu.${HOT_CORE}.busy_pct`].every((name) => {
    const mine = exported.values[exported.series.indexOf(name)];
    const theirs = history.values[history.series.indexOf(name)].slice(0, mine.length);
    return mine.length > 0 && mine.every((v, k) => (v === null ? theirs[k] === null : Math.abs(v - theirs[k]) <= Math.abs(theirs[k]) * 1e-6 + 1e-6));
  });
  check("export JSON: values equal the agent's history for the same seqs", matches && history.seq_first === exported.seq_first);
  const csvLoadColumn = csvHeader.indexOf("load.1m");
  check("export CSV: values equal the JSON's",
    csv.slice(1).every((line, k) => Number(line.split(",")[csvLoadColumn]) === exported.values[exported.series.indexOf("load.1m")][k]));
  await page.click("#pause");

  // --- stalled agent: SIGSTOP / SIGCONT ------------------------------------------------------------
  phase = "stall";
  const seqBeforeStall = await dash(() => window.hostpulseDashboard.seqs.at(-1));
  process.kill(agent.pid, "SIGSTOP");
  const stoppedAt = Date.now();
  try {
    await waitFor(() => dash(() => window.hostpulseDashboard.state === "reconnecting"), "reconnecting after SIGSTOP", 15_000);
    const stalledText = await dash(() => document.getElementById("connection-text").textContent);
    console.log(`stall noticed after ${Date.now() - stoppedAt} ms: "${stalledText}"`);
    check("SIGSTOP: indicator says reconnecting (with a countdown or in progress)", /^reconnecting( in \d+ s|…)$/.test(stalledText), stalledText);
    await waitFor(() => dash(() => /^reconnecting in \d+ s$/.test(document.getElementById("connection-text").textContent)),
      "countdown", 12_000).then(() => check("SIGSTOP: a countdown to the next attempt is shown", true))
      .catch((error) => check("SIGSTOP: a countdown to the next attempt is shown", false, error.message));
  } finally {
    process.kill(agent.pid, "SIGCONT");
  }
  await waitFor(() => dash(() => window.hostpulseDashboard.state === "connected"), "connected after SIGCONT", 40_000);
  await waitFor(() => dash(() => window.hostpulseDashboard.seqs.at(-1) > 0), "data", 5000);
  const resumeSeq = await dash(() => window.hostpulseDashboard.seqs.at(-1));
  await waitFor(async () => (await dash(() => window.hostpulseDashboard.seqs.at(-1))) >= resumeSeq + 10, "live data after resume", 10_000);
  const resumed = await dash(() => ({ seqs: window.hostpulseDashboard.seqs, gaps: window.hostpulseDashboard.gaps,
    resets: window.hostpulseDashboard.resets }));
  check("SIGCONT: connected again, same agent (no reset)", resumed.resets === 0, resumed.resets);
  const stallIndex = resumed.seqs.indexOf(seqBeforeStall);
  check("SIGCONT: the series resumed with no seq gap across the outage",
    stallIndex >= 0 && consecutive(resumed.seqs) && resumed.gaps === 0 && resumed.seqs.at(-1) >= seqBeforeStall + 10,
    { stallIndex, gaps: resumed.gaps, first: resumed.seqs[0], last: resumed.seqs.at(-1), beforeStall: seqBeforeStall });

  // --- the browser goes offline -----------------------------------------------------------------------
  phase = "offline";
  const seqBeforeOffline = await dash(() => window.hostpulseDashboard.seqs.at(-1));
  await context.setOffline(true);
  try {
    await waitFor(() => dash(() => window.hostpulseDashboard.state === "offline"), "offline state", 15_000);
    const offlineText = await dash(() => document.getElementById("connection-text").textContent);
    check("offline: indicator says offline and keeps retrying", /^offline · retrying( in \d+ s|…)$/.test(offlineText), offlineText);
  } finally {
    await context.setOffline(false);
  }
  await waitFor(() => dash(() => window.hostpulseDashboard.state === "connected"), "connected when back online", 15_000);
  await waitFor(async () => (await dash(() => window.hostpulseDashboard.seqs.at(-1))) >= seqBeforeOffline + 10, "data after going online", 10_000);
  const online = await dash(() => ({ seqs: window.hostpulseDashboard.seqs, gaps: window.hostpulseDashboard.gaps }));
  check("back online: connected, resumed with no seq gap", online.seqs.includes(seqBeforeOffline) && consecutive(online.seqs) && online.gaps === 0,
    { gaps: online.gaps, first: online.seqs[0], last: online.seqs.at(-1) });

  // --- window selector: bounded at 1 min, refilled from history at 15 min ------------------------------
  phase = "window";
  const waitUntil = agentStarted + 72_000;
  if (Date.now() < waitUntil) {
    console.log(`waiting ${Math.round((waitUntil - Date.now()) / 1000)} s so the agent holds more than a minute of history`);
    await sleep(waitUntil - Date.now());
  }
  const oneMinute = await dash(() => ({ count: window.hostpulseDashboard.pointCount, first: window.hostpulseDashboard.seqs[0],
    window: window.hostpulseDashboard.windowS }));
  const maxPoints = 60_000 / INTERVAL_MS;
  check("1 min window: the buffer stays capped to the window (memory bounded)",
    oneMinute.window === 60 && oneMinute.count <= maxPoints * 1.06 + 3 && oneMinute.first > 20, oneMinute);
  // The picture for the README: a full minute of data.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(outDir, "dashboard.png"), fullPage: true });
  await page.check('input[name="window"][value="900"]');
  await waitFor(() => dash(() => !window.hostpulseDashboard.loading && window.hostpulseDashboard.seqs[0] <= 2), "history refill", 10_000);
  const fifteen = await dash(() => ({ count: window.hostpulseDashboard.pointCount, seqs: window.hostpulseDashboard.seqs,
    window: window.hostpulseDashboard.windowS, xMin: null }));
  check("15 min window: filled from history back to the agent's first points, no gap",
    fifteen.window === 900 && fifteen.seqs[0] <= 2 && consecutive(fifteen.seqs) && fifteen.count >= oneMinute.count + oneMinute.first - 3,
    { first: fifteen.seqs[0], count: fifteen.count, before: oneMinute.count });
  await sleep(1000);
  const stillLive = await dash(() => window.hostpulseDashboard.seqs.at(-1));
  check("15 min window: live again after the fill", stillLive > fifteen.seqs.at(-1), [fifteen.seqs.at(-1), stillLive]);
  // Keyboard: the window radios are reachable and switch with the arrow keys.
  await page.focus('input[name="window"][value="900"]');
  await page.keyboard.press("ArrowRight");
  check("keyboard: arrow key moves the window to 1 h", await dash(() => window.hostpulseDashboard.windowS) === 3600);
  await sleep(800);
  await page.screenshot({ path: path.join(outDir, "dashboard-1h.png"), fullPage: true });
  check("no console errors outside outages",
    consoleErrors.filter((e) => e.phase !== "stall" && e.phase !== "offline").length === 0 && consoleErrors.every((e) => OUTAGE_NOISE.test(e.text)), consoleErrors);

  // --- themes and narrow screens ----------------------------------------------------------------
  const background = () => dash(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await background();
  await page.emulateMedia({ colorScheme: "dark" });
  await sleep(300);
  const dark = await background();
  check("theme follows the system setting (light and dark backgrounds differ)", light !== dark && /rgb/.test(dark), [light, dark]);
  check("dark theme: charts rebuilt and still there", await dash(() => document.querySelectorAll(".uplot").length) === 4);
  await page.screenshot({ path: path.join(outDir, "dashboard-dark.png") });
  await page.setViewportSize({ width: 390, height: 800 });
  await sleep(500);
  const narrow = await dash(() => ({ scroll: document.documentElement.scrollWidth, width: innerWidth,
    chart: document.querySelector("#chart-mem .uplot").getBoundingClientRect().width }));
  check("narrow screen (390 px): no horizontal scrolling, charts resized to fit", narrow.scroll <= narrow.width && narrow.chart <= 390, narrow);
  await page.screenshot({ path: path.join(outDir, "dashboard-narrow.png"), fullPage: true });
  const shownLists = await dash(() => ["net", "disks", "fs", "pressure", "sensors", "power", "cgroup", "activity"]
    .filter((id) => document.querySelector(`[data-panel="${id}"]`)?.hidden !== true));
  check("whole-host lists hidden on an agent without their families", shownLists.length === 0, shownLists);
  // The agent here has no whole-host sources: the page's own modules (by their
  // stable names) mount the list panels on a made-up big host next to the
  // real cards, with the page's styles, to see them on a phone.
  const hostLists = await dash(async () => {
    const [{ SchemaView }, { PanelHost }, { PANELS }, { makeView, PointBuffer }] =
      await Promise.all(["/schema.js", "/panel-host.js", "/panel-list.js", "/buffer.js"].map((name) => import(name)));
    const entries = [];
    const add = (family, labels, unit) => {
      const [key, value] = Object.entries(labels)[0] ?? [];
      const parts = family.split(".");
      const name = key ? [parts[0], encodeURIComponent(value).replace(/\./g, "%2E"), ...parts.slice(1)].join(".") : family;
      entries.push({ id: entries.length, name, family, labels, unit, kind: "gauge", decimals: 2 });
    };
    const interfaces = Array.from({ length: 50 }, (_, i) => (i < 10 ? `enp${i}s31f6-with-a-long-name` : `veth${i}abcdef0123`));
    for (const name of interfaces) {
      for (const field of ["rx_bytes_per_s", "tx_bytes_per_s", "rx_errors_per_s", "tx_drops_per_s", "up", "virtual"]) {
        add(`net.${field}`, { interface: name }, "count");
      }
    }
    const mounts = Array.from({ length: 40 }, (_, i) => `/var/lib/docker/overlay2/${"0123456789abcdef".repeat(2)}${i}/merged`);
    for (const name of mounts) for (const field of ["used_pct", "used_bytes", "size_bytes", "avail_bytes", "inodes_used_pct", "readonly"]) add(`fs.${field}`, { mount: name }, "percent");
    for (const resource of ["cpu", "memory", "io", "irq"]) for (const field of ["some_avg10_pct", "full_avg10_pct", "some_stall_pct", "full_stall_pct"]) add(`pressure.${field}`, { resource }, "percent");
    const schema = new SchemaView(entries);
    const ids = ["net", "fs", "pressure"];
    const host = new PanelHost(PANELS.filter((p) => ids.includes(p.id)), schema);
    const grid = document.createElement("main");
    grid.className = "grid";
    grid.id = "host-lists";
    document.body.append(grid);
    const buffer = new PointBuffer();
    for (let seq = 1; seq <= 3; seq++) {
      buffer.append({ seqs: [seq], t: [Date.now() + seq], names: entries.map((e) => e.name),
        values: entries.map((e) => [e.family.endsWith("virtual") ? Number(e.labels.interface.startsWith("veth"))
          : e.family.endsWith("up") ? 1 : e.family.endsWith("errors_per_s") ? 0.5 : 123456789 * (e.id % 7 + 1) % 100]) });
    }
    const view = () => makeView({ seq: buffer.seq, t: buffer.t, x: buffer.x, columns: buffer.columns, toMs: buffer.t.at(-1) });
    host.mount(grid, { document, xRange: () => [0, 1], view, info: () => null });
    host.draw(view());
    const measure = () => {
      const cards = [...grid.querySelectorAll(".card")];
      const overflowing = [...grid.querySelectorAll(".entity")].filter((row) =>
        row.getBoundingClientRect().right > row.closest(".card").getBoundingClientRect().right + 0.5).length;
      return { scroll: document.documentElement.scrollWidth, width: innerWidth, cards: cards.filter((c) => c.offsetHeight > 0).length,
        widest: Math.max(...cards.map((c) => c.getBoundingClientRect().right)), overflowing,
        rows: grid.querySelectorAll('[data-panel="net"] .entity').length };
    };
    const top = measure();
    const name = grid.querySelector('[data-panel="fs"] .entity-name');
    const cut = name.scrollWidth > name.clientWidth && getComputedStyle(name).textOverflow === "ellipsis";
    [...grid.querySelectorAll('[data-panel="net"] .more')].filter((b) => !b.hidden).forEach((b) => b.click());
    const all = measure();
    return { top, all, cut };
  });
  check("whole-host lists on a 390 px screen: shown, no horizontal scrolling, every row inside its card",
    hostLists.top.cards === 3 && hostLists.top.scroll <= hostLists.top.width && hostLists.top.widest <= 390 &&
    hostLists.top.overflowing === 0 && hostLists.top.rows === 8, hostLists);
  check("whole-host lists on a 390 px screen: long names cut with an ellipsis; all 50 interfaces still fit",
    hostLists.cut && hostLists.all.rows === 50 && hostLists.all.overflowing === 0 && hostLists.all.scroll <= hostLists.all.width, hostLists);
  await page.locator("#host-lists").screenshot({ path: path.join(outDir, "dashboard-narrow-lists.png") });
  await dash(() => document.getElementById("host-lists").remove());
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.emulateMedia({ colorScheme: "light" });

  // --- restart: a new agent (new started_t) on the same port ------------------------------------------
  phase = "restart";
  const oldStartedT = await dash(() => window.hostpulseDashboard.startedT);
  process.kill(agent.pid, "SIGTERM");
  await withTimeout(agent.exit, "agent exit after SIGTERM", 5000);
  await waitFor(() => dash(() => window.hostpulseDashboard.state === "reconnecting"), "reconnecting after stop", 5000);
  check("agent stopped: indicator says reconnecting", /^reconnecting/.test(await dash(() => document.getElementById("connection-text").textContent)));
  agent = startAgent(binary, agentArgs(`127.0.0.1:${port}`));
  agents.list.push(agent);
  check("agent restarted on the same port", (await agent.port) === port);
  await waitFor(() => dash(() => window.hostpulseDashboard.state === "connected" && window.hostpulseDashboard.resets === 1),
    "reconnect to the new agent", 40_000);
  await waitFor(() => dash(() => window.hostpulseDashboard.pointCount >= 10), "points from the new agent", 10_000);
  const restarted = await dash(() => ({ seqs: window.hostpulseDashboard.seqs, startedT: window.hostpulseDashboard.startedT }));
  check("restart: new started_t detected, series reset and refilled from the new agent",
    restarted.startedT !== oldStartedT && restarted.seqs[0] <= 3 && consecutive(restarted.seqs), { first: restarted.seqs[0], n: restarted.seqs.length });
  check("no console errors apart from the outages' connection failures",
    consoleErrors.filter((e) => e.phase !== "login").every((e) => OUTAGE_NOISE.test(e.text)), consoleErrors);

  // --- an agent with a token: the page asks for it and logs in ------------------------------------------
  phase = "login";
  const token = "dashboard-test-token-0123456789";
  fs.writeFileSync(path.join(scratch, "token"), token + "\n");
  fs.writeFileSync(path.join(scratch, "token.toml"), `token_file = "${path.join(scratch, "token")}"\n`);
  const locked = startAgent(binary, ["--listen", "127.0.0.1:0", "--interval", String(INTERVAL_MS), "--procfs", procfs.dir,
    "--config", path.join(scratch, "token.toml")]);
  agents.list.push(locked);
  const lockedBase = `http://127.0.0.1:${await locked.port}`;
  await page.goto(lockedBase + "/", { waitUntil: "load", timeout: 15_000 });
  await page.waitForSelector("#login:not([hidden])", { timeout: 5000 });
  check("token required: the login form is shown and focused",
    await dash(() => document.activeElement === document.getElementById("login-token")));
  await page.fill("#login-token", "not-the-token-at-all-000");
  await page.press("#login-token", "Enter");
  await waitFor(() => dash(() => document.getElementById("login-error").textContent === "wrong token"), "wrong token message", 5000);
  check("wrong token: said so", true);
  await page.fill("#login-token", token);
  await Promise.all([page.waitForNavigation({ timeout: 10_000 }), page.press("#login-token", "Enter")]);
  await waitFor(() => dash(() => window.hostpulseDashboard?.state === "connected" && window.hostpulseDashboard.pointCount >= 5),
    "connected after login", 10_000);
  check("right token: logged in (cookie), stream connected, login form hidden",
    await dash(() => document.getElementById("login").hidden && document.querySelectorAll(".uplot").length === 4));
  check("login: the only console errors are the 401s before logging in",
    consoleErrors.filter((e) => e.phase === "login").every((e) => /status of 401/.test(e.text)), consoleErrors.filter((e) => e.phase === "login"));
  await context.close();
}

async function main() {
  const [binary, outDir] = process.argv.slice(2);
  if (!binary || !outDir) {
    console.log("usage: node dashboard_test.mjs HOSTPULSE_BINARY OUTPUT_DIR");
    return 2;
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`${CHROMIUM} is missing: run scripts/setup.sh`);
    return 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hostpulse-dashboard-"));
  const agents = { list: [], procfs: null };
  const browserRef = { browser: null, server: null };
  try {
    await withTimeout(run({ binary, outDir, scratch, browserRef, agents }), "all checks", 200_000);
  } catch (error) {
    check("no exception", false, String(error && error.stack ? error.stack : error));
    for (const agent of agents.list) console.log("agent output:\n" + agent.output.slice(-3000));
  } finally {
    if (browserRef.browser) await withTimeout(browserRef.browser.close(), "browser close", 10_000).catch(() => {});
    if (browserRef.server) {
      const pid = browserRef.server.process().pid;
      await withTimeout(browserRef.server.close(), "browser server close", 10_000).catch(() => {});
      try {
        process.kill(pid, "SIGKILL");  // normally gone already
      } catch {
        // exited
      }
    }
    for (const agent of agents.list) await killAgent(agent);
    agents.procfs?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summary("dashboard_test");
}

process.exitCode = await main();
setTimeout(() => process.exit(process.exitCode), 100).unref();
