// The API documents against the real agent: what docs/openapi.yaml and
// docs/asyncapi.yaml say is what the built agent does.
//
// usage: node tests/apidocs/sync_test.mjs HOSTPULSE_BINARY   (from the project root)
//
// Starts two agents on loopback (port 0, parsed from the log; always killed
// by PID): one with two alert rules (one fires at once, one about two seconds
// after start) and one with a token. Checks:
// REST  - every documented path and method answers a documented status (not
//         404/405), JSON bodies validate against the documented schema and
//         documented headers are sent; documented query parameters and their
//         example values are accepted, values outside their constraints are
//         400, and the parameters the agent knows (from its "unknown query
//         parameter" message) are the documented ones; other methods get 405
//         with an Allow header naming exactly the documented methods;
//         undocumented paths under /api/v1/ get 404; 401/login/logout with a
//         token; 413 and 431 in the documented error shape.
// Stream- every documented client message type is accepted (its documented
//         reply, never unknown_type) and undocumented ones get unknown_type;
//         the types the agent lists in that error and the fields it allows
//         per type equal the documented ones; every server message received
//         (JSON and MessagePack frames) validates against the documented
//         payload of its type, and every documented server message is seen;
//         a missing token closes with a documented code (4001).
// Prints PASS/FAIL per check and exits non-zero if any failed.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { decode as decodeMsgpack } from "@msgpack/msgpack";
import WebSocket from "ws";
import {
  HTTP_METHODS, check, finish, formatErrors, loadAsyncApi, loadOpenApi, openApiOperations, withTimeout,
} from "./apidocs_lib.mjs";
import { killAgent, startAgent as spawnAgent } from "../support/agent_process.mjs";

const binary = process.argv[2];
if (!binary) {
  console.error("usage: node sync_test.mjs HOSTPULSE_BINARY");
  process.exit(2);
}

const TOKEN = "apidocs-test-token-0123456789abcdef";
const agents = [];
const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "hostpulse-apidocs-"));

// ---- the agent -------------------------------------------------------------

// An agent with its own config file, on a free loopback port.
function startAgent(configText) {
  const config = path.join(tempDir, `agent${agents.length}.toml`);
  fs.writeFileSync(config, configText);
  const agent = spawnAgent(binary, ["--config", config, "--listen", "127.0.0.1:0", "--interval", "100"]);
  agents.push(agent);
  return agent;
}

async function stopAgents() {
  await Promise.all(agents.map(killAgent));
  fs.rmSync(tempDir, { recursive: true, force: true });
}

// ---- HTTP --------------------------------------------------------------------

// A body given as an object is sent as JSON, labelled so (the agent refuses
// other request bodies with 415).
function request(port, method, target, { headers = {}, body } = {}) {
  if (body !== undefined && typeof body !== "string" && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers = { ...headers, "content-type": "application/json" };
  }
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method, path: target, headers, agent: false }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (body !== undefined) req.write(typeof body === "string" ? body : JSON.stringify(body));
      req.end();
    }),
    `${method} ${target}`,
  );
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Checks one response against the operation's documented responses: a
// documented status, the documented media type, a body valid against its
// schema, and every documented header present and valid.
function checkResponse(openapi, label, operation, method, response) {
  const documented = operation.responses[String(response.status)];
  if (!check(`${label}: status ${response.status} is documented`, documented, Object.keys(operation.responses))) return;
  for (const [name, header] of Object.entries(documented.headers || {})) {
    const value = response.headers[name.toLowerCase()];
    const validate = header.schema ? openapi.validator(header.schema) : null;
    const text = Array.isArray(value) ? value.join(", ") : value;
    check(`${label}: documented header ${name} sent and valid`, value !== undefined && (!validate || validate(text)),
      { value, schema: header.schema });
  }
  if (method === "head") {
    check(`${label}: HEAD has no body`, response.text === "", response.text.slice(0, 80));
    return;
  }
  const content = documented.content || {};
  const mediaTypes = Object.keys(content);
  const contentType = (response.headers["content-type"] || "").split(";")[0].trim();
  if (mediaTypes.length === 0) {
    check(`${label}: ${response.status} documented without a body, sent none`, response.text === "", response.text.slice(0, 80));
    return;
  }
  if (!check(`${label}: content type ${contentType} is documented`, mediaTypes.includes(contentType), mediaTypes)) return;
  const schema = content[contentType].schema;
  if (contentType === "application/json" && schema) {
    const body = parseJson(response.text);
    const validate = openapi.validator(schema);
    check(`${label}: body validates against the documented schema`, body !== undefined && validate(body),
      formatErrors(validate) + " body: " + response.text.slice(0, 300));
  }
  return parseJson(response.text);
}

