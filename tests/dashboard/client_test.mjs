// The JS client module (dashboard/hostpulse-client.js) under node, with npm's
// `ws` as its WebSocket, against the built agent on a moving fake procfs.
//
// usage: node client_test.mjs HOSTPULSE_BINARY
//
// Checks: asset serving over real HTTP (gzip, ETag/304, HEAD, fingerprints);
// the msgpack decoder and protocol 2's binary samples columns on hand-made
// vectors and bad input; backoff
// bounds (1 s doubling to a 30 s cap, full jitter); JSON and msgpack frames
// of the same subscription decode to exactly the same values; history(); a dropped
// connection resumes from the last seq with no gap and no duplicate; a
// restarted agent (new started_t) gives "reset" instead of a resume.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import WebSocket from "ws";

import { HostpulseClient, backoffDelay, decodeMsgpack, expandBinarySamples } from "../../dashboard/hostpulse-client.js";
import { FakeProcfs } from "./fake_procfs.mjs";
import { check, killAgent, sleep, startAgent, summary, waitFor, withTimeout } from "./harness.mjs";

const consecutive = (seqs) => seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);
const bytes = (...list) => new Uint8Array(list.flat());

function msgpackVectors() {
  const f32 = new Uint8Array(new Float32Array([12.34]).buffer).reverse();
  const f64 = new Uint8Array(new Float64Array([1e300]).buffer).reverse();
  const cases = [
    ["positive fixint", bytes(0x7f), 127],
    ["negative fixint", bytes(0xe0), -32],
    ["uint8", bytes(0xcc, 0xff), 255],
    ["uint16", bytes(0xcd, 0x12, 0x34), 0x1234],
    ["uint32", bytes(0xce, 0xff, 0xff, 0xff, 0xff), 4294967295],
    ["uint64 (ms timestamp)", bytes(0xcf, 0, 0, 0x01, 0xa1, 0x2b, 0x3c, 0x4d, 0x5e), 0x01a12b3c4d5e],
    ["int8", bytes(0xd0, 0x80), -128],
    ["int16", bytes(0xd1, 0xff, 0x00), -256],
    ["int32", bytes(0xd2, 0x80, 0, 0, 0), -2147483648],
    ["int64", bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), -2],
    ["float32", bytes(0xca, [...f32]), Math.fround(12.34)],
    ["float64", bytes(0xcb, [...f64]), 1e300],
    ["nil, true, false", bytes(0x93, 0xc0, 0xc3, 0xc2), [null, true, false]],
    ["fixstr utf-8", bytes(0xa3, 0xc3, 0xa9, 0x21), "é!"],
    ["str8", bytes(0xd9, 0x03, 0x61, 0x62, 0x63), "abc"],
    ["array16", bytes(0xdc, 0x00, 0x02, 0x01, 0x02), [1, 2]],
    ["map16 / fixmap", bytes(0xde, 0x00, 0x01, 0xa1, 0x74, 0x81, 0xa1, 0x78, 0x90), { t: { x: [] } }],
  ];
  for (const [name, input, expected] of cases) {
    let actual;
    try {
      actual = decodeMsgpack(input);
    } catch (error) {
      actual = String(error);
    }
    check(`msgpack: ${name}`, JSON.stringify(actual) === JSON.stringify(expected), actual);
  }
  for (const [name, input] of [["truncated", bytes(0xcd, 0x12)], ["unsupported 0xc1", bytes(0xc1)],
    ["trailing bytes", bytes(0x01, 0x02)], ["truncated string", bytes(0xa5, 0x61)]]) {
    let threw = false;
    try {
      decodeMsgpack(input);
    } catch {
      threw = true;
    }
    check(`msgpack: ${name} throws`, threw);
  }
  const unsafe = bytes(0xd3, 0xff, 0xc0, 0, 0, 0, 0, 0, 0x03);  // -(2^54 - 3): odd, beyond Number's exact range
  check("msgpack: exactIntegers keeps a 64-bit integer beyond 2^53 as BigInt",
    decodeMsgpack(unsafe, { exactIntegers: true }) === -18014398509481981n && typeof decodeMsgpack(unsafe) === "number");
}

