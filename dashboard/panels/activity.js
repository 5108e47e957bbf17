// Kernel activity next to the system facts: paging, swapping, OOM kills, TCP
// and sockets, open files against the limit. One row each, shown when the
// agent has the family.
import { entityPanel } from "{{asset:entity-list.js}}";
import { percent, perSecond } from "{{asset:format.js}}";

const count = (v) => (v == null ? "–" : String(Math.round(v)));
const single = (id, name, fields, cells) => ({ id, label: null, name: () => name, fields, cells });

export default entityPanel({
  id: "activity",
  title: "System activity",
  subtitle: "memory paging, TCP, sockets, files",
  groups: [
    single("vm", "paging", { pageIn: "vm.page_ins_per_s", pageOut: "vm.page_outs_per_s", swapIn: "vm.swap_ins_per_s",
      swapOut: "vm.swap_outs_per_s", major: "vm.major_faults_per_s", oom: "vm.oom_kills" }, [
      { text: (v) => `pages in ${perSecond(v.pageIn)} out ${perSecond(v.pageOut)}` },
      { text: (v) => `swap in ${perSecond(v.swapIn)} out ${perSecond(v.swapOut)}`, tone: (v) => (v.swapIn > 0 ? "warn" : "") },
      { text: (v) => `major faults ${perSecond(v.major)}` },
      { text: (v) => (v.oom == null ? "" : `OOM kills ${count(v.oom)}`), tone: (v) => (v.oom > 0 ? "bad" : "") },
    ]),
    single("tcp", "TCP", { established: "tcp.established", retransmits: "tcp.retransmits_per_s", active: "tcp.active_opens_per_s",
      passive: "tcp.passive_opens_per_s", timeWait: "tcp.time_wait", orphan: "tcp.orphan", udpErrors: "udp.in_errors_per_s" }, [
      { text: (v) => `established ${count(v.established)}` },
      { text: (v) => `connects out ${perSecond(v.active)} in ${perSecond(v.passive)}` },
      { text: (v) => `retransmits ${perSecond(v.retransmits)}` },
      { text: (v) => (v.timeWait == null ? "" : `time-wait ${count(v.timeWait)} orphan ${count(v.orphan)}`) },
      { text: (v) => (v.udpErrors > 0 ? `UDP errors ${perSecond(v.udpErrors)}` : ""), tone: () => "bad" },
    ]),
    single("files", "files", { sockets: "sockets.used", open: "files.open", max: "files.max", usedPct: "files.used_pct" }, [
      { text: (v) => (v.sockets == null ? "" : `sockets ${count(v.sockets)}`) },
      { text: (v) => (v.open == null ? "" : `open ${count(v.open)} of ${count(v.max)}`), bar: (v) => v.usedPct },
    ]),
  ],
});
