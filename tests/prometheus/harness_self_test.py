#!/usr/bin/python3
"""Checks that node_exporter_full_test.py fails when it should: it runs the
harness against node_exporter behind proxies that drop some metric families
and add a badly named metric, drop node_uname_info, or repeat a series, and
expects exactly those gaps to be named (the panels whose queries lose their
data, the promtool lint messages node_exporter's own output does not get, the
empty host picker, the repeated series) and nothing else.

usage: harness_self_test.py --queries FILE [--prometheus BIN --promtool BIN --node-exporter BIN]
"""

import argparse
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import node_exporter_full_test as harness  # noqa: E402

# Dropping these must fail exactly these panel queries (and no others).
DROPPED = {
    "node_load1": ["Sys Load/A"],
    "node_memory_MemAvailable_bytes": ["RAM Used/B"],
    "node_boot_time_seconds": ["Uptime/A"],
    # The dashboard's host picker reads node_uname_info; without it the test stops there.
}
# A counter without _total in camelCase: promtool has two complaints node_exporter never gets.
INJECTED = "# HELP hostpulse_badName_seconds A made-up counter.\n# TYPE hostpulse_badName_seconds counter\n" \
           "hostpulse_badName_seconds 1\n"
EXPECTED_LINT = [
    "hostpulse_badName_seconds counter metrics should have \"_total\" suffix",
    "hostpulse_badName_seconds metric names should be written in 'snake_case' not 'camelCase'",
]
# A series twice in one scrape: promtool does not notice, Prometheus 2.42 keeps the first sample,
# drops the second without counting it, and the scrape stays "up".
DUPLICATE = "node_load15 1e6\n"
RUN_TIMEOUT_S = 60  # the harness on its own takes about 10 s


def metric_name(line):
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        return line.split(" ")[2]
    return re.split(r"[{ ]", line, maxsplit=1)[0]


def serve_filtered(upstream, dropped, injected):
    """A loopback HTTP server answering /metrics with upstream's 0.0.4 text minus `dropped`
    families plus `injected`; returns (server, address)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server interface)
            request = urllib.request.Request(upstream, headers={"Accept": harness.TEXT_004_ACCEPT})
            with urllib.request.urlopen(request, timeout=harness.HTTP_TIMEOUT_S) as response:
                text = response.read().decode()
            kept = [line for line in text.splitlines(keepends=True) if metric_name(line) not in dropped]
            body = ("".join(kept) + injected).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def harness_command(args, address):
    return [sys.executable, os.path.join(HERE, "node_exporter_full_test.py"), "--queries", args.queries,
            "--prometheus", args.prometheus, "--promtool", args.promtool, "--node-exporter", args.node_exporter,
            "--target", "external", "--target-address", address,
            "--target-lacks", "node_pressure_irq_stalled_seconds_total"]


def check_dropped_families(failed, _output):
    problems = []
    named = set(re.findall(r"^panel '([^']+)' query (\w+)", "\n".join(failed), re.MULTILINE))
    want = {tuple(key.split("/")) for keys in DROPPED.values() for key in keys}
    if named != want:
        problems.append(f"failed panels {sorted(named)}, want {sorted(want)}")
    for metric, keys in DROPPED.items():
        if not any(f"(no series of {metric})" in line for line in failed):
            problems.append(f"{keys} failed without naming the absent {metric}")
    for message in EXPECTED_LINT:
        if not any(message in line for line in failed):
            problems.append(f"lint message not reported: {message}")
    lint_failures = [line for line in failed if line.startswith("promtool")]
    if len(lint_failures) != len(EXPECTED_LINT):
        problems.append(f"lint failures {lint_failures}, want only {EXPECTED_LINT}")
    return problems


def check_no_host_picker(_failed, output):
    if "variable $job" not in output or "host picker is empty" not in output:
        return [f"the empty host picker is not named:\n{output}"]
    return []


def check_repeated_series(failed, _output):
    want = ["the exposition repeats a series (Prometheus drops all but the first): node_load15{}"]
    return [] if failed == want else [f"failures {failed}, want only {want}"]


SCENARIOS = [
    {"what": "families dropped, a bad name added", "dropped": set(DROPPED), "injected": INJECTED,
     "check": check_dropped_families},
    {"what": "node_uname_info dropped", "dropped": {"node_uname_info"}, "injected": "",
     "check": check_no_host_picker},
    {"what": "a series twice", "dropped": set(), "injected": DUPLICATE, "check": check_repeated_series},
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--promtool", default="/usr/bin/promtool")
    parser.add_argument("--node-exporter", default="/usr/bin/prometheus-node-exporter")
    args = parser.parse_args()

    problems = []
    with tempfile.TemporaryDirectory(prefix="hostpulse-prometheus-self-") as work_dir:
        node_exporter, upstream = harness.start_node_exporter(args.node_exporter, work_dir, "node_exporter")
        servers, runs = [], []
        try:
            # The scenarios run at once, each harness with its own proxy and Prometheus.
            for scenario in SCENARIOS:
                server, address = serve_filtered(f"http://{upstream}/metrics", scenario["dropped"],
                                                 scenario["injected"])
                servers.append(server)
                runs.append(subprocess.Popen(harness_command(args, address), stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True))
            for scenario, run in zip(SCENARIOS, runs):
                try:
                    output, _ = run.communicate(timeout=RUN_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    run.terminate()  # the harness stops its own processes on SIGTERM
                    output, _ = run.communicate()
                    problems.append(f"{scenario['what']}: the harness took over {RUN_TIMEOUT_S} s")
                failed = re.findall(r"^  - (.*)$", output, re.MULTILINE)
                print(f"--- {scenario['what']}: exit {run.returncode}, {len(failed)} failures")
                print("\n".join("    " + line for line in failed))
                if run.returncode != 1:
                    problems.append(f"{scenario['what']}: the harness exited {run.returncode}, want 1")
                problems += [f"{scenario['what']}: {problem}" for problem in scenario["check"](failed, output)]
        finally:
            for run in runs:
                if run.poll() is None:
                    run.terminate()  # the harness stops its own processes on SIGTERM
                    run.wait()
            for server in servers:
                server.shutdown()
            node_exporter.stop()
    for problem in problems:
        print("FAIL " + problem)
    print("PASSED" if not problems else "FAILED")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
