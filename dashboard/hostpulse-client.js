// hostpulse-client.js — a small client for the hostpulse live stream
// (docs/protocol.md). An ES module with no dependencies, served by every agent
// at /hostpulse-client.js for your own pages; documented in docs/client-js.md.
//
//   import { HostpulseClient } from "/hostpulse-client.js";
//   const client = new HostpulseClient({ series: ["cpu.busy_pct", "load.*"] });
//   client.on("samples", (frame) => console.log(frame.seqFirst, frame.columns["cpu.busy_pct"]));
//   client.on("state", (s) => console.log(s.state, s.rttMs, s.nextAttemptAt));
//   client.start();
//
// It reconnects with exponential backoff and full jitter (1 s doubling to a
// 30 s cap) and resumes from the last seq it saw, so a short outage leaves no
// gap. When the agent restarted meanwhile (a new `started_t` in hello) its seqs
// start again, so instead of resuming it emits "reset" and starts fresh: the
// page should refill from history.

export const PROTOCOL_VERSION = 2;

// The agent groups series by family (hello's "families", a schema message's
// "added"): the family's unit, kind and decimals once, then each series' id,
// name and labels. This gives one entry per series with all of them:
// {id, name, family, labels, unit, kind, decimals, description}.
export function flattenFamilies(families) {
  const entries = [];
  for (const family of Array.isArray(families) ? families : []) {
    for (const series of Array.isArray(family.series) ? family.series : []) {
      entries.push({ id: series.id, name: series.name, family: family.family, labels: series.labels ?? {},
        unit: family.unit, kind: family.kind, decimals: family.decimals ?? null, description: family.description });
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------
// MessagePack: the subset the agent writes (maps, arrays, strings, integers,
// float32/float64, nil, booleans). Throws on anything else or on truncation.
// 64-bit integers come back as numbers; with exactIntegers, those beyond
// Number's exact range (2^53) come back as BigInt instead of rounded.

export function decodeMsgpack(input, { exactIntegers = false } = {}) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let offset = 0;
  const need = (n) => {
    if (offset + n > bytes.length) throw new Error(`msgpack: truncated at byte ${offset}`);
  };
  const u8 = () => (need(1), bytes[offset++]);
  const u16 = () => (need(2), (offset += 2), view.getUint16(offset - 2));
  const u32 = () => (need(4), (offset += 4), view.getUint32(offset - 4));
  const exact = (big) => {
    const value = Number(big);
    return exactIntegers && !Number.isSafeInteger(value) ? big : value;
  };
  const u64 = () => {
    need(8);
    const value = view.getBigUint64(offset);
    offset += 8;
    return exact(value);
  };
  const i64 = () => {
    need(8);
    const value = view.getBigInt64(offset);
    offset += 8;
    return exact(value);
  };
  const str = (n) => {
    need(n);
    const value = text.decode(bytes.subarray(offset, offset + n));
    offset += n;
    return value;
  };
  const array = (n) => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value();
    return out;
  };
  const map = (n) => {
    const out = {};
    for (let i = 0; i < n; i++) {
      const key = value();
      out[key] = value();
    }
    return out;
  };
  function value() {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xca: need(4); offset += 4; return view.getFloat32(offset - 4);
      case 0xcb: need(8); offset += 8; return view.getFloat64(offset - 8);
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xcf: return u64();
      case 0xd0: need(1); offset += 1; return view.getInt8(offset - 1);
      case 0xd1: need(2); offset += 2; return view.getInt16(offset - 2);
      case 0xd2: need(4); offset += 4; return view.getInt32(offset - 4);
      case 0xd3: return i64();
      case 0xd9: return str(u8());
      case 0xda: return str(u16());
      case 0xdb: return str(u32());
      case 0xdc: return array(u16());
      case 0xdd: return array(u32());
      case 0xde: return map(u16());
      case 0xdf: return map(u32());
      default: throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)} at ${offset - 1}`);
    }
  }
  const result = value();
  if (offset !== bytes.length) throw new Error(`msgpack: ${bytes.length - offset} trailing bytes`);
  return result;
}

// A binary "samples" frame of protocol 2 (docs/protocol.md) in the JSON
// frame's shape: "t" absolute (it comes as the first time and differences),
// "values" instead of "cols". A column is [decimals, deltas...] of the values
// scaled by 10^decimals (nil is no value and skips the chain; trailing deltas
// left out are 0) or [null, raw values...]. k / 10^decimals is exactly the
// double the JSON frame's number parses to. Deltas may be BigInt (from
// decodeMsgpack's exactIntegers). Throws on a malformed frame.
export function expandBinarySamples(frame) {
  if (!Array.isArray(frame.t) || !Array.isArray(frame.cols)) throw new Error("samples: t and cols must be arrays");
  const t = new Array(frame.t.length);
  for (let k = 0; k < t.length; k++) t[k] = Number(frame.t[k]) + (k === 0 ? 0 : t[k - 1]);
  const values = frame.cols.map((column) => expandColumn(column, t.length));
  const { cols, ...rest } = frame;
  return { ...rest, seq_first: Number(frame.seq_first), seq_last: Number(frame.seq_last), t, values };
}

// A binary WebSocket message; samples frames in the JSON frame's shape.
function decodeBinaryMessage(data) {
  const message = decodeMsgpack(data, { exactIntegers: true });
  return message !== null && message.type === "samples" ? expandBinarySamples(message) : message;
}

const EXACT_LIMIT = 2 ** 53;  // the agent keeps scaled integers below it
const MAX_DECIMALS = 6;

function expandColumn(column, points) {
  if (!Array.isArray(column) || column.length === 0 || column.length > points + 1) {
    throw new Error("samples: a column must be [decimals, deltas...] with at most one entry per t");
  }
  const decimals = column[0];
  const out = new Array(points);
  if (decimals === null) {
    if (column.length !== points + 1) throw new Error("samples: a float column needs one entry per t");
    for (let k = 0; k < points; k++) {
      const value = column[k + 1];
      if (value !== null && typeof value !== "number") throw new Error("samples: a value must be a number or null");
      out[k] = value;
    }
    return out;
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new Error("samples: decimals must be 0 to 6 or null");
  }
  const scale = 10 ** decimals;
  let scaled = 0;
  for (let k = 0; k < points; k++) {
    const delta = k + 1 < column.length ? column[k + 1] : 0;
    if (delta === null) {
      out[k] = null;
      continue;
    }
    if (typeof delta === "bigint") scaled = Number(BigInt(scaled) + delta);
    else if (Number.isInteger(delta)) scaled += delta;
    else throw new Error("samples: a delta must be an integer");
    if (!(Math.abs(scaled) < EXACT_LIMIT)) throw new Error("samples: a scaled value is not below 2^53");
    out[k] = decimals === 0 ? scaled : scaled / scale;
  }
  return out;
}

// Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// uniformly random in [0, min(cap, base * 2^attempt)], but never below
// base / 2, so a dead agent is not hammered. attempt counts from 0.
export function backoffDelay(attempt, { baseMs = 1000, capMs = 30000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(baseMs / 2, Math.round(random() * ceiling));
}

// ---------------------------------------------------------------------------

const DEFAULTS = {
  url: null,                 // default: ws(s)://<this page's host>/api/v1/stream
  token: null,               // bearer token, sent as the "bearer.<token>" subprotocol
  series: ["*"],             // names and globs
  format: "json",            // "json" | "msgpack"
  batch: null,               // {max_samples, max_delay_ms}
  every: 1,                  // decimation
  alerts: true,              // alert messages on this connection
  pingIntervalMs: 5000,      // application ping: measures RTT and notices a dead agent
  pingTimeoutMs: 3000,       // no pong this long after a ping: the connection is dead
  connectTimeoutMs: 5000,    // handshake + hello must arrive within this
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  WebSocket: null,           // an implementation (e.g. node's `ws`); default: globalThis.WebSocket
};

export class HostpulseClient {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    for (const key of Object.keys(options)) {
      if (!(key in DEFAULTS)) throw new Error(`HostpulseClient: unknown option '${key}'`);
    }
    this.listeners = new Map();
    this.state = "idle";        // idle | connecting | connected | reconnecting | offline (no network) | stopped
    this.hello = null;          // the last hello (schema, host, interval_ms, started_t, seq)
    this.subscription = null;   // the last subscribed reply (sub, names)
    this.namesById = new Map();  // series id -> name, from hello and schema messages
    this.lastSeq = 0;           // newest seq delivered to "samples" listeners
    this.startedT = null;       // started_t of the agent those seqs belong to
    this.rttMs = null;
    this.attempt = 0;
    this.nextAttemptAt = null;
    this.gaps = 0;              // seq gaps seen (frames the agent dropped for us)
    this.socket = null;
    this.pending = new Map();   // request id -> {resolve, reject, timer}
    this.nextId = 1;
    this.timers = new Set();
    this.running = false;
    // Back online: try now rather than at the end of a long backoff. Gone
    // offline: say so at once (the connection, if any, is left to its pings).
    this.onOnline = () => this.running && this.state !== "connected" && this.connectNow();
    this.onOffline = () => this.running && this.state === "reconnecting" && this.setState("offline");
  }

  // Events: "state" {state, rttMs, attempt, nextAttemptAt}, "hello", "subscribed",
  // "samples" {seqFirst, seqLast, seqs, t, names, columns, values}, "alerts" (active list),
  // "alert" (one event), "schema" {seq, added, retired} (series added and retired at run
  // time, protocol 2), "reset" {reason}, "gap" {from, to}, "message" (every message), "error".
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event).delete(listener);
  }

  emit(event, payload) {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== "error") this.emit("error", error);
      }
    }
  }

  start() {
    if (this.running) return this;
    this.running = true;
    globalThis.addEventListener?.("online", this.onOnline);
    globalThis.addEventListener?.("offline", this.onOffline);
    this.connectNow();
    return this;
  }

  stop() {
    this.running = false;
    globalThis.removeEventListener?.("online", this.onOnline);
    globalThis.removeEventListener?.("offline", this.onOffline);
    this.clearTimers();
    this.dropSocket(1000);
    this.setState("stopped");
  }

  // The retained points of some series, in the columnar shape of "samples"
  // (a stream `history` request; see docs/protocol.md). Resolves with
  // {seqFirst, seqLast, seqs, t, names, columns, values}.
  history({ series, last, sinceSeq, timeoutMs = 15000 } = {}) {
    const request = { type: "history", series: series ?? this.options.series };
    if (last !== undefined) request.last = last;
    if (sinceSeq !== undefined) request.since_seq = sinceSeq;
    return this.request(request, timeoutMs).then((reply) => columnar(reply, reply.names));
  }

  // Sends a request and resolves with the reply of the same id (rejects on an error reply).
  request(message, timeoutMs = 10000) {
    if (this.state !== "connected") return Promise.reject(new Error("not connected"));
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  // --- internals ----------------------------------------------------------

  setState(state) {
    this.state = state;
    this.emit("state", { state, rttMs: this.rttMs, attempt: this.attempt, nextAttemptAt: this.nextAttemptAt });
  }

  later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  clearTimers() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error("connection lost"));
    }
    this.pending.clear();
  }

  url() {
    if (this.options.url) return this.options.url;
    const location = globalThis.location;
    if (!location) throw new Error("HostpulseClient: no url given and no page location to derive it from");
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/stream`;
  }

  connectNow() {
    this.clearTimers();
    this.dropSocket(1000);
    this.nextAttemptAt = null;
    // Attempts go on while the browser reports no network: the agent may be
    // on this very machine, which needs none.
    this.setState(this.attempt === 0 && this.hello === null ? "connecting" : browserOffline() ? "offline" : "reconnecting");
    const Impl = this.options.WebSocket ?? globalThis.WebSocket;
    const protocols = ["hostpulse.v1"];
    if (this.options.token) protocols.push(`bearer.${this.options.token}`);
    let socket;
    try {
      socket = new Impl(this.url(), protocols);
    } catch (error) {
      this.emit("error", error);
      this.scheduleReconnect();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let greeted = false;
    const connectTimer = this.later(this.options.connectTimeoutMs, () => {
      if (!greeted) this.lost("no hello within " + this.options.connectTimeoutMs + " ms");
    });
    socket.onmessage = (event) => {
      let message;
      try {
        message = typeof event.data === "string" ? JSON.parse(event.data) : decodeBinaryMessage(event.data);
      } catch (error) {
        this.emit("error", error);
        return;
      }
      if (message.type === "hello") {
        greeted = true;
        clearTimeout(connectTimer);
        this.timers.delete(connectTimer);
      }
      this.handle(message);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.lost(`closed ${event.code}${event.reason ? " " + event.reason : ""}`, event.code);
    };
    socket.onerror = () => {};  // onclose follows and says more
  }

  handle(message) {
    this.emit("message", message);
    switch (message.type) {
      case "hello": return this.onHello(message);
      case "subscribed":
        this.subscription = message;
        this.emit("subscribed", message);
        return;
      case "samples": return this.onSamples(message);
      case "alerts": return this.emit("alerts", message.active ?? []);
      case "alert": return this.emit("alert", message);
      case "schema":
        message.addedSeries = flattenFamilies(message.added);
        for (const entry of message.addedSeries) this.namesById.set(entry.id, entry.name);
        return this.emit("schema", message);
      case "pong":
        if (typeof message.id === "string" && message.id.startsWith("ping-")) {
          this.rttMs = Math.max(0, performanceNow() - Number(message.id.slice(5)));
          this.awaitingPong = null;
          this.emit("state", { state: this.state, rttMs: this.rttMs, attempt: this.attempt, nextAttemptAt: null });
        }
        return;
      default:
        break;
    }
    const waiter = message.id !== undefined ? this.pending.get(message.id) : undefined;
    if (waiter) {
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.type === "error") waiter.reject(new Error(`${message.code}: ${message.message}`));
      else waiter.resolve(message);
    } else if (message.type === "error") {
      this.emit("error", new Error(`${message.code}: ${message.message}`));
    }
  }

  onHello(hello) {
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.emit("error", new Error(`agent speaks protocol ${hello.protocol}, this client ${PROTOCOL_VERSION}`));
      this.stop();
      return;
    }
    const restarted = this.startedT !== null && hello.started_t !== this.startedT;
    const resume = !restarted && this.startedT !== null && this.lastSeq > 0;
    if (restarted) {
      this.lastSeq = 0;
      this.emit("reset", { reason: "restart", startedT: hello.started_t });
    }
    this.startedT = hello.started_t;
    this.hello = hello;
    this.attempt = 0;
    const subscribe = { type: "subscribe", id: "hostpulse-client", series: this.options.series, format: this.options.format };
    if (this.options.batch) subscribe.batch = this.options.batch;
    if (this.options.every !== 1) subscribe.every = this.options.every;
    if (!this.options.alerts) subscribe.alerts = false;
    if (resume) subscribe.resume_from = this.lastSeq;
    this.socket.send(JSON.stringify(subscribe));
    this.setState("connected");
    hello.series = flattenFamilies(hello.families);
    this.namesById = new Map(hello.series.map((entry) => [entry.id, entry.name]));
    this.emit("hello", hello);  // connected by now: listeners may send requests (history)
    this.ping();
  }

  onSamples(frame) {
    if (!this.subscription || frame.sub !== this.subscription.sub) return;
    // A frame's columns are its "series" ids: a subscription by glob gains
    // series that appear later, so the columns can change between frames.
    const names = Array.isArray(frame.series)
      ? frame.series.map((id) => this.namesById.get(id) ?? `#${id}`)
      : this.subscription.names;
    const samples = columnar(frame, names);
    // Catch-up after a resume may repeat what we have; drop it.
    let start = 0;
    while (start < samples.seqs.length && samples.seqs[start] <= this.lastSeq) start++;
    if (start === samples.seqs.length) return;
    const trimmed = start === 0 ? samples : sliceColumnar(samples, start);
    const expected = this.lastSeq + this.options.every;
    if (this.lastSeq > 0 && trimmed.seqFirst > expected) {
      this.gaps++;
      this.emit("gap", { from: expected, to: trimmed.seqFirst - 1 });
    }
    this.lastSeq = trimmed.seqLast;
    this.emit("samples", trimmed);
  }

  ping() {
    if (this.state !== "connected") return;
    this.later(this.options.pingIntervalMs, () => this.ping());
    if (this.awaitingPong) return;
    const sentAt = performanceNow();
    this.awaitingPong = sentAt;
    this.socket.send(JSON.stringify({ type: "ping", id: `ping-${sentAt}` }));
    this.later(this.options.pingTimeoutMs, () => {
      if (this.awaitingPong === sentAt) this.lost(`no pong within ${this.options.pingTimeoutMs} ms`);
    });
  }

  lost(reason, code) {
    this.awaitingPong = null;
    this.clearTimers();
    this.dropSocket(4000);
    this.emit("disconnected", { reason, code });
    if (!this.running) return;
    if (code === 4001) {
      this.emit("error", new Error("unauthorized (close 4001): the token is missing or wrong"));
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt, { baseMs: this.options.backoffBaseMs, capMs: this.options.backoffCapMs });
    this.attempt++;
    this.nextAttemptAt = Date.now() + delay;
    this.setState(browserOffline() ? "offline" : "reconnecting");
    this.later(delay, () => this.connectNow());
  }

  // Detaches the socket first: a stalled agent never answers the close
  // handshake, and its late events must not touch the new connection.
  dropSocket(code) {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onmessage = socket.onclose = socket.onopen = null;
    socket.onerror = () => {};
    try {
      if (socket.readyState <= 1) socket.close(code === 1000 ? 1000 : 4000);
    } catch {
      // already closing
    }
  }
}

function browserOffline() {
  return globalThis.navigator !== undefined && globalThis.navigator.onLine === false;
}

function performanceNow() {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

// {seq_first, seq_last, t, values} (+ names) -> {seqFirst, seqLast, seqs, t, names, values, columns}
function columnar(message, names) {
  const t = message.t ?? [];
  const values = message.values ?? [];
  const step = t.length > 1 ? (message.seq_last - message.seq_first) / (t.length - 1) : 1;
  const seqs = t.map((_, k) => message.seq_first + k * step);
  const columns = {};
  names.forEach((name, i) => (columns[name] = values[i]));
  return { seqFirst: message.seq_first, seqLast: message.seq_last, seqs, t, names, values, columns };
}

function sliceColumnar(samples, start) {
  const values = samples.values.map((column) => column.slice(start));
  const columns = {};
  samples.names.forEach((name, i) => (columns[name] = values[i]));
  const seqs = samples.seqs.slice(start);
  return { ...samples, seqFirst: seqs[0], seqs, t: samples.t.slice(start), values, columns };
}
