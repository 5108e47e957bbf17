// Points in arrival order, one array per column (series name), capped to the
// window: memory stays bounded in a tab left open for hours. A series that
// appears at run time gets a column filled with null for the points before it.

export class PointBuffer {
  constructor() {
    this.clear();
  }

  clear() {
    this.seq = [];
    this.t = [];        // ms
    this.x = [];        // s, what uPlot takes
    this.columns = new Map();  // name -> values
    this.gaps = 0;
  }

  column(name) {
    let column = this.columns.get(name);
    if (!column) {
      column = new Array(this.seq.length).fill(null);
      this.columns.set(name, column);
    }
    return column;
  }

  lastSeq() {
    return this.seq.length ? this.seq[this.seq.length - 1] : 0;
  }

  // Appends points newer than what we hold.
  append(samples) {
    const last = this.lastSeq();
    for (let k = 0; k < samples.seqs.length; k++) {
      const seq = samples.seqs[k];
      if (seq <= last && this.seq.length) continue;
      if (this.seq.length && seq !== this.lastSeq() + 1) this.gaps++;
      this.seq.push(seq);
      this.t.push(samples.t[k]);
      this.x.push(samples.t[k] / 1000);
      const length = this.seq.length;
      for (const column of this.columns.values()) column.push(null);
      samples.names.forEach((name, i) => {
        this.column(name)[length - 1] = samples.values[i][k];
      });
    }
  }

  // Puts older points (history) in front of what we hold.
  prepend(samples) {
    const first = this.seq.length ? this.seq[0] : Infinity;
    let count = 0;
    while (count < samples.seqs.length && samples.seqs[count] < first) count++;
    if (count === 0) return;
    const names = new Set([...this.columns.keys(), ...samples.names]);
    const index = new Map(samples.names.map((name, i) => [name, i]));
    for (const name of names) {
      const column = this.column(name);
      const i = index.get(name);
      const older = i === undefined ? new Array(count).fill(null) : samples.values[i].slice(0, count);
      this.columns.set(name, older.concat(column));
    }
    this.seq = samples.seqs.slice(0, count).concat(this.seq);
    this.t = samples.t.slice(0, count).concat(this.t);
    this.x = this.t.map((t) => t / 1000);
  }

  // Drops points older than the window. Trims in steps so a 1 h window of
  // 256 cores is not shifted every second.
  trim(windowMs, maxPoints) {
    if (!this.t.length) return;
    const newest = this.t[this.t.length - 1];
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < newest - windowMs) drop++;
    drop = Math.max(drop, this.t.length - maxPoints);
    const slack = Math.max(1, Math.floor(maxPoints / 20));
    if (drop < slack && this.t.length <= maxPoints + slack) return;
    if (drop <= 0) return;
    this.seq.splice(0, drop);
    this.t.splice(0, drop);
    this.x.splice(0, drop);
    for (const column of this.columns.values()) column.splice(0, drop);
  }

  // The points with t in [from, to], as copies (for export and a paused view).
  range(fromMs, toMs) {
    let a = 0;
    while (a < this.t.length && this.t[a] < fromMs) a++;
    let b = this.t.length;
    while (b > a && this.t[b - 1] > toMs) b--;
    const out = { seq: this.seq.slice(a, b), t: this.t.slice(a, b), x: this.x.slice(a, b), columns: new Map() };
    for (const [name, column] of this.columns) out.columns.set(name, column.slice(a, b));
    return out;
  }
}

// What panels draw from: {seq, t, x, columns, toMs} plus column(name), which
// is all null for a series with no points here (or no series: name null).
export function makeView({ seq, t, x, columns, toMs }) {
  return {
    seq, t, x, columns, toMs,
    column: (name) => (name != null && columns.get(name)) || new Array(x.length).fill(null),
  };
}
