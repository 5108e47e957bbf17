// Numbers as the dashboard shows them ("–" for no value).

export const NO_VALUE = "–";

export const percent = (v) => (v == null ? NO_VALUE : `${v.toFixed(1)} %`);

export function bytes(v) {
  if (v == null) return NO_VALUE;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${(Math.sign(v) * x).toFixed(x >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return NO_VALUE;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}

export const bytesPerSecond = (v) => (v == null ? NO_VALUE : `${bytes(v)}/s`);

// Rates of events: two places while small (0.05 errors/s matters), whole numbers once large.
export const perSecond = (v) => (v == null ? NO_VALUE : `${v < 10 ? v.toFixed(2) : Math.round(v)}/s`);

export const milliseconds = (v) => (v == null ? NO_VALUE : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ms`);

export const celsius = (v) => (v == null ? NO_VALUE : `${v.toFixed(1)} °C`);

export function hertz(v) {
  if (v == null) return NO_VALUE;
  const [scale, unit] = v >= 1e9 ? [1e9, "GHz"] : v >= 1e6 ? [1e6, "MHz"] : v >= 1e3 ? [1e3, "kHz"] : [1, "Hz"];
  return `${(v / scale).toFixed(scale === 1 ? 0 : 2)} ${unit}`;
}

export const rpm = (v) => (v == null ? NO_VALUE : `${Math.round(v)} rpm`);
export const yesNo = (v) => (v == null ? NO_VALUE : v ? "yes" : "no");
export const fixed2 = (v) => (v == null ? NO_VALUE : v.toFixed(2));
export const whole = (v) => (v == null ? NO_VALUE : String(v));
export const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
export const stamp = (ms) => new Date(ms).toLocaleString([], { hour12: false });

// A value in the series' unit (from the schema), e.g. for an alert.
export function inUnit(value, unit) {
  if (unit === "bytes") return bytes(value);
  if (unit === "percent") return percent(value);
  if (unit === "count") return String(Math.round(value));
  if (unit === "seconds") return duration(value);
  if (unit === "bytes_per_second") return bytesPerSecond(value);
  if (unit === "per_second") return perSecond(value);
  if (unit === "milliseconds") return milliseconds(value);
  if (unit === "celsius") return celsius(value);
  if (unit === "hertz") return hertz(value);
  if (unit === "rpm") return rpm(value);
  if (unit === "bool") return yesNo(value);
  return Number.isInteger(value) && unit !== "load" ? String(value) : value.toFixed(2);
}
