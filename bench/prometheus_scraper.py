#!/usr/bin/env python3
"""Scrapes Prometheus targets the way Prometheus 2.42 does, and measures them.

   prometheus_scraper.py --seconds S [--blocks N] [--warmup W] NAME=PID@URL [NAME=PID@URL ...]

Each target gets one scrape per second, all in the same loop (their order
alternates every second, so neither is always the one scraped right after
the other's response), over a kept-alive connection with the headers
Prometheus 2.42 sends. The window is split into N scraping blocks and N
quiet blocks, alternating, of S/N seconds each, so that both see the same
drift in the machine's load: CPU (utime+stime of each PID from
/proc/PID/stat, % of one core) is summed per kind of block, and the
difference is what the scrapes themselves cost. Before the window: W
seconds of warm-up with scrapes that are not counted.

Prints one JSON object: per target the scrape latency (request sent to the
last byte of the body read; median, p90, p99, max), response size as sent
(gzip) and decompressed, samples per scrape, content type, CPU with and
without scraping and the CPU per scrape."""
import gzip, http.client, json, os, statistics, sys, time, urllib.parse

TICKS = os.sysconf("SC_CLK_TCK")
# Exactly what Prometheus 2.42 sends with every scrape (scrape/scrape.go).
HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "User-Agent": "Prometheus/2.42.0",
    "X-Prometheus-Scrape-Timeout-Seconds": "10",
}
SCRAPE_TIMEOUT_S = 10  # Prometheus' default scrape_timeout


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class Target:
    def __init__(self, name, pid, url):
        self.name, self.pid = name, pid
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path or "/metrics"
        self.connection = None
        self.latencies_ms, self.wire_bytes, self.body_bytes, self.samples = [], [], [], []
        self.content_type = self.content_encoding = ""
        self.errors = 0
        self.cpu = {"scraping": 0, "quiet": 0}
        self.seconds = {"scraping": 0.0, "quiet": 0.0}
        self.scrapes_in_window = 0

    def scrape(self, record):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=SCRAPE_TIMEOUT_S)
        started = time.perf_counter()
        try:
            self.connection.request("GET", self.path, headers=HEADERS)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.errors += 1
            self.connection.close()
            self.connection = None
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status != 200:
            self.errors += 1
            return
        if not record:
            return
        self.scrapes_in_window += 1
        self.latencies_ms.append(elapsed_ms)
        self.content_type = response.getheader("Content-Type", "")
        self.content_encoding = response.getheader("Content-Encoding", "")
        body = gzip.decompress(payload) if self.content_encoding == "gzip" else payload
        self.wire_bytes.append(len(payload))
        self.body_bytes.append(len(body))
        self.samples.append(sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#")))

    def result(self):
        lat = self.latencies_ms or [0.0]
        cpu_pct = {k: 100.0 * self.cpu[k] / TICKS / max(1e-9, self.seconds[k]) for k in self.cpu}
        extra_ticks = self.cpu["scraping"] - self.cpu["quiet"] * self.seconds["scraping"] / max(1e-9, self.seconds["quiet"])
        return {
            "scrapes": len(self.latencies_ms), "errors": self.errors,
            "latency_ms": {"median": statistics.median(lat), "p90": percentile(lat, 0.9),
                           "p99": percentile(lat, 0.99), "max": max(lat)},
            "wire_bytes": statistics.median(self.wire_bytes or [0]),
            "body_bytes": statistics.median(self.body_bytes or [0]),
            "samples": statistics.median(self.samples or [0]),
            "content_type": self.content_type, "content_encoding": self.content_encoding,
            "cpu_pct_scraping": round(cpu_pct["scraping"], 3), "cpu_pct_quiet": round(cpu_pct["quiet"], 3),
            "cpu_ticks_scraping": self.cpu["scraping"], "cpu_ticks_quiet": self.cpu["quiet"],
            # CPU the scrapes added, per scrape: the scraping blocks' ticks
            # minus what the quiet blocks' rate predicts for that time.
            "cpu_ms_per_scrape": round(1000.0 * extra_ticks / TICKS / max(1, self.scrapes_in_window), 3),
            "rss_kib": rss_kib(self.pid),
        }


def run_block(targets, seconds, scraping, record, second_index):
    """One block: scrapes every target once per second (absolute deadlines) when scraping."""
    before = {t.name: cpu_ticks(t.pid) for t in targets}
    started = time.monotonic()
    deadline = started
    while True:
        if scraping:
            order = targets if second_index % 2 == 0 else list(reversed(targets))
            for target in order:
                target.scrape(record)
        second_index += 1
        deadline += 1.0
        if deadline - started >= seconds - 1e-6:
            break
        time.sleep(max(0.0, deadline - time.monotonic()))
    # The block ends a second after its last scrape (that scrape's work is inside it).
    time.sleep(max(0.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - started
    kind = "scraping" if scraping else "quiet"
    for t in targets:
        t.cpu[kind] += cpu_ticks(t.pid) - before[t.name]
        t.seconds[kind] += elapsed
    return second_index


def main():
    args = sys.argv[1:]

    def option(name, default):
        return float(args[args.index(name) + 1]) if name in args else default

    seconds, blocks, warmup = option("--seconds", 60), int(option("--blocks", 4)), option("--warmup", 5)
    targets = []
    for arg in args:
        if "=" in arg and "@" in arg:
            name, rest = arg.split("=", 1)
            pid, url = rest.split("@", 1)
            targets.append(Target(name, int(pid), url))
    if not targets:
        sys.exit("usage: prometheus_scraper.py --seconds S [--blocks N] [--warmup W] NAME=PID@URL ...")
    with open("/proc/loadavg") as f:
        load_start = " ".join(f.read().split()[:3])
    second = run_block(targets, warmup, scraping=True, record=False, second_index=0)
    for t in targets:  # the warm-up block is not part of either kind
        t.cpu = {"scraping": 0, "quiet": 0}
        t.seconds = {"scraping": 0.0, "quiet": 0.0}
    block_seconds = seconds / blocks
    for _ in range(blocks):
        second = run_block(targets, block_seconds, scraping=True, record=True, second_index=second)
        second = run_block(targets, block_seconds, scraping=False, record=False, second_index=second)
    with open("/proc/loadavg") as f:
        load_end = " ".join(f.read().split()[:3])
    result = {t.name: t.result() for t in targets}
    result["window"] = {"seconds_scraping": round(targets[0].seconds["scraping"], 1),
                        "seconds_quiet": round(targets[0].seconds["quiet"], 1), "blocks": blocks,
                        "warmup_seconds": warmup, "loadavg_start": load_start, "loadavg_end": load_end,
                        "headers": HEADERS}
    print(json.dumps(result))


main()
