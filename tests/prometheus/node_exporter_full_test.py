#!/usr/bin/python3
"""Grafana's "Node Exporter Full" dashboard against a real Prometheus.

Starts Debian's prometheus on loopback, scraping one target every second
(node_exporter, or the built hostpulse with a bearer token), and checks what
a user of that dashboard would see:

  1. the dashboard's host picker: its template variables (label_values over
     node_uname_info) resolve to the target's job, nodename and instance;
  2. every query of the covered panels (node_exporter_full_queries.json),
     with the variables substituted as Grafana does, returns data through
     /api/v1/query (and /api/v1/query_range for the time-series panels):
     an empty result or only NaN fails, naming the panel and the query;
  3. Prometheus scraped the target without errors (health "up", no
     lastError, no samples dropped) and no series appears twice in one scrape
     (which Prometheus drops without a word): Prometheus 2.42 asks
     for OpenMetrics first, so this is the OpenMetrics path when the target
     serves it (--expect-openmetrics makes sure it does);
  4. `promtool check metrics` on the target's 0.0.4 text reports nothing
     that it does not also report for node_exporter's text in the same run;
  5. (hostpulse only) values read back through Prometheus match the agent's
     own REST answer for the same series.

Exit status: 0 pass, 1 fail, 77 skipped (hostpulse answers 404 on /metrics,
that is, the endpoint is not there yet).

usage: node_exporter_full_test.py --queries FILE --prometheus BIN --promtool BIN
         --node-exporter BIN (--target node_exporter | --target hostpulse --hostpulse BIN
                              | --target external --target-address HOST:PORT [--token-file F])
         [--target-lacks METRIC]... [--expect-openmetrics]

Only the Python standard library; every process it starts is stopped by PID
on every way out (and dies with this script if it is killed outright).
"""

import argparse
import ctypes
import gzip
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from agent_process import Agent  # noqa: E402

SKIP = 77  # ctest SKIP_RETURN_CODE
SCRAPE_INTERVAL_S = 1  # the agent's default tick; also the smallest interval Grafana's $__interval takes here
# Grafana's $__rate_interval is at least four scrape intervals (so rate() always has two points).
RATE_INTERVAL_SCRAPES = 4
# Grafana computes $__interval from the time range and the panel's width in pixels when the
# panel sets no maxDataPoints; a wide panel is about this many.
GRAFANA_DEFAULT_MAX_DATA_POINTS = 1000
JOB = "node"  # what most scrape configs call the node_exporter job
START_TIMEOUT_S = 15  # for a process to log its listening address, Prometheus to be ready
SCRAPES_TIMEOUT_S = 20  # for the target to be up with a full $__rate_interval of samples
HTTP_TIMEOUT_S = 5  # any one request
STOP_TIMEOUT_S = 5  # after SIGTERM, before SIGKILL
# The Accept and Accept-Encoding headers Prometheus 2.42 sends on every scrape.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
TEXT_004_ACCEPT = "text/plain;version=0.0.4"
# Prometheus' own counters of samples it dropped from a scrape without failing it: an exporter
# that repeats a series or sends samples out of order shows up only here.
SCRAPE_DROP_COUNTERS = [
    "prometheus_target_scrapes_sample_duplicate_timestamp_total",
    "prometheus_target_scrapes_sample_out_of_order_total",
    "prometheus_target_scrapes_sample_out_of_bounds_total",
    "prometheus_target_scrapes_exceeded_sample_limit_total",
    "prometheus_target_scrapes_exceeded_body_size_limit_total",
]

