// docs/examples/live-cpu.html — a page of a user's own, served from another
// origin, importing /hostpulse-client.js from the agent — in Debian's headless
// chromium: with that origin in allowed_origins it connects and shows live
// values, with no console errors; without it the agent refuses the stream
// (close 1008) and the page never shows a value.
//
// usage: node example_page_test.mjs HOSTPULSE_BINARY EXAMPLES_DIR

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { check, killAgent, startAgent, summary, waitFor, withTimeout } from "./harness.mjs";

const [binary, examplesDir] = process.argv.slice(2);

// Serves EXAMPLES_DIR's files on 127.0.0.1 (a different origin than the agent's).
function serveExamples() {
  const server = http.createServer((request, response) => {
    const name = path.basename(new URL(request.url, "http://x").pathname);
    const file = path.join(examplesDir, name);
    if (name === "favicon.ico") {
      response.writeHead(204).end();  // browsers ask for it; not the example's concern
      return;
    }
    if (!name.endsWith(".html") || !fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hostpulse-example-page-"));
  const agents = [];
  let pages = null;
  let browserServer = null;
  try {
    pages = await serveExamples();
    const origin = `http://127.0.0.1:${pages.address().port}`;
    const allowed = path.join(scratch, "allowed.toml");
    fs.writeFileSync(allowed, `allowed_origins = ["${origin}"]\n`);
    const open = startAgent(binary, ["--listen", "127.0.0.1:0", "--interval", "200", "--config", allowed]);
    const closed = startAgent(binary, ["--listen", "127.0.0.1:0", "--interval", "200"]);
    agents.push(open, closed);
    const [openPort, closedPort] = [await open.port, await closed.port];

    browserServer = await chromium.launchServer({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
    });
    const browser = await chromium.connect(browserServer.wsEndpoint());
    const page = await browser.newPage();
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`${origin}/live-cpu.html?agent=127.0.0.1:${openPort}`);
    const state = await waitFor(async () => {
      const text = await page.textContent("#state");
      return text.startsWith("connected") ? text : null;
    }, "the example page to connect", 15_000).catch((e) => String(e));
    check("the example page connects from another origin", String(state).startsWith("connected"), state);
    const first = await waitFor(async () => {
      const text = await page.textContent("#cpu");
      return /^CPU \d+(\.\d)? %$/.test(text) ? text : null;
    }, "a CPU value", 15_000).catch((e) => String(e));
    check("it shows a live CPU value", /^CPU \d/.test(first), first);
    const load = await page.textContent("#load");
    check("it shows the load", /^load \d+\.\d\d$/.test(load), load);
    check("no console errors", errors.length === 0, errors);

    // Not an allowed origin: the agent closes the stream, the page shows no value.
    const refused = await browser.newPage();
    await refused.goto(`${origin}/live-cpu.html?agent=127.0.0.1:${closedPort}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const value = await refused.textContent("#cpu");
    const refusedState = await refused.textContent("#state");
    check("an origin not allowed gets no data", value === "–" && !refusedState.startsWith("connected"),
      { value, refusedState });
    const health = await (await fetch(`http://127.0.0.1:${closedPort}/api/v1/health`)).json();
    check("the agent closed it with 1008", health.stream.closes["1008"] >= 1, health.stream.closes);
    await withTimeout(browser.close(), "browser close", 10_000).catch(() => {});
  } catch (error) {
    check("example page test ran", false, String(error?.stack ?? error));
  } finally {
    if (browserServer) {
      const pid = browserServer.process().pid;
      await withTimeout(browserServer.close(), "browser server close", 10_000).catch(() => {});
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // exited
      }
    }
    for (const agent of agents) await killAgent(agent);
    pages?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summary("example_page_test");
}

process.exitCode = await main();
setTimeout(() => process.exit(process.exitCode), 100).unref();
