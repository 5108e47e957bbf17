// Shared by the dashboard tests: checks with PASS/FAIL lines, timeouts, and
// an agent process started on loopback and always killed by PID.

import { spawn } from "node:child_process";

export const results = [];

export function check(name, condition, detail = "") {
  results.push([name, Boolean(condition)]);
  const suffix = condition || detail === "" ? "" : ": " + (typeof detail === "string" ? detail : JSON.stringify(detail));
  console.log(`${condition ? "PASS" : "FAIL"} ${name}${suffix}`);
  return Boolean(condition);
}

export function summary(testName) {
  const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
  const pass = failed.length === 0 && results.length > 0;
  console.log(`${testName}: ${pass ? "PASS" : "FAIL"} (${results.length} checks, ${failed.length} failed)`);
  if (failed.length) console.log("failed: " + failed.join("; "));
  return pass ? 0 : 1;
}

export function withTimeout(promise, what, ms = 10_000) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls fn until it returns a truthy value (returned) or the time is up (throws).
export async function waitFor(fn, what, ms = 10_000, everyMs = 100) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${String(last)})`);
    await sleep(everyMs);
  }
}

// Starts the agent; resolves .port from its "listening on" log line.
export function startAgent(binary, args) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const agent = { child, pid: child.pid, output: "", exited: null };
  agent.exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve((agent.exited = { code, signal }))));
  agent.port = withTimeout(
    new Promise((resolve, reject) => {
      const onData = (chunk) => {
        agent.output += chunk.toString();
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(agent.output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", () => reject(new Error("agent exited: " + agent.output)));
    }),
    "agent start",
  );
  agent.port.catch(() => {});
  return agent;
}

// SIGKILL by PID if still running (SIGCONT first: a stopped process must be
// able to die), then wait until it is reaped.
export async function killAgent(agent) {
  if (!agent || agent.exited !== null) return;
  for (const signal of ["SIGCONT", "SIGKILL"]) {
    try {
      process.kill(agent.pid, signal);
    } catch {
      // already gone
    }
  }
  await withTimeout(agent.exit, "agent reaped", 5000).catch(() => {});
}