// Protocol 2's binary samples (docs/protocol.md) by hand-made frames, as
// decodeMsgpack gives them.
function binarySamples() {
  const frame = expandBinarySamples({
    type: "samples", sub: 3, seq_first: 1235, seq_last: 1238,
    t: [1795321853683, 1000, 1000, 999], series: [0, 23, 24, 25, 26, 27, 28],
    cols: [
      [2, 1250, 75, -30],                     // hundredths, a negative delta, the last delta left out (0)
      [null, 0.5, null, 1e300, -2],           // a float column
      [0, null, 7, null],                     // nil at the start and in the middle: the chain skips them
      [1],                                    // all deltas left out: 0
      [0, 68719476737, -68719472641, 4096],   // whole bytes above 2^32
      [2, 7, 3326, 6667, -9993],              // 0.07, 33.33, 100, 0.07
      [0, 9007199254740991, -18014398509481981n, 1],  // a BigInt delta stays exact
    ],
  });
  const expected = {
    type: "samples", sub: 3, seq_first: 1235, seq_last: 1238,
    t: [1795321853683, 1795321854683, 1795321855683, 1795321856682], series: [0, 23, 24, 25, 26, 27, 28],
    values: [[12.5, 13.25, 12.95, 12.95], [0.5, null, 1e300, -2], [null, 7, null, 7], [0, 0, 0, 0],
      [68719476737, 4096, 8192, 8192], [0.07, 33.33, 100, 0.07], [9007199254740991, -9007199254740990, -9007199254740989, -9007199254740989]],
  };
  check("binary samples: cols decode to the JSON frame (t absolute, values)",
    JSON.stringify(frame) === JSON.stringify(expected) && !("cols" in frame), frame);
  const bad = [
    ["no decimals", [[]]], ["decimals 7", [[7, 1, 2]]], ["fractional decimals", [[0.5, 1]]],
    ["longer than t", [[0, 1, 2, 3]]], ["short float column", [[null, 1]]], ["string delta", [[0, "1"]]],
    ["fractional delta", [[0, 1.5]]], ["sum reaches 2^53", [[0, 9007199254740991, 1]]], ["not an array", [5]],
  ];
  for (const [name, cols] of bad) {
    let threw = false;
    try {
      expandBinarySamples({ type: "samples", seq_first: 1, seq_last: 2, t: [1000, 1000], series: [0], cols });
    } catch {
      threw = true;
    }
    check(`binary samples: ${name} throws`, threw);
  }
}

// A protocol 1 agent is refused (its binary frames would not decode), a
// protocol 2 one is subscribed to. The test plays the agent.
function protocolVersion() {
  class FakeSocket {
    static last = null;
    constructor() {
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
  }
  for (const [protocol, accepted] of [[1, false], [2, true], [3, false]]) {
    const client = new HostpulseClient({ url: "ws://127.0.0.1:1/api/v1/stream", WebSocket: FakeSocket,
      pingIntervalMs: 60_000, connectTimeoutMs: 60_000 });
    const errors = [];
    client.on("error", (e) => errors.push(e.message));
    client.start();
    FakeSocket.last.onmessage({ data: JSON.stringify({ type: "hello", protocol, version: "0", host: "box",
      interval_ms: 1000, seq: 1, started_t: 1, schema_version: 0, families: [] }) });
    const subscribed = FakeSocket.last.sent.some((m) => m.type === "subscribe");
    check(`hello with protocol ${protocol}: ${accepted ? "subscribes" : "refused, stopped"}`,
      accepted ? subscribed && errors.length === 0 && client.state === "connected"
        : !subscribed && client.state === "stopped" && errors.some((e) => e.includes(`protocol ${protocol}`)),
      { state: client.state, errors, subscribed });
    client.stop();
  }
}

function backoff() {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, { random: () => 1 }));
  check("backoff: ceiling 1 s doubling to the 30 s cap",
    JSON.stringify(ceilings) === JSON.stringify([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]), ceilings);
  check("backoff: never below 0.5 s", backoffDelay(3, { random: () => 0 }) === 500);
  const samples = Array.from({ length: 2000 }, () => backoffDelay(8));
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  check("backoff: full jitter spreads over [0.5 s, 30 s]",
    Math.min(...samples) >= 500 && Math.max(...samples) <= 30000 && mean > 12000 && mean < 18000, { mean });
}

// A client with every event recorded.
function recordingClient(url, options = {}) {
  const client = new HostpulseClient({ url, WebSocket, backoffBaseMs: 200, ...options });
  const log = { states: [], samples: [], resets: [], gaps: [], errors: [] };
  client.on("state", (s) => log.states.push(s.state));
  client.on("samples", (s) => log.samples.push(s));
  client.on("reset", (r) => log.resets.push(r));
  client.on("gap", (g) => log.gaps.push(g));
  client.on("error", (e) => log.errors.push(e.message));
  return { client, log, seqs: () => log.samples.flatMap((s) => s.seqs) };
}

