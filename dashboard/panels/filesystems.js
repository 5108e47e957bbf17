// Filesystems: the fullest first, space and inodes (a mount runs out of
// either), read-only mounts marked. Tones follow the stock alert rules.
import { entityPanel } from "{{asset:entity-list.js}}";
import { bytes, percent } from "{{asset:format.js}}";

// The stock rules' thresholds (packaging/rules.d/stock.toml: filesystem_*), so the colour and the alert agree.
const WARN_PCT = 90;
const CRIT_PCT = 95;
const tone = (pct) => (pct >= CRIT_PCT ? "bad" : pct >= WARN_PCT ? "warn" : "");

export default entityPanel({
  id: "fs",
  title: "Filesystems",
  subtitle: "fullest first",
  groups: [{
    id: "mount",
    label: "mount",
    fields: { used: "fs.used_pct", usedBytes: "fs.used_bytes", size: "fs.size_bytes", avail: "fs.avail_bytes",
      inodes: "fs.inodes_used_pct", readonly: "fs.readonly" },
    // Space or inodes, whichever is fuller: either one full stops writes.
    rank: { fields: ["used", "inodes"], score: (a) => Math.max(a.used ?? -1, a.inodes ?? -1) },
    cells: [
      { text: (v) => percent(v.used), bar: (v) => v.used, tone: (v) => tone(v.used) },
      { text: (v) => `${bytes(v.usedBytes)} of ${bytes(v.size)}` },
      { text: (v) => `free ${bytes(v.avail)}` },
      { text: (v) => (v.inodes == null ? "" : `inodes ${percent(v.inodes)}`), tone: (v) => tone(v.inodes) },
      { text: (v) => (v.readonly === 1 ? "read-only" : ""), tone: () => "warn" },
    ],
  }],
});