# (PromQL, hostpulse REST family) pairs for the value comparison. <label> in the PromQL is
# replaced by that label of each REST series of the family ($node, $job and $__rate_interval as
# in the dashboard). "recent": the scraped value must be one of the agent's points of the last
# RECENT_WINDOW_S (a scrape serves the newest point as it is); "mean": a rate over
# $__rate_interval against the mean of the agent's per-tick values over the same window;
# "count": the number of REST series of the family that have the label.
REST_PAIRS = [
    {"promql": 'node_load1{instance="$node",job="$job"}', "family": "load.1m", "mode": "recent", "abs": 1e-9},
    {"promql": 'node_load5{instance="$node",job="$job"}', "family": "load.5m", "mode": "recent", "abs": 1e-9},
    {"promql": 'node_load15{instance="$node",job="$job"}', "family": "load.15m", "mode": "recent", "abs": 1e-9},
    {"promql": 'node_memory_MemTotal_bytes{instance="$node",job="$job"}', "family": "mem.total_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_MemAvailable_bytes{instance="$node",job="$job"}', "family": "mem.available_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_MemFree_bytes{instance="$node",job="$job"}', "family": "mem.free_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_Cached_bytes{instance="$node",job="$job"}', "family": "mem.cached_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_Buffers_bytes{instance="$node",job="$job"}', "family": "mem.buffers_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_SReclaimable_bytes{instance="$node",job="$job"}', "family": "mem.slab_reclaimable_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_SwapTotal_bytes{instance="$node",job="$job"}', "family": "swap.total_bytes",
     "mode": "recent", "abs": 0.5},
    {"promql": 'node_memory_SwapFree_bytes{instance="$node",job="$job"}', "family": "swap.free_bytes",
     "mode": "recent", "abs": 0.5},
    # The scrape's node_time_seconds is the scrape's time, the agent's uptime that of its tick.
    {"promql": 'node_time_seconds{instance="$node",job="$job"} - node_boot_time_seconds{instance="$node",job="$job"}',
     "family": "system.uptime_s", "mode": "recent", "abs": SCRAPE_INTERVAL_S + 1.5},
    {"promql": 'count(count(node_cpu_seconds_total{instance="$node",job="$job"}) by (cpu))',
     "family": "cpu.busy_pct", "mode": "count", "label": "cpu"},
    # Rates: windows of Prometheus and of the agent's ticks are not aligned (up to one interval
    # apart), so these only catch unit and scale mistakes (jiffies, sectors, bits), not noise.
    {"promql": '100 * avg(rate(node_cpu_seconds_total{instance="$node",job="$job",mode="idle"}[$__rate_interval]))',
     "family": "cpu.idle_pct", "mode": "mean", "abs": 15},
    {"promql": '100 * avg(rate(node_cpu_seconds_total{instance="$node",job="$job",mode="user"}[$__rate_interval]))',
     "family": "cpu.user_pct", "mode": "mean", "abs": 15},
    {"promql": '100 * avg(rate(node_cpu_seconds_total{instance="$node",job="$job",mode="system"}[$__rate_interval]))',
     "family": "cpu.system_pct", "mode": "mean", "abs": 15},
    {"promql": 'rate(node_network_receive_bytes_total{instance="$node",job="$job",device="<interface>"}'
               '[$__rate_interval])', "family": "net.rx_bytes_per_s", "mode": "mean", "abs": 256e3, "rel": 0.5},
    {"promql": 'rate(node_network_transmit_bytes_total{instance="$node",job="$job",device="<interface>"}'
               '[$__rate_interval])', "family": "net.tx_bytes_per_s", "mode": "mean", "abs": 256e3, "rel": 0.5},
    {"promql": 'rate(node_disk_read_bytes_total{instance="$node",job="$job",device="<disk>"}[$__rate_interval])',
     "family": "disk.read_bytes_per_s", "mode": "mean", "abs": 4e6, "rel": 0.5},
    {"promql": 'rate(node_disk_written_bytes_total{instance="$node",job="$job",device="<disk>"}[$__rate_interval])',
     "family": "disk.write_bytes_per_s", "mode": "mean", "abs": 4e6, "rel": 0.5},
    {"promql": 'node_filesystem_size_bytes{instance="$node",job="$job",mountpoint="<mount>"}',
     "family": "fs.size_bytes", "mode": "recent", "abs": 0.5},
    {"promql": 'node_filesystem_avail_bytes{instance="$node",job="$job",mountpoint="<mount>"}',
     "family": "fs.avail_bytes", "mode": "recent", "abs": 0.5},
    {"promql": '100 * rate(node_pressure_<resource>_waiting_seconds_total{instance="$node",job="$job"}'
               '[$__rate_interval])', "family": "pressure.some_stall_pct", "mode": "mean", "abs": 10},
]
RECENT_WINDOW_S = 10  # how far back a scraped value may have been the agent's point


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def log(message):
    print(message, flush=True)


