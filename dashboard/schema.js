// The series the agent describes (hello's families, then "schema" messages
// that add and retire series at run time), seen by family and labels, so a
// panel asks for "cpu.busy_pct, one per cpu" instead of a list of names.
// See docs/protocol.md and docs/architecture.md#dashboard.

// One schema entry as the view keeps it: labels always an object.
export function describe(entry) {
  return { ...entry, family: entry.family ?? entry.name, labels: entry.labels ?? {}, retired: false };
}

function sameLabels(a, b) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

// "10" after "9": label values are compared as numbers when both are numbers.
export function compareLabelValues(a, b) {
  const x = Number(a);
  const y = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

// A panel's binding, resolved against the live (not retired) series:
//   {family}            -> the host-wide series of that family (labels {}), or null
//   {family, labels}    -> the series with exactly these labels, or null
//   {family, each: key} -> every series of the family whose only label is `key`,
//                          ordered by that label's value (one row per entity)
export function resolveBinding(entries, binding) {
  const live = entries.filter((entry) => !entry.retired && entry.family === binding.family);
  if (binding.each !== undefined) {
    const key = binding.each;
    return live
      .filter((entry) => Object.keys(entry.labels).length === 1 && entry.labels[key] !== undefined)
      .sort((a, b) => compareLabelValues(a.labels[key], b.labels[key]));
  }
  const labels = binding.labels ?? {};
  return live.find((entry) => sameLabels(entry.labels, labels)) ?? null;
}

// Every binding of a panel: {key: entry | null | [entries]}.
export function resolvePanel(entries, panel) {
  const resolved = {};
  for (const [key, binding] of Object.entries(panel.bindings ?? {})) resolved[key] = resolveBinding(entries, binding);
  return resolved;
}

export class SchemaView {
  constructor(entries = []) {
    this.listeners = new Set();
    this.byId = new Map();
    this.reset(entries);
  }

  // listener({added, retired}) after every change; returns the unsubscribe function.
  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // The whole schema anew (a hello: possibly another agent, other CPUs).
  reset(entries) {
    this.byId = new Map(entries.map((entry) => [entry.id, describe(entry)]));
    this.changed({ added: [...this.byId.values()], retired: [] });
  }

  // A "schema" message as the client hands it on: {addedSeries: [entries],
  // retired: [ids]} (the client flattens the message's families). Retired
  // entries stay (marked) so a name in old points still has its unit, but no
  // binding resolves to them; ids are never reused, so an id seen again is a
  // duplicate delivery and is ignored.
  apply(message) {
    const added = [];
    const retired = [];
    for (const entry of message.addedSeries ?? []) {
      if (this.byId.has(entry.id)) continue;
      const described = describe(entry);
      this.byId.set(entry.id, described);
      added.push(described);
    }
    for (const id of message.retired ?? []) {
      const entry = this.byId.get(id);
      if (!entry || entry.retired) continue;
      entry.retired = true;
      retired.push(entry);
    }
    if (added.length || retired.length) this.changed({ added, retired });
  }

  entries() {
    return [...this.byId.values()];
  }

  // The newest entry of that name (a name can come back with a new id).
  byName(name) {
    let found = null;
    for (const entry of this.byId.values()) if (entry.name === name && (!found || !entry.retired)) found = entry;
    return found;
  }

  resolve(panel) {
    return resolvePanel(this.entries(), panel);
  }

  changed(change) {
    for (const listener of this.listeners) listener(change);
  }
}

// Keeps a SchemaView in step with a HostpulseClient: a hello brings the whole
// schema, a "schema" message the changes since.
export function followSchema(client, view) {
  const offHello = client.on("hello", (hello) => hello.series && view.reset(hello.series));
  const offSchema = client.on("schema", (message) => view.apply(message));
  return () => {
    offHello();
    offSchema();
  };
}
