// Disks: the busiest by bytes read + written, with utilisation (time the
// device had I/O in flight) and the wait per completed request.
import { entityPanel } from "{{asset:entity-list.js}}";
import { bytesPerSecond, milliseconds, percent } from "{{asset:format.js}}";

// Above this a disk is close to saturated (util counts time with I/O in flight, not throughput).
const BUSY_UTIL_PCT = 90;

export default entityPanel({
  id: "disks",
  title: "Disks",
  subtitle: "by bytes/s",
  groups: [{
    id: "disk",
    label: "disk",
    fields: {
      read: "disk.read_bytes_per_s", write: "disk.write_bytes_per_s", util: "disk.util_pct",
      readAwait: "disk.read_await_ms", writeAwait: "disk.write_await_ms", queue: "disk.queue_depth",
    },
    host: { read: "disk.read_bytes_per_s", write: "disk.write_bytes_per_s" },
    summary: (h) => `all: read ${bytesPerSecond(h.read)} write ${bytesPerSecond(h.write)}`,
    rank: { fields: ["read", "write"] },
    cells: [
      { text: (v) => `r ${bytesPerSecond(v.read)}` },
      { text: (v) => `w ${bytesPerSecond(v.write)}` },
      { text: (v) => `util ${percent(v.util)}`, bar: (v) => v.util, tone: (v) => (v.util >= BUSY_UTIL_PCT ? "warn" : "") },
      { text: (v) => (v.readAwait == null && v.writeAwait == null ? "" : `await r ${milliseconds(v.readAwait)} w ${milliseconds(v.writeAwait)}`) },
    ],
  }],
});