# --- processes ---------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # Runs in the child before exec: if this script is killed outright (SIGKILL on a
    # ctest timeout), the kernel kills the child too instead of leaving it listening.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Process:
    """A child whose output goes to a file; its listening address comes from the
    `msg="Listening on" address=HOST:PORT` line that Prometheus and node_exporter log."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def address(self, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r'msg="Listening on" address=(\S+)', self.output())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise Failure(f"{self.name} did not log its address within {timeout} s:\n{self.output()}")

    def output(self):
        with open(self.log_path, "rb") as file:
            return file.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()


# --- HTTP --------------------------------------------------------------------------------

def http_get(url, headers=None):
    """(status, headers, body bytes, decompressed if gzip)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            body = response.read()
            status, response_headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        body = error.read()
        status, response_headers = error.code, error.headers
    if response_headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, response_headers, body


class PrometheusApi:
    def __init__(self, base_url):
        self.base_url = base_url

    def get(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        status, _, body = http_get(f"{self.base_url}{path}?{query}")
        try:
            answer = json.loads(body)
        except ValueError:
            raise Failure(f"Prometheus {path}: HTTP {status}, not JSON: {body[:200]!r}")
        if answer.get("status") != "success":
            raise Failure(f"Prometheus {path} {params}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, promql, at):
        return self.get("/api/v1/query", query=promql, time=f"{at:.3f}")

    def query_range(self, promql, start, end, step):
        return self.get("/api/v1/query_range", query=promql, start=f"{start:.3f}", end=f"{end:.3f}", step=step)

    def label_values(self, label, match, start, end):
        # What Grafana 11's label_values(metric{...}, label) asks a Prometheus that has this endpoint.
        return self.get(f"/api/v1/label/{urllib.parse.quote(label)}/values",
                        **{"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"})


def values_of(data):
    """Every sample value of a query answer as floats (NaN included)."""
    result_type, result = data["resultType"], data["result"]
    if result_type == "scalar":
        return [float(result[1])]
    if result_type == "vector":
        return [float(sample["value"][1]) for sample in result]
    if result_type == "matrix":
        return [float(point[1]) for series in result for point in series["values"]]
    raise Failure(f"unexpected result type {result_type}")


def wait_until(what, condition, timeout):
    """Polls condition() until it returns something true; Failure naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.2)
    raise Failure(f"timed out after {timeout} s waiting for {what}")


# --- Grafana's variable substitution -----------------------------------------------------

def grafana_regular_escape(value):
    # Grafana's prometheusRegularEscape: what a single-value variable gets, for = and =~ alike.
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def grafana_regex_escape(value):
    # Grafana's prometheusSpecialRegexEscape: what each value of a multi-value or "All" variable gets.
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


class Variables:
    """The dashboard's template variables and Grafana's built-in interval variables."""

    def __init__(self, definitions, scrape_interval_s, range_s):
        self.definitions = {d["name"]: d for d in definitions}
        self.values = {}
        self.scrape_interval_s = scrape_interval_s
        self.range_s = range_s

    def interval_s(self, max_data_points):
        # Grafana: range / max data points, never below the data source's scrape interval
        # (it then rounds to a "nice" step; at these ranges the lower bound always wins).
        return max(self.range_s / (max_data_points or GRAFANA_DEFAULT_MAX_DATA_POINTS), self.scrape_interval_s)

    def rate_interval_s(self, max_data_points):
        return max(self.interval_s(max_data_points) + self.scrape_interval_s,
                   RATE_INTERVAL_SCRAPES * self.scrape_interval_s)

    def substitute(self, expr, max_data_points=None):
        def duration(seconds):
            return f"{int(seconds * 1000)}ms" if seconds != int(seconds) else f"{int(seconds)}s"

        builtins = {
            "__interval": duration(self.interval_s(max_data_points)),
            "__interval_ms": str(int(self.interval_s(max_data_points) * 1000)),
            "__rate_interval": duration(self.rate_interval_s(max_data_points)),
            "__range": duration(self.range_s),
            "__range_s": str(int(self.range_s)),
        }

        def replace(match):
            name = match.group(1) or match.group(2) or match.group(4)
            if match.group(3):
                raise Failure(f"variable format ${{{name}:{match.group(3)}}} is not handled: {expr}")
            if name in builtins:
                return builtins[name]
            if name not in self.values:
                raise Failure(f"unknown variable ${name} in {expr}")
            definition = self.definitions.get(name, {})
            value = self.values[name]
            if definition.get("multi") or definition.get("include_all"):
                return grafana_regex_escape(value)
            return grafana_regular_escape(value)

        return re.sub(r"\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]", replace, expr)


def resolve_variables(api, variables, expected, start, end):
    """Resolves the dashboard's query variables in order, as Grafana does on load (first value
    in the variable's sort order), and checks they pick the target."""
    label_values = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$")
    for name, definition in variables.definitions.items():
        match = label_values.match(definition["query"])
        if not match:
            raise Failure(f"variable ${name}: only label_values(...) is handled: {definition['query']}")
        selector, label = variables.substitute(match.group(1)), match.group(2)
        values = api.label_values(label, selector, start, end)
        if not values:
            raise Failure(f"variable ${name}: {definition['query']} has no values: the dashboard's host picker is "
                          f"empty")
        # sort 1 is alphabetical, ascending; Prometheus returns label values sorted that way.
        values = sorted(values) if definition.get("sort", 0) in (0, 1) else values
        variables.values[name] = values[0]
        want = expected.get(name)
        status = "ok" if want is None or values[0] == want else f"FAIL, want {want!r}"
        log(f"  ${name} = {values[0]!r}  (label_values({selector}, {label}) -> {values}) {status}")
        if want is not None and values[0] != want:
            raise Failure(f"variable ${name} picks {values[0]!r}, not the target's {want!r}")


# --- the checks --------------------------------------------------------------------------

def no_data_expected(key, entry, api, variables, procfs, target_lacks, at):
    """The reason why `key` may have no data on this host and target, or None."""
    if not entry:
        return None
    if entry.get("metric") and entry["metric"] in target_lacks:
        return f"the target does not export {entry['metric']}: {entry['reason']}"
    when = entry.get("when", {})
    if "procfs_file_absent" in when and not os.path.exists(os.path.join(procfs, when["procfs_file_absent"])):
        return f"{os.path.join(procfs, when['procfs_file_absent'])} is absent: {entry['reason']}"
    if "promql" in when and api.query(variables.substitute(when["promql"]), at)["result"]:
        return f"{variables.substitute(when['promql'])} holds: {entry['reason']}"
    return None


def absent_metrics(api, expr, variables, at):
    """The metric names in `expr` of which Prometheus has no series for the target: what an
    exporter has to add for the query to have data."""
    names = sorted(set(re.findall(r"\b((?:node|hostpulse)_[a-zA-Z0-9_]+)\b", expr)))
    selector = variables.substitute('{instance="$node",job="$job"}')
    return [name for name in names if not api.query(f"count({name}{selector})", at)["result"]]


def check_dashboard_queries(api, queries, variables, procfs, target_lacks, at, range_start):
    """Runs every panel query; returns the list of failures (panel/ref: why)."""
    failures = []
    for panel in queries["panels"]:
        for query in panel["queries"]:
            key = f"{panel['title']}/{query['ref_id']}"
            expr = query["expr"]
            try:
                expr = variables.substitute(query["expr"], panel.get("max_data_points"))
                data = api.query(expr, at)
                values = values_of(data)
                kind = "instant"
                if not query["instant"]:
                    # A time-series panel: Grafana asks for the range at $__interval steps.
                    step = variables.interval_s(panel.get("max_data_points"))
                    values += values_of(api.query_range(expr, range_start, at, step))
                    kind = f"instant + range {at - range_start:.0f}s step {step:g}s"
            except Failure as error:
                log(f"  FAIL     {key}: {error}")
                failures.append(f"panel '{panel['title']}' query {query['ref_id']}: {error}")
                continue
            numbers = [v for v in values if not math.isnan(v)]
            series = len(data["result"]) if data["resultType"] != "scalar" else 1
            if numbers:
                log(f"  ok       {key}: {series} series, {len(numbers)} values ({kind}), e.g. {numbers[-1]:g}")
                continue
            reason = no_data_expected(key, queries.get("expected_no_data", {}).get(key), api, variables, procfs,
                                      target_lacks, at)
            what = "only NaN" if values else "empty result"
            if reason:
                log(f"  no data  {key}: {what}, expected here: {reason}")
                continue
            absent = absent_metrics(api, expr, variables, at)
            log(f"  FAIL     {key}: {what}\n           {expr}")
            failures.append(f"panel '{panel['title']}' query {query['ref_id']} ({query['legend'] or 'no legend'}): "
                            f"{what}" + (f" (no series of {', '.join(absent)})" if absent else "") + f": {expr}")
    return failures


def check_targets(api, prometheus_url):
    """The scrape itself: up, no last error, nothing dropped."""
    failures = []
    targets = [t for t in api.get("/api/v1/targets", state="active")["activeTargets"] if t["labels"]["job"] == JOB]
    if len(targets) != 1:
        return [f"Prometheus has {len(targets)} active targets for job {JOB}, want 1"]
    target = targets[0]
    log(f"  target {target['scrapeUrl']}: health {target['health']}, lastError {target['lastError']!r}, "
        f"last scrape {target['lastScrapeDuration'] * 1000:.1f} ms")
    if target["health"] != "up" or target["lastError"]:
        failures.append(f"scrape of {target['scrapeUrl']}: health {target['health']}, error {target['lastError']!r}")
    _, _, body = http_get(f"{prometheus_url}/metrics")
    for counter in SCRAPE_DROP_COUNTERS:
        match = re.search(rf"^{counter} (\S+)$", body.decode(), re.MULTILINE)
        if match is None:
            failures.append(f"Prometheus does not export {counter}")
        elif float(match.group(1)) != 0:
            failures.append(f"Prometheus dropped samples of the scrape: {counter} = {match.group(1)}")
    return failures


def check_exposition(metrics_url, auth_headers, expect_openmetrics):
    """Fetches the target as Prometheus does and as 0.0.4 text; returns (0.0.4 text, failures)."""
    failures = []
    status, headers, body = http_get(metrics_url, {**auth_headers, "Accept": PROMETHEUS_ACCEPT,
                                                   "Accept-Encoding": "gzip"})
    content_type, encoding = headers.get("Content-Type", ""), headers.get("Content-Encoding", "identity")
    log(f"  as Prometheus asks: HTTP {status}, Content-Type {content_type!r}, Content-Encoding {encoding}, "
        f"{len(body)} bytes")
    if status != 200:
        failures.append(f"GET /metrics as Prometheus asks: HTTP {status}")
    if expect_openmetrics:
        if not content_type.startswith("application/openmetrics-text") or "version=1.0.0" not in content_type:
            failures.append(f"asked for OpenMetrics 1.0.0 first, got Content-Type {content_type!r}")
        if encoding != "gzip":
            failures.append(f"asked with Accept-Encoding: gzip, got Content-Encoding {encoding}")
        if not body.endswith(b"# EOF\n"):
            failures.append("the OpenMetrics answer does not end with '# EOF'")

    status, headers, text = http_get(metrics_url, {**auth_headers, "Accept": TEXT_004_ACCEPT})
    content_type = headers.get("Content-Type", "")
    log(f"  as 0.0.4 text: HTTP {status}, Content-Type {content_type!r}, {len(text)} bytes")
    if status != 200:
        failures.append(f"GET /metrics with Accept: {TEXT_004_ACCEPT}: HTTP {status}")
    if not content_type.startswith("text/plain") or "version=0.0.4" not in content_type:
        failures.append(f"asked for 0.0.4 text, got Content-Type {content_type!r}")
    return text, failures


SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+(?:\s+-?\d+)?\s*$")
LABEL_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def repeated_series(text):
    """Series that appear more than once in 0.0.4 text. Neither promtool nor Prometheus 2.42
    reports them: Prometheus keeps the first sample and silently drops the rest."""
    seen, repeated = set(), []
    for line in text.decode(errors="replace").splitlines():
        match = SAMPLE_LINE.match(line)
        if not match:
            continue
        labels = tuple(sorted(LABEL_PAIR.findall(match.group(2) or "")))
        key = (match.group(1), labels)
        if key in seen:
            repeated.append(match.group(1) + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}")
        seen.add(key)
    return repeated


def promtool_problems(promtool, text):
    """(set of (metric, problem) lint messages, list of other output lines: parse errors)."""
    run = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    lint, errors = set(), []
    for line in (run.stdout + run.stderr).decode(errors="replace").splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", line)
        if match and not line.startswith("error"):
            lint.add((match.group(1), match.group(2)))
        elif line.strip():
            errors.append(line)
    if run.returncode != 0 and not lint and not errors:
        errors.append(f"promtool exited {run.returncode} without saying why")
    return lint, errors


def check_lint(promtool, target_text, reference_text, target_name):
    failures = []
    reference, reference_errors = promtool_problems(promtool, reference_text)
    if reference_errors:
        failures.append(f"promtool cannot read node_exporter's own output: {reference_errors[:3]}")
    lint, errors = promtool_problems(promtool, target_text)
    new = sorted(lint - reference)
    log(f"  promtool: node_exporter {len(reference)} lint messages; {target_name} {len(lint)}, "
        f"{len(lint & reference)} of them shared, {len(new)} its own, {len(errors)} errors")
    failures += [f"promtool check metrics: {line}" for line in errors]
    failures += [f"promtool check metrics: {metric} {problem} (node_exporter's output does not get this)"
                 for metric, problem in new]
    return failures


def compare_with_rest(api, agent_url, auth_headers, pairs, variables, at):
    """Each (PromQL, REST family) pair: what Prometheus scraped against the agent's own REST
    answer. Returns (number of comparisons made, failures)."""
    def rest(path, **params):
        status, _, body = http_get(f"{agent_url}{path}?{urllib.parse.urlencode(params)}", auth_headers)
        if status != 200:
            raise Failure(f"hostpulse {path} {params}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    failures, compared = [], 0
    window_s = max(RECENT_WINDOW_S, variables.rate_interval_s(None) + 2 * SCRAPE_INTERVAL_S)
    for pair in pairs:
        series = rest("/api/v1/series", family=pair["family"])["series"]
        if pair["mode"] == "count":
            want = sum(1 for s in series if pair["label"] in s["labels"])
            got = values_of(api.query(variables.substitute(pair["promql"]), at))
            compared += 1
            if got != [float(want)]:
                failures.append(f"{pair['promql']} = {got}, REST has {want} {pair['family']} series with a "
                                f"{pair['label']} label")
            continue
        history = rest("/api/v1/history", family=pair["family"], last=f"{int(window_s)}s")
        columns = dict(zip(history["series"], history["values"]))
        times = [t / 1000 for t in history["t"]]
        # A family holds the host-wide series (no labels) and the per-entity ones: compare those
        # whose labels are exactly the PromQL's placeholders.
        placeholders = set(re.findall(r"<(\w+)>", pair["promql"]))
        selected = [entry for entry in series if set(entry["labels"]) == placeholders]
        if not selected:
            failures.append(f"{pair['family']}: REST has no series labelled {sorted(placeholders)}")
        for entry in selected:
            promql = variables.substitute(re.sub(r"<(\w+)>", lambda m: entry["labels"][m.group(1)], pair["promql"]))
            rest_values = [(t, v) for t, v in zip(times, columns.get(entry["name"], [])) if v is not None]
            if pair["mode"] == "mean":
                rate_window = variables.rate_interval_s(None)
                rest_values = [v for t, v in rest_values if at - rate_window - SCRAPE_INTERVAL_S <= t <= at]
                candidates = [sum(rest_values) / len(rest_values)] if rest_values else []
            else:
                candidates = [v for t, v in rest_values]
            if not candidates:
                log(f"  -        {entry['name']}: no REST value in the window, not compared")
                continue
            got = values_of(api.query(promql, at))
            compared += 1
            if len(got) != 1 or math.isnan(got[0]):
                failures.append(f"{promql}: {len(got)} values {got[:3]} through Prometheus, want one "
                                f"(REST {entry['name']} = {candidates[-1]:g})")
                continue
            tolerance = lambda want: pair.get("abs", 0) + pair.get("rel", 0) * abs(want)  # noqa: E731
            nearest = min(candidates, key=lambda want: abs(got[0] - want))
            ok = abs(got[0] - nearest) <= tolerance(nearest)
            log(f"  {'ok  ' if ok else 'FAIL'}     {entry['name']}: Prometheus {got[0]:.6g}, REST {nearest:.6g} "
                f"({pair['mode']}, tolerance {tolerance(nearest):g})")
            if not ok:
                failures.append(f"{promql} = {got[0]:.6g} through Prometheus, REST {entry['name']} "
                                f"{pair['mode']} {nearest:.6g} (tolerance {tolerance(nearest):g})")
    return compared, failures


# --- the run -----------------------------------------------------------------------------

def write_prometheus_config(path, target_address, token_file):
    # JSON is YAML; no yaml module needed.
    job = {"job_name": JOB, "scrape_interval": f"{SCRAPE_INTERVAL_S}s", "scrape_timeout": f"{SCRAPE_INTERVAL_S}s",
           "static_configs": [{"targets": [target_address]}]}
    if token_file:
        job["authorization"] = {"type": "Bearer", "credentials_file": token_file}
    with open(path, "w") as file:
        json.dump({"global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s"}, "scrape_configs": [job]}, file, indent=2)


def start_node_exporter(binary, work_dir, name):
    process = Process(name, [binary, "--web.listen-address=127.0.0.1:0"], os.path.join(work_dir, f"{name}.log"))
    return process, process.address()


def start_hostpulse(binary, work_dir, started):
    """The built agent on a free loopback port with a bearer token; (agent, base URL, token, token file)."""
    token = secrets.token_hex(16)
    token_file = os.path.join(work_dir, "hostpulse.token")
    with open(token_file, "w") as file:
        file.write(token + "\n")
    config = os.path.join(work_dir, "hostpulse.toml")
    with open(config, "w") as file:
        file.write(f'token_file = "{token_file}"\n')
    try:
        agent = Agent(binary, ["--config", config, "--listen", "127.0.0.1:0"], die_with_parent=True)
    except RuntimeError as error:
        raise Failure(f"hostpulse did not start: {error}")
    started.append(agent)
    return agent, f"http://127.0.0.1:{agent.port}", token, token_file


def check_hostpulse_auth(base_url, token):
    """/metrics exists (else Skip) and needs the token like the rest of the API."""
    status, _, _ = http_get(f"{base_url}/metrics", {"Authorization": f"Bearer {token}"})
    if status == 404:
        raise Skip("hostpulse answers 404 on GET /metrics: the Prometheus endpoint is not there yet")
    failures = [] if status == 200 else [f"GET /metrics with the token: HTTP {status}"]
    status, _, _ = http_get(f"{base_url}/metrics")
    log(f"  GET /metrics without the token: HTTP {status}")
    if status != 401:
        failures.append(f"GET /metrics without the token: HTTP {status}, want 401 as on the rest of the API")
    return failures


def run(args, work_dir, started, failures):
    """Appends what fails to `failures`; raises Failure when it cannot go on."""
    with open(args.queries, encoding="utf-8") as file:
        queries = json.load(file)

    reference, reference_address = start_node_exporter(args.node_exporter, work_dir, "node_exporter")
    started.append(reference)
    auth_headers, token_file, agent_url = {}, None, None
    if args.target == "node_exporter":
        target_address = reference_address
    elif args.target == "external":
        target_address = args.target_address
        if args.token_file:
            token_file = os.path.abspath(args.token_file)
            with open(token_file) as file:
                auth_headers = {"Authorization": f"Bearer {file.readline().strip()}"}
    else:
        log("hostpulse:")
        _, agent_url, token, token_file = start_hostpulse(args.hostpulse, work_dir, started)
        target_address = agent_url.removeprefix("http://")
        auth_headers = {"Authorization": f"Bearer {token}"}
        failures += check_hostpulse_auth(agent_url, token)
    metrics_url = f"http://{target_address}/metrics"

    log(f"exposition of {metrics_url}:")
    target_text, exposition_failures = check_exposition(metrics_url, auth_headers, args.expect_openmetrics)
    failures += exposition_failures
    _, _, reference_text = http_get(f"http://{reference_address}/metrics", {"Accept": TEXT_004_ACCEPT})
    failures += check_lint(args.promtool, target_text, reference_text, args.target)
    repeated = repeated_series(target_text)
    log(f"  series repeated in one scrape: {len(repeated)}")
    failures += [f"the exposition repeats a series (Prometheus drops all but the first): {series}"
                 for series in repeated]

    config = os.path.join(work_dir, "prometheus.yml")
    write_prometheus_config(config, target_address, token_file)
    prometheus = Process("prometheus", [args.prometheus, f"--config.file={config}",
                                        f"--storage.tsdb.path={os.path.join(work_dir, 'data')}",
                                        "--web.listen-address=127.0.0.1:0"],
                         os.path.join(work_dir, "prometheus.log"))
    started.append(prometheus)
    prometheus_url = f"http://{prometheus.address()}"
    api = PrometheusApi(prometheus_url)
    wait_until("Prometheus to be ready", lambda: http_get(f"{prometheus_url}/-/ready")[0] == 200, START_TIMEOUT_S)

    began = time.time()
    variables = Variables(queries["variables"], SCRAPE_INTERVAL_S, range_s=0)
    rate_interval = variables.rate_interval_s(None)
    needed = RATE_INTERVAL_SCRAPES
    up_query = f'count_over_time(up{{job="{JOB}"}}[{int(rate_interval)}s]) >= {needed} and up{{job="{JOB}"}} == 1'
    log(f"waiting for {needed} scrapes within $__rate_interval = {rate_interval:g}s ({up_query})")
    wait_until(f"{needed} successful scrapes of {metrics_url} (see {prometheus.log_path})",
               lambda: api.query(up_query, time.time())["result"], SCRAPES_TIMEOUT_S)
    at = time.time()
    # The dashboard's time range: from Prometheus' start to now, as "Last N seconds".
    variables.range_s = at - began
    log(f"scraped for {at - began:.1f} s, evaluating at {at:.3f}")

    log("dashboard variables:")
    resolve_variables(api, variables, {"job": JOB, "nodename": os.uname().nodename, "node": target_address},
                      at - variables.range_s, at)

    log(f"dashboard queries ({sum(len(p['queries']) for p in queries['panels'])} in {len(queries['panels'])} "
        f"panels, $__rate_interval {variables.substitute('$__rate_interval')}):")
    failures += check_dashboard_queries(api, queries, variables, args.procfs, set(args.target_lacks), at,
                                        range_start=began)

    log("scrape health:")
    failures += check_targets(api, prometheus_url)

    if agent_url:
        build_info = api.query(variables.substitute('hostpulse_build_info{instance="$node",job="$job"}'), at)
        log(f"hostpulse_build_info: {[sample['metric'] for sample in build_info['result']]}")
        if len(build_info["result"]) != 1:
            failures.append(f"hostpulse_build_info: {len(build_info['result'])} series through Prometheus, want 1")
        log("values through Prometheus against hostpulse's REST answer:")
        compared, rest_failures = compare_with_rest(api, agent_url, auth_headers, REST_PAIRS, variables, time.time())
        failures += rest_failures
        if compared == 0:
            failures.append("no value could be compared with the REST answer")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--promtool", default="/usr/bin/promtool")
    parser.add_argument("--node-exporter", default="/usr/bin/prometheus-node-exporter")
    parser.add_argument("--target", choices=["node_exporter", "hostpulse", "external"], required=True,
                        help="node_exporter or hostpulse: started here; external: one already running")
    parser.add_argument("--hostpulse", help="the built agent (with --target hostpulse)")
    parser.add_argument("--target-address", metavar="HOST:PORT", help="with --target external")
    parser.add_argument("--token-file", help="with --target external: the bearer token Prometheus sends")
    parser.add_argument("--procfs", default="/proc", help="the procfs the target reads (for expected gaps)")
    parser.add_argument("--target-lacks", action="append", default=[], metavar="METRIC",
                        help="a metric this target is known not to export (queries needing it may have no data)")
    parser.add_argument("--expect-openmetrics", action="store_true",
                        help="the target must answer Prometheus' Accept with OpenMetrics 1.0.0, gzipped")
    args = parser.parse_args()
    if args.target == "hostpulse" and not args.hostpulse:
        parser.error("--target hostpulse needs --hostpulse BIN")
    if args.target == "external" and not args.target_address:
        parser.error("--target external needs --target-address HOST:PORT")

    started = []
    work_dir = tempfile.mkdtemp(prefix="hostpulse-prometheus-")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)  # unwinds through the finally below

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    status = 1
    failures = []
    try:
        try:
            run(args, work_dir, started, failures)
        except Failure as failure:
            failures.append(f"{failure} (the test stopped here)")
        if failures:
            log(f"\nFAILED ({len(failures)}):")
            for failure in failures:
                log(f"  - {failure}")
        else:
            log("\nPASSED")
            status = 0
    except Skip as skip:
        log(f"SKIPPED: {skip}")
        status = SKIP
    finally:
        for process in reversed(started):
            if isinstance(process, Agent):
                process.kill()
            else:
                process.stop()
        if status not in (0, SKIP):
            for process in started:
                if isinstance(process, Process):
                    log(f"--- {process.name} log (last lines):\n" + "\n".join(process.output().splitlines()[-20:]))
                else:
                    log("--- hostpulse output (last lines):\n" + "".join(process.output[-20:]))
        shutil.rmtree(work_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
