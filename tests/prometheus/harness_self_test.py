#!/usr/bin/python3
"""Checks that node_exporter_full_test.py fails when it should: it runs the
harness against node_exporter behind a proxy that drops some metric families
and adds one badly named metric, and expects exactly those gaps to be named
(the panels whose queries lose their data, the promtool lint messages that
node_exporter's own output does not get) and nothing else.

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


def run_harness(args, address, extra_dropped=()):
    command = [sys.executable, os.path.join(HERE, "node_exporter_full_test.py"), "--queries", args.queries,
               "--prometheus", args.prometheus, "--promtool", args.promtool, "--node-exporter", args.node_exporter,
               "--target", "external", "--target-address", address,
               "--target-lacks", "node_pressure_irq_stalled_seconds_total"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    return run.returncode, run.stdout + run.stderr


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
        try:
            for dropped, injected, what in [(set(DROPPED), INJECTED, "families dropped, a bad name added"),
                                            ({"node_uname_info"}, "", "node_uname_info dropped")]:
                server, address = serve_filtered(f"http://{upstream}/metrics", dropped, injected)
                try:
                    status, output = run_harness(args, address)
                finally:
                    server.shutdown()
                failed = re.findall(r"^  - (.*)$", output, re.MULTILINE)
                print(f"--- {what}: exit {status}, {len(failed)} failures")
                print("\n".join("    " + line for line in failed))
                if status != 1:
                    problems.append(f"{what}: the harness exited {status}, want 1")
                if dropped == {"node_uname_info"}:
                    if "variable $job" not in output or "host picker is empty" not in output:
                        problems.append(f"{what}: the empty host picker is not named:\n{output}")
                    continue
                named = set(re.findall(r"^panel '([^']+)' query (\w+)", "\n".join(failed), re.MULTILINE))
                want = {tuple(key.split("/")) for keys in DROPPED.values() for key in keys}
                if named != want:
                    problems.append(f"{what}: failed panels {sorted(named)}, want {sorted(want)}")
                for message in EXPECTED_LINT:
                    if not any(message in line for line in failed):
                        problems.append(f"{what}: lint message not reported: {message}")
                lint_failures = [line for line in failed if line.startswith("promtool")]
                if len(lint_failures) != len(EXPECTED_LINT):
                    problems.append(f"{what}: lint failures {lint_failures}, want only {EXPECTED_LINT}")
        finally:
            node_exporter.stop()
    for problem in problems:
        print("FAIL " + problem)
    print("PASSED" if not problems else "FAILED")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