function httpGet(port, target, headers = {}, method = "GET") {
  return withTimeout(new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: target, method, headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    request.end();
  }), `${method} ${target}`);
}

// The asset headers over a real connection (the server passes
// Accept-Encoding and If-None-Match through to the handler).
async function assetsOverHttp(port) {
  const plain = await httpGet(port, "/hostpulse-client.js");
  const source = fs.readFileSync(new URL("../../dashboard/hostpulse-client.js", import.meta.url));
  check("GET /hostpulse-client.js: the module, uncompressed without Accept-Encoding",
    plain.status === 200 && plain.body.equals(source) && plain.headers["content-encoding"] === undefined &&
    plain.headers["content-type"] === "text/javascript; charset=utf-8" && plain.headers["access-control-allow-origin"] === "*",
    { status: plain.status, headers: plain.headers });
  const gzipped = await httpGet(port, "/hostpulse-client.js", { "Accept-Encoding": "gzip, deflate" });
  check("Accept-Encoding: gzip gets gzip bytes that inflate to the module",
    gzipped.headers["content-encoding"] === "gzip" && gzipped.headers.vary === "Accept-Encoding" &&
    gzipped.body.length < plain.body.length / 2 && zlib.gunzipSync(gzipped.body).equals(source), gzipped.headers);
  const etag = plain.headers.etag;
  const again = await httpGet(port, "/hostpulse-client.js", { "If-None-Match": etag });
  check("If-None-Match with the ETag: 304, no body", again.status === 304 && again.body.length === 0 && again.headers.etag === etag,
    { status: again.status, etag });
  const page = await httpGet(port, "/", { "Accept-Encoding": "gzip" });
  const html = zlib.gunzipSync(page.body).toString();
  const hashed = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  check("index.html refers to four fingerprinted assets", hashed.length === 4, hashed);
  const assets = await Promise.all(hashed.map((target) => httpGet(port, target)));
  check("fingerprinted assets: 200, immutable for a year",
    assets.every((a) => a.status === 200 && a.headers["cache-control"] === "public, max-age=31536000, immutable"),
    assets.map((a) => [a.status, a.headers["cache-control"]]));
  const head = await httpGet(port, hashed[0], { "Accept-Encoding": "gzip" }, "HEAD");
  const full = await httpGet(port, hashed[0], { "Accept-Encoding": "gzip" });
  check("HEAD: the length of GET's body, no body", head.status === 200 && head.body.length === 0 &&
    Number(head.headers["content-length"]) === full.body.length, [head.headers["content-length"], full.body.length]);
  const missing = await httpGet(port, "/assets/app.0000000000000000.js");
  check("unknown asset: 404", missing.status === 404, missing.status);
}

