// The hostpulse stream with a third-party client: the npm package `ws`
// (installed in the project's node_modules).
//
// usage: node node_client_test.mjs HOSTPULSE_BINARY FIXTURES_DIR
//
// Starts its own agent on a copy of the 2-CPU fixture procfs (port 0, parsed
// from its log) and checks: subscribe, batching with max_samples=3,
// ping/pong, an unknown_series error, 426 on a plain GET, and close 1001 on
// SIGTERM. The agent is always killed by PID at the end. Prints PASS/FAIL
// per check and exits non-zero if any failed.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";

import { killAgent, startAgent as spawnAgent, withTimeout } from "../support/agent_process.mjs";

const results = [];

function check(name, condition, detail = "") {
  results.push([name, Boolean(condition)]);
  console.log(`${condition ? "PASS" : "FAIL"} ${name}${condition || detail === "" ? "" : ": " + JSON.stringify(detail)}`);
  return Boolean(condition);
}

function startAgent(binary, procfs) {
  return spawnAgent(binary, ["--listen", "127.0.0.1:0", "--interval", "100", "--procfs", procfs]);
}

// A client that queues every message so tests can wait for the next matching one.
class Client {
  constructor(url, options = {}) {
    this.ws = new WebSocket(url, options);
    this.queue = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => this.ws.on("close", (code) => resolve(code)));
    this.ws.on("message", (data, isBinary) => {
      const message = { binary: isBinary, body: JSON.parse(data.toString()) };
      this.queue.push(message);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.ws.on("error", () => {});
    this.opened = withTimeout(new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
    }), "open");
  }

  // The next queued message that satisfies predicate (earlier ones are dropped).
  async next(predicate, what) {
    return withTimeout(
      (async () => {
        for (;;) {
          while (this.queue.length > 0) {
            const message = this.queue.shift();
            if (predicate(message.body)) return message;
          }
          await new Promise((resolve) => this.waiters.push(resolve));
        }
      })(),
      what,
    );
  }

  async request(message, types) {
    this.ws.send(JSON.stringify(message));
    const reply = await this.next(
      (m) => types.includes(m.type) && (message.id === undefined || m.id === message.id),
      `reply to ${JSON.stringify(message)}`,
    );
    return reply.body;
  }
}

function pointSeqs(frames) {
  const seqs = [];
  for (const f of frames) {
    if (f.seq_last - f.seq_first !== f.t.length - 1) throw new Error(`frame ${f.seq_first}..${f.seq_last}`);
    for (let s = f.seq_first; s <= f.seq_last; s++) seqs.push(s);
  }
  return seqs;
}

const consecutive = (seqs) => seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);

function plainGet(port) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const request = http.get({ host: "127.0.0.1", port, path: "/api/v1/stream" }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body }));
      });
      request.on("error", reject);
    }),
    "plain GET",
  );
}

async function run(agent) {
  const port = await agent.port;
  const url = `ws://127.0.0.1:${port}/api/v1/stream`;

  // 426 on a plain GET
  const get = await plainGet(port);
  check("plain GET /api/v1/stream is 426", get.status === 426 && get.headers.upgrade === "websocket", get.status);

  // subscribe
  const a = new Client(url);
  await a.opened;
  const hello = (await a.next((m) => m.type === "hello", "hello")).body;
  const series = hello.families.flatMap((family) => family.series);
  const names = new Set(series.map((s) => s.name));
  check("hello: protocol 2, schema of the 2-CPU fixture",
    hello.protocol === 2 && names.has("cpu.1.busy_pct") && !names.has("cpu.2.busy_pct"), hello.protocol);
  const sub = await a.request({ type: "subscribe", id: "mem", series: ["mem.*"] }, ["subscribed", "error"]);
  const memNames = series.filter((s) => s.name.startsWith("mem.")).sort((x, y) => x.id - y.id).map((s) => s.name);
  check("subscribed: mem.* resolved", sub.type === "subscribed" && JSON.stringify(sub.names) === JSON.stringify(memNames), sub);
  const frames = [];
  while (frames.length < 5) {
    frames.push((await a.next((m) => m.type === "samples" && m.sub === sub.sub, "samples")).body);
  }
  check("samples: columnar, one column per series",
    frames.every((f) => f.values.length === sub.series.length && f.values.every((c) => c.length === f.t.length)));
  check("samples: first seq right after subscribed.seq", frames[0].seq_first === sub.seq + 1, [frames[0].seq_first, sub.seq]);
  check("samples: consecutive seqs", consecutive(pointSeqs(frames)));

  // batching with max_samples 3
  const batched = await a.request(
    { type: "subscribe", id: "b3", series: ["load.*"], batch: { max_samples: 3 } }, ["subscribed", "error"]);
  check("subscribed: batch echoed", batched.batch && batched.batch.max_samples === 3 && batched.batch.max_delay_ms === 0, batched);
  const batches = [];
  while (batches.length < 3) {
    batches.push((await a.next((m) => m.type === "samples" && m.sub === batched.sub, "batched samples")).body);
  }
  check("batching: exactly 3 points per frame", batches.every((f) => f.t.length === 3), batches.map((f) => f.t.length));
  check("batching: consecutive across frames", consecutive(pointSeqs(batches)));

  // ping / pong
  const before = Date.now();
  const pong = await a.request({ type: "ping", id: 99 }, ["pong"]);
  check("pong echoes the id with the server time", pong.id === 99 && pong.t >= before - 5 && pong.t <= Date.now() + 5, pong);

  // unknown_series
  const error = await a.request({ type: "subscribe", id: "typo", series: ["cpu.bussy_pct"] }, ["error", "subscribed"]);
  check("unknown_series error with the id", error.type === "error" && error.code === "unknown_series", error);
  const pong2 = await a.request({ type: "ping", id: "still-open" }, ["pong"]);
  check("the connection stays open after an error", pong2.id === "still-open");

  // SIGTERM: 1001 for every client, agent exits 0
  const b = new Client(url);
  await b.opened;
  await b.next((m) => m.type === "hello", "hello b");
  const signalled = Date.now();
  process.kill(agent.child.pid, "SIGTERM");
  const codes = await withTimeout(Promise.all([a.closed, b.closed]), "close after SIGTERM");
  check("SIGTERM: every client closed with 1001", codes[0] === 1001 && codes[1] === 1001, codes);
  const exit = await withTimeout(agent.exit, "agent exit");
  check("SIGTERM: agent exits 0", exit.code === 0, exit);
  check("SIGTERM: agent exits within 2 s", Date.now() - signalled < 2000, Date.now() - signalled);
}

async function main() {
  const [binary, fixtures] = process.argv.slice(2);
  if (!binary || !fixtures) {
    console.log("usage: node node_client_test.mjs HOSTPULSE_BINARY FIXTURES_DIR");
    return 2;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hostpulse-node-"));
  let agent = null;
  try {
    fs.cpSync(path.join(fixtures, "proc", "linux6_2cpu"), path.join(scratch, "proc"), { recursive: true });
    agent = startAgent(binary, path.join(scratch, "proc"));
    await withTimeout(run(agent), "all checks", 45_000);
  } catch (error) {
    check("no exception", false, String(error));
    if (agent) console.log("agent output:\n" + agent.output);
  } finally {
    await killAgent(agent);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
  const pass = failed.length === 0 && results.length > 0;
  console.log(`node_client_test: ${pass ? "PASS" : "FAIL"} (${results.length} checks, ${failed.length} failed)`);
  return pass ? 0 : 1;
}

process.exitCode = await main();
// Open sockets of a failed run must not keep the process alive.
setTimeout(() => process.exit(process.exitCode), 100).unref();
