// Export of the points in view as CSV or JSON downloads.

// data: {seq, t, names, values} (values[i] is names[i]'s column).
export function toCsv(data) {
  const lines = [["time", "t_ms", "seq", ...data.names].join(",")];
  for (let k = 0; k < data.t.length; k++) {
    lines.push([new Date(data.t[k]).toISOString(), data.t[k], data.seq[k], ...data.values.map((c) => (c[k] == null ? "" : c[k]))].join(","));
  }
  return lines.join("\n") + "\n";
}

export function toJson(data, { host, windowS }) {
  return JSON.stringify({
    host: host ?? null,
    window_s: windowS,
    seq_first: data.seq[0] ?? 0,
    seq_last: data.seq[data.seq.length - 1] ?? 0,
    seq: data.seq,
    t: data.t,
    series: data.names,
    values: data.values,
  });
}

export function exportName(host, extension) {
  const safe = (host ?? "host").replace(/[^A-Za-z0-9._-]/g, "_");
  return `hostpulse-${safe}-${new Date().toISOString().replace(/[:.]/g, "-")}.${extension}`;
}

// How long the object URL of a download stays valid: enough for the browser to start saving.
const DOWNLOAD_URL_LIFETIME_MS = 10_000;

export function download(document, name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
}
