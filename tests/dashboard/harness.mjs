// Shared by the dashboard tests: checks with PASS/FAIL lines, timeouts, and
// an agent process started on loopback and always killed by PID.

export { killAgent, startAgent, withTimeout } from "../support/agent_process.mjs";

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
