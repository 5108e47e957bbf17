// Node-side twin of agent_process.hpp: runs the built hostpulse binary from
// the JavaScript tests (stream, dashboard, apidocs). The port comes from the
// agent's "listening on" log line; killAgent() always kills it by PID and
// waits until it is reaped.

import { spawn } from "node:child_process";

// Rejects with "timed out after MS ms: WHAT" unless promise settles first.
export function withTimeout(promise, what, ms = 10_000) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// Starts binary with args (use "--listen 127.0.0.1:0"). The result has
// .child, .pid, .output (everything logged so far), .exited ({code, signal}
// once it exited, else null), .exit (a promise of that) and .port (a promise
// of the port, rejected if the agent exits or does not listen in 10 s).
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
  agent.port.catch(() => {});  // callers await it; an unawaited rejection must not end the process
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