async function live(binary, scratch, agents) {
  const procfs = new FakeProcfs(path.join(scratch, "proc"), { cpus: 4, hotCore: 1 });
  agents.procfs = procfs;
  const args = (listen) => ["--listen", listen, "--interval", "100", "--procfs", procfs.dir];
  let agent = startAgent(binary, args("127.0.0.1:0"));
  agents.list.push(agent);
  const port = await agent.port;
  const url = `ws://127.0.0.1:${port}/api/v1/stream`;
  await assetsOverHttp(port);
  const series = ["cpu.*", "mem.used_bytes", "load.*", "system.*"];

  // JSON and msgpack decode to the same numbers.
  const json = recordingClient(url, { series, format: "json" });
  const packed = recordingClient(url, { series, format: "msgpack" });
  json.client.start();
  packed.client.start();
  await waitFor(() => json.seqs().length >= 20 && packed.seqs().length >= 20, "20 points each", 10_000);
  const byKey = (samples) => {
    const map = new Map();
    for (const s of samples) s.names.forEach((name, i) => s.seqs.forEach((seq, k) => map.set(`${seq}/${name}`, s.values[i][k])));
    return map;
  };
  const a = byKey(json.log.samples);
  const b = byKey(packed.log.samples);
  let compared = 0;
  let fractional = 0;
  const different = [];
  for (const [key, value] of a) {
    if (!b.has(key)) continue;
    compared++;
    const other = b.get(key);
    // Exactly the same doubles (Object.is: -0 too), and null in the same places.
    if (!Object.is(value, other)) different.push([key, value, other]);
    if (typeof value === "number" && !Number.isInteger(value)) fractional++;
  }
  check("msgpack and JSON frames carry exactly the same values", compared > 200 && fractional > 20 && different.length === 0,
    { compared, fractional, different: different.slice(0, 5) });
  check("msgpack: whole numbers stay integers (mem.used_bytes)",
    [...b].filter(([key]) => key.endsWith("/mem.used_bytes")).every(([, v]) => Number.isInteger(v)));
  check("states: connecting then connected", json.log.states[0] === "connecting" && json.log.states.includes("connected"), json.log.states);
  packed.client.stop();
  check("stop(): stopped", packed.client.state === "stopped");

  // history()
  const history = await json.client.history({ series: ["load.1m", "cpu.busy_pct"], last: "10s" });
  check("history(): columnar with names and consecutive seqs",
    JSON.stringify(history.names) === JSON.stringify(["load.1m", "cpu.busy_pct"]) && history.t.length >= 10 &&
    history.columns["load.1m"].length === history.t.length && consecutive(history.seqs), { names: history.names, n: history.t.length });

  // A dropped connection resumes with no gap and no duplicate.
  const beforeDrop = json.seqs().at(-1);
  json.client.socket.terminate?.() ?? json.client.socket.close();
  await waitFor(() => json.log.states.filter((s) => s === "connected").length >= 2, "reconnected", 10_000);
  await waitFor(() => json.seqs().at(-1) >= beforeDrop + 15, "data after the resume", 10_000);
  const seqs = json.seqs();
  check("resume after a dropped connection: reconnecting, then connected", json.log.states.includes("reconnecting"), json.log.states);
  check("resume: no gap, no duplicate across the drop", consecutive(seqs) && json.log.gaps.length === 0 && json.log.resets.length === 0,
    { gaps: json.log.gaps, resets: json.log.resets.length, around: seqs.slice(Math.max(0, seqs.indexOf(beforeDrop) - 2), seqs.indexOf(beforeDrop) + 3) });

  // A restarted agent: new started_t, seqs start again -> reset, not resume.
  const oldStarted = json.client.startedT;
  const oldLast = json.seqs().at(-1);
  process.kill(agent.pid, "SIGTERM");
  await withTimeout(agent.exit, "agent exit", 5000);
  await sleep(300);
  agent = startAgent(binary, args(`127.0.0.1:${port}`));
  agents.list.push(agent);
  await agent.port;
  await waitFor(() => json.log.resets.length === 1 && json.client.state === "connected", "reset after restart", 15_000);
  const countAtReset = json.log.samples.length;
  await waitFor(() => json.log.samples.length > countAtReset + 3, "samples from the new agent", 5000);
  const fresh = json.log.samples.slice(countAtReset).flatMap((s) => s.seqs);
  check("restart: reset with reason 'restart' and a new started_t",
    json.log.resets[0].reason === "restart" && json.client.startedT !== oldStarted, json.log.resets);
  // The new agent counts from 1 and the client takes its seqs as they come
  // (not dropping them as older than the old agent's); how far the new agent
  // got before the client reconnected depends on the backoff and on how fast
  // the agent starts (seconds under ASan), so the first fresh seq is compared
  // with the old agent's last one rather than with a fixed number.
  check("restart: seqs start again from the new agent's first points",
    fresh[0] < oldLast && consecutive(fresh), { fresh: fresh.slice(0, 5), oldLast });
  check("no client errors", json.log.errors.length === 0 && packed.log.errors.length === 0, [...json.log.errors, ...packed.log.errors]);
  json.client.stop();
}

async function main() {
  const [binary] = process.argv.slice(2);
  if (!binary) {
    console.log("usage: node client_test.mjs HOSTPULSE_BINARY");
    return 2;
  }
  msgpackVectors();
  binarySamples();
  protocolVersion();
  backoff();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hostpulse-client-"));
  const agents = { list: [], procfs: null };
  try {
    await withTimeout(live(binary, scratch, agents), "live checks", 60_000);
  } catch (error) {
    check("no exception", false, String(error && error.stack ? error.stack : error));
    for (const agent of agents.list) console.log("agent output:\n" + agent.output.slice(-3000));
  } finally {
    for (const agent of agents.list) await killAgent(agent);
    agents.procfs?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summary("client_test");
}

process.exitCode = await main();
setTimeout(() => process.exit(process.exitCode), 100).unref();
