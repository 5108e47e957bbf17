// A procfs tree for the agent (--procfs DIR) whose numbers move: every
// `periodMs` it rewrites stat, meminfo, loadavg and uptime atomically (write,
// then rename), so the dashboard has live data to draw. Deterministic:
// core `hotCore` runs at ~95 % busy, the others follow slow waves below 70 %.
// Load 1m is whatever the test sets (for alerts).

import fs from "node:fs";
import path from "node:path";

const USER_HZ = 100;

export class FakeProcfs {
  constructor(dir, { cpus = 64, hotCore = 3, periodMs = 100 } = {}) {
    this.dir = dir;
    this.cpus = cpus;
    this.hotCore = hotCore;
    this.periodMs = periodMs;
    this.load1m = 0.5;
    this.started = Date.now();
    this.last = this.started;
    // user nice system idle iowait irq softirq steal guest guest_nice, per CPU
    this.jiffies = Array.from({ length: cpus }, (_, i) => [1000 + i, 10, 500, 100000, 50, 5, 20, 0, 0, 0]);
    this.ctxt = 1_000_000;
    this.processes = 40_000;
    fs.mkdirSync(dir, { recursive: true });
    this.write();
    this.timer = setInterval(() => this.write(), periodMs);
  }

  busyFraction(cpu, seconds) {
    if (cpu === this.hotCore) return 0.95;
    return 0.1 + 0.25 * (1 + Math.sin(seconds / 6 + cpu * 0.7)) * (0.4 + 0.6 * ((cpu * 37) % 11) / 10);
  }

  write() {
    const now = Date.now();
    const ticks = ((now - this.last) / 1000) * USER_HZ;
    this.last = now;
    const seconds = (now - this.started) / 1000;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const busy = this.busyFraction(cpu, seconds);
      const j = this.jiffies[cpu];
      j[0] += ticks * busy * 0.62;  // user
      j[1] += ticks * busy * 0.03;  // nice
      j[2] += ticks * busy * 0.25;  // system
      j[5] += ticks * busy * 0.02;  // irq
      j[6] += ticks * busy * 0.08;  // softirq
      j[4] += ticks * (1 - busy) * 0.05;  // iowait
      j[3] += ticks * (1 - busy) * 0.95;  // idle
    }
    this.ctxt += Math.round(ticks * 400);
    this.processes += Math.round(ticks / 10);
    const line = (label, j) => `${label} ${j.map((v) => Math.floor(v)).join(" ")}`;
    const total = this.jiffies[0].map((_, k) => this.jiffies.reduce((sum, j) => sum + Math.floor(j[k]), 0));
    const running = 1 + Math.round(3 + 3 * Math.sin(seconds / 4));
    const blocked = Math.round(1 + Math.sin(seconds / 7));
    const stat = [
      `cpu  ${total.join(" ")}`,
      ...this.jiffies.map((j, cpu) => line(`cpu${cpu}`, j)),
      "intr 0",
      `ctxt ${this.ctxt}`,
      "btime 1790206129",
      `processes ${this.processes}`,
      `procs_running ${running}`,
      `procs_blocked ${blocked}`,
      "softirq 0 0 0 0 0 0 0 0 0 0 0",
      "",
    ].join("\n");
    const totalKb = 32 * 1024 * 1024;
    const cachedKb = Math.round(8 * 1024 * 1024 + 512 * 1024 * Math.sin(seconds / 9));
    const availableKb = Math.round(14 * 1024 * 1024 + 1024 * 1024 * Math.sin(seconds / 5));
    const swapFreeKb = Math.round(3 * 1024 * 1024 + 256 * 1024 * Math.cos(seconds / 11));
    const meminfo = [
      ["MemTotal", totalKb], ["MemFree", availableKb - cachedKb / 2], ["MemAvailable", availableKb],
      ["Buffers", 300000], ["Cached", cachedKb], ["SwapCached", 0], ["SwapTotal", 4 * 1024 * 1024],
      ["SwapFree", swapFreeKb], ["Dirty", 1200], ["Shmem", 200000], ["SReclaimable", 400000],
    ].map(([key, kb]) => `${(key + ":").padEnd(16)}${String(Math.round(kb)).padStart(9)} kB`).join("\n") + "\n";
    const load = this.load1m;
    const loadavg = `${load.toFixed(2)} ${(load * 0.8 + 0.3).toFixed(2)} ${(load * 0.6 + 0.2).toFixed(2)} ${running}/812 4242\n`;
    const uptime = `${(123456.78 + seconds).toFixed(2)} ${(400000 + seconds * this.cpus * 0.5).toFixed(2)}\n`;
    for (const [name, text] of [["stat", stat], ["meminfo", meminfo], ["loadavg", loadavg], ["uptime", uptime]]) {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file + ".tmp", text);
      fs.renameSync(file + ".tmp", file);
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}
