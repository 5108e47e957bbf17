// Network: the busiest interfaces by rx + tx, virtual ones (lo, veth, bridges,
// tunnels) behind a toggle since a container host has dozens of them; errors
// and drops only when there are some, a down link marked.
import { entityPanel } from "{{asset:entity-list.js}}";
import { bytesPerSecond, perSecond } from "{{asset:format.js}}";

const sum = (a, b) => (a == null && b == null ? null : (a ?? 0) + (b ?? 0));

export default entityPanel({
  id: "net",
  title: "Network",
  subtitle: "interfaces by traffic",
  groups: [{
    id: "if",
    label: "interface",
    fields: {
      rx: "net.rx_bytes_per_s", tx: "net.tx_bytes_per_s",
      rxErrors: "net.rx_errors_per_s", txErrors: "net.tx_errors_per_s",
      rxDrops: "net.rx_drops_per_s", txDrops: "net.tx_drops_per_s",
      up: "net.up", virtual: "net.virtual",
    },
    host: { rx: "net.rx_bytes_per_s", tx: "net.tx_bytes_per_s", count: "net.interfaces" },
    summary: (h) => `all physical: ↓ ${bytesPerSecond(h.rx)} ↑ ${bytesPerSecond(h.tx)}`,
    rank: { fields: ["rx", "tx"] },
    filter: { field: "virtual", noun: "virtual" },
    cells: [
      { text: (v) => `↓ ${bytesPerSecond(v.rx)}` },
      { text: (v) => `↑ ${bytesPerSecond(v.tx)}` },
      { text: (v) => (sum(v.rxErrors, v.txErrors) > 0 ? `errors ${perSecond(sum(v.rxErrors, v.txErrors))}` : ""), tone: () => "bad" },
      { text: (v) => (sum(v.rxDrops, v.txDrops) > 0 ? `drops ${perSecond(sum(v.rxDrops, v.txDrops))}` : ""), tone: () => "warn" },
      { text: (v) => (v.up === 0 ? "down" : ""), tone: () => "bad" },
    ],
  }],
});