// ---- WebSocket -------------------------------------------------------------------

// Every message received is validated against the documented server
// messages of its type (binary frames: the msgpack variants) and recorded.
function makeStreamValidator(asyncapi) {
  const seen = new Set();
  const validateMessage = (message, isBinary) => {
    const contentType = isBinary ? "application/msgpack" : "application/json";
    const candidates = asyncapi.messages.sent.filter((m) => m.type === message?.type && m.contentType === contentType);
    if (candidates.length === 0) {
      check(`stream: server message '${message?.type}' (${contentType}) is documented`, false, message);
      return;
    }
    const fits = candidates.find((m) => m.validate(message));
    if (fits) {
      seen.add(fits.id);
      if (!seen.has(`logged:${fits.id}`)) {
        seen.add(`logged:${fits.id}`);
        check(`stream: first '${message.type}' (${contentType}) validates against message ${fits.id}`, true);
      }
    } else {
      check(`stream: '${message.type}' (${contentType}) validates against its documented payload`, false,
        candidates.map((m) => `${m.id}: ${(m.validate(message), formatErrors(m.validate))}`).join(" | ") +
          " message: " + JSON.stringify(message).slice(0, 400));
    }
  };
  return { seen, validateMessage };
}

function connect(port, validateMessage, options = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream`, options.protocols, { headers: options.headers || {} });
  const client = { ws, queue: [], waiters: [], closed: null };
  ws.on("message", (data, isBinary) => {
    let message;
    try {
      message = isBinary ? decodeMsgpack(data) : JSON.parse(data.toString());
    } catch (error) {
      check("stream: server frame decodes", false, error.message);
      return;
    }
    validateMessage(message, isBinary);
    client.queue.push({ message, isBinary });
    for (const waiter of [...client.waiters]) waiter();
  });
  client.closedPromise = new Promise((resolve) => ws.on("close", (code) => resolve((client.closed = code))));
  ws.on("error", () => {});
  client.open = withTimeout(new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("close", (code) => reject(new Error(`closed ${code} before open`)));
  }), "stream open");
  // The next queued message matching predicate (removed from the queue).
  client.next = (predicate, what, ms = 5000) =>
    withTimeout(new Promise((resolve) => {
      const look = () => {
        const index = client.queue.findIndex((entry) => predicate(entry.message, entry.isBinary));
        if (index < 0) return false;
        const [entry] = client.queue.splice(index, 1);
        client.waiters = client.waiters.filter((w) => w !== look);
        resolve(entry);
        return true;
      };
      if (!look()) client.waiters.push(look);
    }), what, ms);
  client.send = (object) => ws.send(JSON.stringify(object));
  return client;
}

// "(subscribe, unsubscribe, history or ping)" -> ["history", "ping", "subscribe", "unsubscribe"]
function listInParentheses(text) {
  const match = /\(([^()]*)\)\s*$/.exec(text || "");
  if (!match) return null;
  return match[1].replace(/^(allowed|known):\s*/, "").split(/,\s*|\s+or\s+/).map((s) => s.trim()).filter(Boolean).sort();
}

// ---- the checks ------------------------------------------------------------------

async function restChecks(openapi, port, tokenPort) {
  const { api } = openapi;
  const operations = openApiOperations(api);
  const errorSchema = openapi.validator(api.components.schemas.Error);
  const byPath = new Map();
  for (const op of operations) byPath.set(op.path, [...(byPath.get(op.path) || []), op.method]);

  // A silence to list and delete, from the documented example.
  const addSilence = operations.find((o) => o.path === "/api/v1/silences" && o.method === "post");
  let silenceId = null;
  if (addSilence) {
    const example = Object.values(addSilence.operation.requestBody.content["application/json"].examples)[0].value;
    const response = await request(port, "POST", "/api/v1/silences", { body: example, headers: { "content-type": "application/json" } });
    const body = checkResponse(openapi, "POST /api/v1/silences (documented example)", addSilence.operation, "post", response);
    check("POST /api/v1/silences: 201 created", response.status === 201, response);
    silenceId = body?.id ?? null;
    const list = await request(port, "GET", "/api/v1/silences");
    check("GET /api/v1/silences lists the new silence", parseJson(list.text)?.silences?.some((s) => s.id === silenceId), list.text);
    // The fields the agent allows equal the documented ones.
    const unknown = await request(port, "POST", "/api/v1/silences", { body: { ...example, zz_undocumented: "x" }, headers: { "content-type": "application/json" } });
    const allowed = listInParentheses(parseJson(unknown.text)?.error?.message);
    const documented = Object.keys(addSilence.operation.requestBody.content["application/json"].schema.properties).sort();
    check("POST /api/v1/silences: the fields the agent allows are the documented ones",
      unknown.status === 400 && JSON.stringify(allowed) === JSON.stringify(documented), { agent: allowed, documented, body: unknown.text });
  }

  const concrete = (route) => route.replace("{id}", encodeURIComponent(silenceId ?? "1"));
  const ordered = operations.filter((o) => !(o.path === "/api/v1/silences" && o.method === "post"))
    .sort((a, b) => (a.method === "delete") - (b.method === "delete"));
  for (const { path: route, method, operation } of ordered) {
    const label = `${method.toUpperCase()} ${route}`;
    // login needs a token configured (this agent has none: 404, checked below with the token agent).
    const target = route === "/api/v1/login" ? tokenPort : port;
    const options = {};
    if (operation.requestBody) {
      options.body = route === "/api/v1/login" ? { token: TOKEN } : Object.values(operation.requestBody.content["application/json"].examples || {})[0]?.value;
      options.headers = { "content-type": "application/json" };
    }
    const response = await request(target, method.toUpperCase(), concrete(route), options);
    check(`${label}: answered (not 404/405)`, response.status !== 404 && response.status !== 405, { status: response.status, body: response.text.slice(0, 200) });
    checkResponse(openapi, label, operation, method, response);
    if (route === "/api/v1/silences/{id}" && method === "delete") {
      const again = await request(port, "DELETE", concrete(route));
      check(`${label} again: 404`, again.status === 404, again.status);
      checkResponse(openapi, `${label} again`, operation, method, again);
    }

    // Query parameters: the documented examples are accepted, the agent's
    // known parameters are the documented ones.
    if (method === "get" && route.startsWith("/api/v1/") && route !== "/api/v1/stream") {
      const query = (operation.parameters || []).filter((p) => p.in === "query");
      for (const parameter of query) {
        const example = parameter.example ?? parameter.schema?.example;
        if (example === undefined) continue;
        // A parameter family such as label.<name>: send one of them.
        const name = parameter.name.replace("<name>", "cpu");
        const r = await request(port, "GET", `${route}?${name}=${encodeURIComponent(example)}`);
        check(`${label}?${parameter.name}=${example}: documented example accepted (200)`, r.status === 200, r.text.slice(0, 200));
        checkResponse(openapi, `${label}?${parameter.name}=${example}`, operation, method, r);
      }
      const unknown = await request(port, "GET", `${route}?zz_undocumented=1`);
      const known = listInParentheses(parseJson(unknown.text)?.error?.message);
      const documented = query.map((p) => p.name).sort();
      check(`${label}: the query parameters the agent knows are the documented ones`,
        unknown.status === 400 && JSON.stringify(known) === JSON.stringify(documented.length ? documented : ["none"]),
        { agent: known, documented, body: unknown.text });
      checkResponse(openapi, `${label}?zz_undocumented=1`, operation, method, unknown);
    }
  }

  // Values outside the documented constraints are 400 in the error shape.
  const history = operations.find((o) => o.path === "/api/v1/history" && o.method === "get");
  for (const query of ["since_seq=-1", "since_seq=abc", "last=5x", "last=1.5m", "since_seq=1&last=5m", "series=no.such_series", "series=", "series=load.*&series=cpu.*"]) {
    const r = await request(port, "GET", `/api/v1/history?${query}`);
    check(`GET /api/v1/history?${query}: 400`, r.status === 400, r.text.slice(0, 200));
    checkResponse(openapi, `GET /api/v1/history?${query}`, history.operation, "get", r);
  }
  for (const query of ["last=1m30s", "last=500ms", "since_seq=0", "series=cpu.*.busy_pct"]) {
    const r = await request(port, "GET", `/api/v1/history?${query}`);
    check(`GET /api/v1/history?${query}: 200 (fits the documented constraints)`, r.status === 200, r.text.slice(0, 200));
  }

  // Other methods: 405 with Allow naming exactly the documented methods.
  for (const [route, methods] of byPath) {
    const documented = methods.map((m) => m.toUpperCase()).sort();
    for (const method of ["PUT", "PATCH", "POST", "DELETE", "GET"].filter((m) => !documented.includes(m))) {
      const r = await request(port, method, concrete(route));
      const allow = (r.headers.allow || "").split(",").map((s) => s.trim()).filter(Boolean).sort();
      check(`${method} ${route}: 405 with Allow = the documented methods`, r.status === 405 &&
        JSON.stringify(allow) === JSON.stringify(documented), { status: r.status, allow, documented });
      check(`${method} ${route}: 405 body in the error shape`, errorSchema(parseJson(r.text)), r.text);
    }
  }
  check("info.description documents the 405/Allow rule", /405[^\n]*\n?[^\n]*Allow/.test(api.info.description));

  // Undocumented paths under /api/v1/ are 404 in the error shape.
  const documentedPaths = [...byPath.keys()];
  for (const probe of ["/api/v1/", "/api/v1", "/api/v1/metrics", "/api/v1/schema", "/api/v1/config",
    "/api/v1/version", "/api/v1/status", "/api/v1/samples", "/api/v1/rules", "/api/v1/silence", "/api/v1/alert",
    "/api/v1/info/", "/api/v1/info/x", "/api/v1/snapshot/", "/api/v1/healthz", "/api/v2/info", "/api/v1/stream/x"]) {
    const matchesDocumented = documentedPaths.some((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(probe));
    check(`${probe}: not documented by accident`, !matchesDocumented);
    const r = await request(port, "GET", probe);
    check(`GET ${probe}: 404 in the error shape`, r.status === 404 && errorSchema(parseJson(r.text)), { status: r.status, body: r.text });
  }

  // Limits from the description: 413 and 431, in the error shape.
  const big = await request(port, "POST", "/api/v1/silences", { body: "x".repeat(70 * 1024) });
  check("a body over http.body_limit_bytes: 413 in the error shape", big.status === 413 && errorSchema(parseJson(big.text)), big.status);
  const longHead = await request(port, "GET", "/api/v1/info", { headers: { "x-filler": "y".repeat(20 * 1024) } }).catch((e) => ({ status: e.message, text: "" }));
  check("a request head over http.header_limit_bytes: 431 in the error shape",
    longHead.status === 431 && errorSchema(parseJson(longHead.text)), longHead.status);
  for (const status of ["400", "401", "404", "405", "413", "431", "503"]) {
    check(`status ${status} described in info.description or a response`, api.info.description.includes(status) ||
      operations.some((o) => o.operation.responses[status]));
  }

  // With a token: 401 without it, the bearer header and the session cookie work.
  const info = operations.find((o) => o.path === "/api/v1/info" && o.method === "get").operation;
  const login = operations.find((o) => o.path === "/api/v1/login" && o.method === "post").operation;
  const logout = operations.find((o) => o.path === "/api/v1/logout" && o.method === "post").operation;
  const noAuth = await request(tokenPort, "GET", "/api/v1/info");
  check("token agent: GET /api/v1/info without credentials is 401", noAuth.status === 401, noAuth.status);
  checkResponse(openapi, "token agent: GET /api/v1/info without credentials", info, "get", noAuth);
  const bearer = await request(tokenPort, "GET", "/api/v1/info", { headers: { authorization: `Bearer ${TOKEN}` } });
  check("token agent: bearer token gives 200", bearer.status === 200, bearer.status);
  checkResponse(openapi, "token agent: GET /api/v1/info with bearer", info, "get", bearer);
  const wrong = await request(tokenPort, "POST", "/api/v1/login", { body: { token: "wrong" } });
  checkResponse(openapi, "token agent: login with a wrong token", login, "post", wrong);
  check("token agent: login with a wrong token is 401", wrong.status === 401, wrong.status);
  const loggedIn = await request(tokenPort, "POST", "/api/v1/login", { body: { token: TOKEN } });
  const cookie = /hostpulse_session=[^;]+/.exec(String(loggedIn.headers["set-cookie"] || ""))?.[0];
  check("token agent: login sets the documented cookie (sessionCookie scheme)",
    loggedIn.status === 200 && cookie && api.components.securitySchemes.sessionCookie.name === cookie.split("=")[0], loggedIn.headers);
  const withCookie = await request(tokenPort, "GET", "/api/v1/info", { headers: { cookie } });
  check("token agent: the session cookie authorizes", withCookie.status === 200, withCookie.status);
  const out = await request(tokenPort, "POST", "/api/v1/logout", { headers: { cookie } });
  checkResponse(openapi, "token agent: logout", logout, "post", out);
  const after = await request(tokenPort, "GET", "/api/v1/info", { headers: { cookie } });
  check("token agent: the cookie is refused after logout", after.status === 401, after.status);
  const noToken = await request(port, "POST", "/api/v1/login", { body: { token: "x" } });
  check("agent without token: login is 404 (documented)", noToken.status === 404 && login.responses["404"], noToken.status);

  // The dashboard: ETag revalidation gives the documented 304.
  for (const route of ["/", "/hostpulse-client.js"]) {
    const op = api.paths[route]?.get;
    if (!op) continue;
    const first = await request(port, "GET", route);
    const again = await request(port, "GET", route, { headers: { "if-none-match": first.headers.etag || "none" } });
    check(`GET ${route} with If-None-Match: 304`, again.status === 304, again.status);
    checkResponse(openapi, `GET ${route} with If-None-Match`, op, "get", again);
  }
}

async function streamChecks(asyncapi, openapi, port, tokenPort, hotplug) {
  const { seen, validateMessage } = makeStreamValidator(asyncapi);
  const documentedClientTypes = [...new Set(asyncapi.messages.received.map((m) => m.type))].sort();
  const documentedServerTypes = new Set(asyncapi.messages.sent.map((m) => m.type));
  check("stream: documented client message types", documentedClientTypes.length > 0, documentedClientTypes);

  const client = connect(port, validateMessage);
  await client.open;
  const hello = (await client.next((m) => m.type === "hello", "hello")).message;
  check("stream: hello first, protocol 2", hello.protocol === 2);
  await client.next((m) => m.type === "alerts", "alerts after hello");

  // Every documented client message: its examples are accepted and answered
  // with one of the documented replies.
  let counter = 0;
  for (const message of asyncapi.messages.received) {
    for (const example of message.examples) {
      const id = `probe-${++counter}`;
      client.send({ ...example, id });
      const { message: reply } = await client.next((m) => m.id === id, `reply to ${message.type} example`);
      const replyId = asyncapi.messages.sent.find((m) => m.type === reply.type && m.validate(reply))?.id;
      check(`stream: '${message.type}' example accepted (reply '${reply.type}'${reply.code ? " " + reply.code : ""})`,
        reply.code !== "unknown_type" && message.replies.includes(replyId), { reply, documented: message.replies });
    }
    // The fields the agent allows for the type are the documented ones.
    const base = message.examples[0] || { type: message.type };
    const id = `fields-${++counter}`;
    client.send({ ...base, id, zz_undocumented: 1 });
    const { message: reply } = await client.next((m) => m.id === id, `reply to ${message.type} with an unknown field`);
    const allowed = listInParentheses(reply.message);
    const documented = Object.keys(message.schema.properties).sort();
    check(`stream: fields the agent allows in '${message.type}' are the documented ones`,
      reply.code === "bad_field" && JSON.stringify(allowed) === JSON.stringify(documented), { agent: allowed, documented, reply });
    for (const field of message.schema.required || []) {
      if (field === "type") continue;
      const rid = `required-${++counter}`;
      const copy = { ...base, id: rid };
      delete copy[field];
      client.send(copy);
      const { message: r } = await client.next((m) => m.id === rid, `reply to ${message.type} without ${field}`);
      check(`stream: '${message.type}' without the required '${field}' is refused`, r.type === "error" && r.code === "bad_field", r);
    }
  }

  // Undocumented types (server-only ones included) get unknown_type; the
  // types the agent lists there are the documented ones.
  for (const type of ["subscribe_all", "Subscribe", "hello", "samples", "pong", "resume", ""]) {
    if (documentedClientTypes.includes(type)) continue;
    const id = `unknown-${++counter}`;
    client.send({ type, id });
    const { message: reply } = await client.next((m) => m.id === id, `reply to type '${type}'`);
    check(`stream: undocumented type '${type}' gets unknown_type`, reply.type === "error" && reply.code === "unknown_type", reply);
    const listed = listInParentheses(reply.message);
    check(`stream: the types the agent accepts ('${type}' error) equal the documented ones`,
      JSON.stringify(listed) === JSON.stringify(documentedClientTypes), { agent: listed, documented: documentedClientTypes });
  }

  // The server messages not produced yet: samples in both formats, unsubscribed, history, pong, error.
  client.send({ type: "subscribe", id: "mp", series: ["cpu.busy_pct", "mem.used_bytes", "load.1m"], format: "msgpack" });
  const mp = (await client.next((m) => m.id === "mp", "subscribed (msgpack)")).message;
  client.send({ type: "subscribe", id: "js", series: ["cpu.*", "system.uptime_s"], batch: { max_samples: 2 }, alerts: true });
  const js = (await client.next((m) => m.id === "js", "subscribed (json)")).message;
  await client.next((m, isBinary) => isBinary && m.type === "samples" && m.sub === mp.sub, "msgpack samples");
  await client.next((m, isBinary) => !isBinary && m.type === "samples" && m.sub === js.sub, "json samples");
  client.send({ type: "history", id: "h", series: ["load.*"], since_seq: 0 });
  await client.next((m) => m.id === "h" && m.type === "history", "history reply");
  client.send({ type: "ping", id: 7 });
  await client.next((m) => m.id === 7 && m.type === "pong", "pong");
  client.send({ type: "unsubscribe", id: "u", sub: mp.sub });
  await client.next((m) => m.id === "u" && m.type === "unsubscribed", "unsubscribed");
  client.send({ type: "subscribe", series: ["cpu.bussy_pct"] });
  await client.next((m) => m.type === "error" && m.code === "unknown_series", "unknown_series error");
  // The second rule fires about two seconds after the agent started.
  await client.next((m) => m.type === "alert", "an alert transition", 8000);

  // A new connection now gets a non-empty alerts message (validated on arrival).
  const late = connect(port, validateMessage);
  const lateAlerts = (await late.next((m) => m.type === "alerts", "alerts on a second connection")).message;
  check("stream: alerts after hello lists the active alerts", lateAlerts.active.length >= 2, lateAlerts);
  late.ws.close(1000);

  // REST alerts now hold an active alert and events: validate those too.
  const alertsOp = openapi.api.paths["/api/v1/alerts"].get;
  const alerts = await request(port, "GET", "/api/v1/alerts");
  const body = checkResponse(openapi, "GET /api/v1/alerts (with active alerts and events)", alertsOp, "get", alerts);
  check("GET /api/v1/alerts: has active alerts and events to validate", body?.active?.length > 0 && body?.events?.length > 0, body);

  // A CPU coming online on the fixture procfs agent: a schema message.
  const watcher = connect(hotplug.port, validateMessage);
  await watcher.open;
  await watcher.next((m) => m.type === "hello", "hello from the fixture agent");
  hotplug.addCpu();
  const change = (await watcher.next((m) => m.type === "schema", "schema message after a CPU came online", 5000)).message;
  check("stream: the schema message adds the new CPU's series",
    change.added.some((family) => family.series.some((s) => s.name === "cpu.2.busy_pct")), change);
  watcher.ws.close(1000);

  for (const message of asyncapi.messages.sent) {
    check(`stream: documented server message ${message.id} ('${message.type}', ${message.contentType}) was received`, seen.has(message.id));
  }
  const receivedTypes = [...seen].filter((s) => !s.startsWith("logged:"));
  check("stream: every received type documented", receivedTypes.every((id) => asyncapi.messages.sent.some((m) => m.id === id)));
  check("stream: documented server types include every reply type", ["hello", "alerts", "alert", "subscribed", "unsubscribed",
    "samples", "history", "pong", "error"].every((t) => documentedServerTypes.has(t)));
  client.ws.close(1000);
  await withTimeout(client.closedPromise, "close");

  // Without the token: closed with 4001, a documented close code.
  const refused = connect(tokenPort, validateMessage);
  const code = await withTimeout(refused.closedPromise, "close without token");
  check(`stream: without the token closed with ${code}, a documented close code`, code === 4001 &&
    new RegExp(`\\|\\s*${code}\\s*\\|`).test(asyncapi.description), code);
  const allowed = connect(tokenPort, validateMessage, { protocols: ["hostpulse.v1", `bearer.${TOKEN}`] });
  const first = (await allowed.next(() => true, "hello with the bearer subprotocol")).message;
  check("stream: the bearer subprotocol (documented) authorizes", first.type === "hello" && /bearer\.<token>/.test(asyncapi.description));
  allowed.ws.close(1000);
}

async function main() {
  const started = Date.now();
  const [openapi, asyncapi] = await Promise.all([loadOpenApi(), loadAsyncApi()]);
  check("documents load", true);

  const uptime = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const soon = Math.ceil(uptime + 2);
  const main = startAgent(`[[alert]]
name = "apidocs_always"
series = "system.uptime_s"
warn = "> 0"
description = "up {{value}} s"

[[alert]]
name = "apidocs_soon"
series = "system.uptime_s"
warn = "> ${soon}"
crit = "> ${soon + 3600}"
description = "up {{value}} s, over {{threshold}}"
`);
  const tokenFile = path.join(tempDir, "token");
  fs.writeFileSync(tokenFile, TOKEN + "\n", { mode: 0o600 });
  const secured = startAgent(`token_file = "${tokenFile}"\n`);
  // A procfs of our own (the 2-CPU fixture), so a CPU can come online.
  const proc = path.join(tempDir, "proc");
  const fixture = new URL("../fixtures/proc/linux6_2cpu/", import.meta.url);
  fs.mkdirSync(proc);
  for (const name of ["stat", "meminfo", "loadavg", "uptime"]) fs.copyFileSync(new URL(name, fixture), path.join(proc, name));
  const hotplugAgent = startAgent(`procfs = "${proc}"\n`);
  const addCpu = () => {
    const stat = fs.readFileSync(path.join(proc, "stat"), "utf8").split("\n");
    const cpu1 = stat.findIndex((line) => line.startsWith("cpu1 "));
    stat.splice(cpu1 + 1, 0, stat[cpu1].replace(/^cpu1 /, "cpu2 "));
    fs.writeFileSync(path.join(proc, "stat.new"), stat.join("\n"));
    fs.renameSync(path.join(proc, "stat.new"), path.join(proc, "stat"));
  };
  const [port, tokenPort, hotplugPort] = await Promise.all([main.port, secured.port, hotplugAgent.port]);

  await restChecks(openapi, port, tokenPort);
  await streamChecks(asyncapi, openapi, port, tokenPort, { port: hotplugPort, addCpu });
  check("finished within 30 s", Date.now() - started < 30_000, Date.now() - started);
}

main()
  .catch((error) => {
    console.error(error);
    check("sync test ran to the end", false, error.message);
  })
  .finally(async () => {
    await stopAgents();
    process.exit(finish());
  });
