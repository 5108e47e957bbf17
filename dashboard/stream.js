// What the page subscribes to and asks history for, worked out from the
// panels' resolved bindings, and the connection indicator's words.

// A label value as the agent writes it inside a name: UTF-8 bytes other than
// A-Z a-z 0-9 _ - / : @ + as %XX (docs/protocol.md#series-names-and-labels),
// so "/mnt/my disk" is "/mnt/my%20disk" and "eth0.100" one segment, "eth0%2E100".
export function escapeLabelValue(value) {
  let escaped = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    escaped += /[A-Za-z0-9_\-/:@+]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return escaped;
}

// The glob that covers one family's per-entity series, e.g. cpu.0.busy_pct and
// cpu.1.busy_pct -> cpu.*.busy_pct (the label's escaped value is a segment of
// the name), so series of that family added at run time are covered too and
// 256 cores stay one subscription entry. Null when the names do not share one.
export function entityGlob(entries) {
  let glob = null;
  for (const entry of entries) {
    const values = Object.values(entry.labels);
    const segments = entry.name.split(".");
    const at = values.length === 1 ? segments.indexOf(escapeLabelValue(values[0])) : -1;
    if (at < 0) return null;
    segments[at] = "*";
    const candidate = segments.join(".");
    if (glob !== null && candidate !== glob) return null;
    glob = candidate;
  }
  return glob;
}

// From every panel's model of resolved bindings ({key: entry | null | [entries]}):
//   series: names and globs for the live subscription (each matches something:
//           the agent refuses an entry that matches nothing)
//   history: the same split into requests: the host-wide series in one, each
//            per-entity family in its own, so 256 cores x 1 h stays under the
//            agent's per-reply limit.
export function subscriptionFor(resolvedPanels) {
  const singles = new Set();
  const groups = new Map();  // glob or name list (joined) -> names
  for (const resolved of resolvedPanels) {
    for (const value of Object.values(resolved)) {
      if (value === null) continue;
      if (!Array.isArray(value)) {
        singles.add(value.name);
        continue;
      }
      if (!value.length) continue;
      const glob = entityGlob(value);
      const names = glob ? [glob] : value.map((entry) => entry.name);
      groups.set(names.join(","), names);
    }
  }
  const series = [...singles, ...[...groups.values()].flat()];
  const history = [...(singles.size ? [[...singles]] : []), ...groups.values()];
  return { series, history };
}

// Columns of several history replies over the seqs they all cover (they
// were answered a moment apart).
export function joinBySeq(replies) {
  const first = Math.max(...replies.map((r) => r.seqs[0] ?? Infinity));
  const last = Math.min(...replies.map((r) => r.seqs[r.seqs.length - 1] ?? -Infinity));
  const joined = { seqs: [], t: [], names: [], values: [] };
  if (!(first <= last)) return joined;
  for (const reply of replies) {
    const a = reply.seqs.indexOf(first);
    const b = reply.seqs.indexOf(last) + 1;
    if (!joined.seqs.length) {
      joined.seqs = reply.seqs.slice(a, b);
      joined.t = reply.t.slice(a, b);
    }
    joined.names.push(...reply.names);
    joined.values.push(...reply.values.map((column) => column.slice(a, b)));
  }
  return joined;
}

// The retained points of the last `last` ("300s") for these requests, joined.
export async function loadHistory(client, requests, last) {
  const replies = await Promise.all(requests.map((series) => client.history({ series, last })));
  return joinBySeq(replies);
}

// The indicator's text for the client's "state" event.
export function connectionText({ state, rttMs, nextAttemptAt }, now = Date.now()) {
  if (state === "connected") {
    return rttMs == null ? "connected" : `connected · ${rttMs.toFixed(rttMs < 10 ? 1 : 0)} ms`;
  }
  if (state === "reconnecting" || state === "offline") {
    const seconds = nextAttemptAt ? Math.max(0, Math.ceil((nextAttemptAt - now) / 1000)) : 0;
    const countdown = nextAttemptAt && seconds > 0 ? ` in ${seconds} s` : "…";
    return state === "offline" ? `offline · retrying${countdown}` : `reconnecting${countdown}`;
  }
  return "connecting…";
}
