#!/usr/bin/python3
"""hostpulse-cli against the built agent (loopback, its own processes).

usage: cli_test.py HOSTPULSE_BINARY HOSTPULSE_CLI_BINARY

Checks --help of every command, `watch` output (JSON lines with consecutive
seqs, frames, msgpack, --count, --every), the REST commands (snapshot,
history as JSON and CSV, alerts, silence add/list/delete), the exit codes
and messages for a bad URL, an unknown series, an unreachable agent and a
missing or wrong token, and that `watch` reconnects to a restarted agent and
goes on printing. Every process started is killed by PID at the end. Prints
PASS/FAIL per check; exits non-zero if any failed.
"""

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from agent_process import Agent  # noqa: E402

TIMEOUT = 15  # seconds, for any single command or wait
results = []
started = []  # every Popen, killed at exit


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition or not detail else ": " + str(detail)[:2000]),
          flush=True)
    return bool(condition)


def start_agent(binary, args):
    agent = Agent(binary, ["--interval", "100", "--log-level", "info"] + args, TIMEOUT)
    started.append(agent.proc)
    return agent


def cli(binary, *args, env=None, timeout=TIMEOUT):
    full_env = dict(os.environ)
    full_env.pop("HOSTPULSE_URL", None)
    full_env.pop("HOSTPULSE_TOKEN", None)
    full_env.update(env or {})
    return subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    agent_binary, cli_binary = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="hostpulse-cli-test-")
    agent = start_agent(agent_binary, ["--listen", "127.0.0.1:0"])
    url = "http://127.0.0.1:%d" % agent.port
    try:
        # --help for every command.
        for command in ([], ["watch"], ["snapshot"], ["history"], ["alerts"], ["silence"], ["silence", "add"],
                        ["silence", "list"], ["silence", "delete"]):
            r = cli(cli_binary, *command, "--help")
            check("--help %s exits 0 with usage" % " ".join(command),
                  r.returncode == 0 and "Usage" in r.stdout, r.stdout + r.stderr)
        r = cli(cli_binary, "--help")
        check("top-level help lists commands and exit codes",
              all(word in r.stdout for word in ("watch", "snapshot", "history", "alerts", "silence", "Exit codes")),
              r.stdout)
        r = cli(cli_binary)
        check("no command: exit 2", r.returncode == 2, r.stderr)
        r = cli(cli_binary, "watch", "--every", "0")
        check("watch --every 0: exit 2 naming the option", r.returncode == 2 and "every" in r.stderr, r.stderr)

        # watch: JSON lines, consecutive seqs, only the asked series.
        r = cli(cli_binary, "watch", "-u", url, "-s", "cpu.busy_pct", "-s", "load.*", "-n", "5")
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        check("watch -n 5 prints 5 JSON lines and exits 0", r.returncode == 0 and len(lines) == 5, r.stdout + r.stderr)
        if lines:
            check("watch lines carry seq, t and the series",
                  set(lines[0]) == {"seq", "t", "cpu.busy_pct", "load.1m", "load.5m", "load.15m",
                                    "load.1m_per_cpu", "load.5m_per_cpu", "load.15m_per_cpu"}, lines[0])
            seqs = [line["seq"] for line in lines]
            check("watch seqs are consecutive", seqs == list(range(seqs[0], seqs[0] + 5)), seqs)
        check("watch says where it connected on stderr", "connected to" in r.stderr, r.stderr)
        r = cli(cli_binary, "watch", "-u", url, "-s", "mem.used_bytes", "-n", "2", "-q")
        check("watch -q keeps stderr empty", r.returncode == 0 and r.stderr == "", r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        check("byte counts print as integers", lines and isinstance(lines[0]["mem.used_bytes"], int), r.stdout)

        r = cli(cli_binary, "watch", "-u", url, "-s", "cpu.*_pct", "-o", "frames", "-f", "msgpack", "-b", "3", "-n", "2")
        frames = [json.loads(line) for line in r.stdout.splitlines()]
        check("watch -o frames -f msgpack -b 3: 2 frames of 3 points",
              r.returncode == 0 and len(frames) == 2 and all(f["type"] == "samples" and len(f["t"]) == 3 for f in frames),
              r.stdout + r.stderr)
        if frames:
            values = [v for column in frames[0]["values"] for v in column if v is not None]
            check("msgpack values print as the agent's 0.01 steps (protocol 2's scaled columns are exact)",
                  values and all(round(v, 2) == v for v in values), values[:10])
            t = frames[0]["t"]
            check("msgpack frames print in the JSON frame's shape: absolute t, values, no cols",
                  "cols" not in frames[0] and t[0] > 10 ** 12 and all(b > a for a, b in zip(t, t[1:])), frames[0])

        r = cli(cli_binary, "watch", "-u", url, "-s", "load.1m", "--every", "2", "-n", "3")
        seqs = [json.loads(line)["seq"] for line in r.stdout.splitlines()]
        check("watch --every 2 gives even seqs 2 apart",
              len(seqs) == 3 and all(s % 2 == 0 for s in seqs) and seqs[1] - seqs[0] == 2, seqs)

        # REST commands.
        r = cli(cli_binary, "snapshot", "-u", url, "-s", "load.1m", "--compact")
        snapshot = json.loads(r.stdout) if r.returncode == 0 else {}
        check("snapshot -s load.1m", list(snapshot.get("values", {})) == ["load.1m"] and snapshot.get("seq", 0) > 0,
              r.stdout + r.stderr)
        r = cli(cli_binary, "history", "-u", url, "-s", "load.1m", "-s", "cpu.busy_pct", "--last", "2s", "-o", "csv")
        rows = list(csv.reader(io.StringIO(r.stdout)))
        check("history -o csv has a header and rows",
              r.returncode == 0 and rows and rows[0] == ["t", "load.1m", "cpu.busy_pct"] and len(rows) > 3,
              r.stdout + r.stderr)
        r = cli(cli_binary, "history", "-u", url, "-s", "load.1m", "--since-seq", "1")
        history = json.loads(r.stdout) if r.returncode == 0 else {}
        check("history --since-seq 1 starts at seq 2", history.get("seq_first") == 2, r.stdout + r.stderr)
        r = cli(cli_binary, "history", "-u", url, "--last", "1m", "--since-seq", "3")
        check("history --last with --since-seq: exit 2", r.returncode == 2, r.stderr)
        r = cli(cli_binary, "alerts", "-u", url)
        check("alerts prints the REST answer", r.returncode == 0 and "active" in json.loads(r.stdout), r.stdout + r.stderr)

        r = cli(cli_binary, "silence", "add", "-u", url, "--rule", "cpu_*", "--duration", "1h", "--comment", "test")
        silence = json.loads(r.stdout) if r.returncode == 0 else {}
        check("silence add returns the silence", silence.get("rule") == "cpu_*" and silence.get("comment") == "test",
              r.stdout + r.stderr)
        r = cli(cli_binary, "silence", "list", "-u", url)
        listed = json.loads(r.stdout).get("silences", []) if r.returncode == 0 else []
        check("silence list shows it", [s["id"] for s in listed] == [silence.get("id")], r.stdout)
        r = cli(cli_binary, "silence", "delete", "-u", url, str(silence.get("id")))
        check("silence delete", r.returncode == 0, r.stderr)
        r = cli(cli_binary, "silence", "delete", "-u", url, str(silence.get("id")))
        check("deleting it again: exit 2 with the agent's message", r.returncode == 2 and "404" in r.stderr, r.stderr)
        r = cli(cli_binary, "silence", "add", "-u", url, "--duration", "forever")
        check("silence add with a bad duration: exit 2 naming it",
              r.returncode == 2 and "duration" in r.stderr, r.stderr)
        r = cli(cli_binary, "silence", "delete", "-u", url, "abc")
        check("silence delete abc: exit 2", r.returncode == 2, r.stderr)

        # Errors: exit codes and messages.
        for args, what in ((["watch", "-s", "cpu.bussy_pct", "-n", "1"], "watch"),
                           (["snapshot", "-s", "cpu.bussy_pct"], "snapshot")):
            r = cli(cli_binary, *args, "-u", url)
            check("%s with an unknown series: exit 2 naming it" % what,
                  r.returncode == 2 and "cpu.bussy_pct" in r.stderr, r.stderr)
        for bad_url in ("ftp://127.0.0.1:1", "127.0.0.1:9870", "http://127.0.0.1:9870/somewhere"):
            r = cli(cli_binary, "snapshot", "-u", bad_url)
            check("bad URL %s: exit 2 naming it" % bad_url, r.returncode == 2 and bad_url in r.stderr, r.stderr)
        r = cli(cli_binary, "watch", "-u", "https://127.0.0.1:1")
        check("watch over https: exit 2 explaining", r.returncode == 2 and "TLS" in r.stderr, r.stderr)
        closed = "http://127.0.0.1:%d" % free_port()
        r = cli(cli_binary, "snapshot", "-u", closed, "--timeout", "2")
        check("snapshot of an unreachable agent: exit 1", r.returncode == 1 and "cannot reach" in r.stderr, r.stderr)
        r = cli(cli_binary, "watch", "-u", closed, "--no-reconnect")
        check("watch --no-reconnect of an unreachable agent: exit 1",
              r.returncode == 1 and "Connection refused" in r.stderr, r.stderr)
        r = cli(cli_binary, "snapshot", env={"HOSTPULSE_URL": url})
        check("HOSTPULSE_URL is the default --url", r.returncode == 0, r.stderr)

        # Token: missing / wrong -> exit 3; right (file or env) -> works.
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write("cli-test-token-42\n")
        wrong_file = os.path.join(tmp, "wrong")
        with open(wrong_file, "w") as f:
            f.write("nope\n")
        config = os.path.join(tmp, "hostpulse.toml")
        with open(config, "w") as f:
            f.write('token_file = "%s"\n' % token_file)
        secured = start_agent(agent_binary, ["--listen", "127.0.0.1:0", "--config", config])
        secured_url = "http://127.0.0.1:%d" % secured.port
        for args in (["snapshot"], ["watch", "-n", "1"]):
            r = cli(cli_binary, *args, "-u", secured_url)
            check("%s without a token: exit 3" % args[0], r.returncode == 3 and "token" in r.stderr, r.stderr)
            r = cli(cli_binary, *args, "-u", secured_url, "--token-file", wrong_file)
            check("%s with a wrong token: exit 3" % args[0], r.returncode == 3, r.stderr)
            r = cli(cli_binary, *args, "-u", secured_url, "--token-file", token_file)
            check("%s with the token file: exit 0" % args[0], r.returncode == 0 and r.stdout, r.stderr)
        r = cli(cli_binary, "snapshot", "-u", secured_url, env={"HOSTPULSE_TOKEN": "cli-test-token-42"})
        check("HOSTPULSE_TOKEN works", r.returncode == 0, r.stderr)
        r = cli(cli_binary, "snapshot", "-u", secured_url, "--token-file", os.path.join(tmp, "missing"))
        check("unreadable token file: exit 2", r.returncode == 2 and "token-file" in r.stderr, r.stderr)
        secured.kill()

        # watch goes on across an agent restart on the same port.
        port = agent.port
        watcher = subprocess.Popen([cli_binary, "watch", "-u", url, "-s", "load.1m", "-o", "lines"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(watcher)
        got = []
        threading.Thread(target=lambda: [got.append(line) for line in watcher.stdout], daemon=True).start()
        errors = []
        threading.Thread(target=lambda: [errors.append(line) for line in watcher.stderr], daemon=True).start()
        deadline = time.time() + TIMEOUT
        while len(got) < 3 and time.time() < deadline:
            time.sleep(0.05)
        agent.kill()
        agent = start_agent(agent_binary, ["--listen", "127.0.0.1:%d" % port])
        deadline = time.time() + TIMEOUT
        while not any("restarted" in e for e in errors) and time.time() < deadline:
            time.sleep(0.05)
        count = len(got)
        while len(got) < count + 3 and time.time() < deadline:
            time.sleep(0.05)
        check("watch reports reconnecting and the restart",
              any("reconnecting in" in e for e in errors) and any("restarted" in e for e in errors), "".join(errors))
        check("watch prints again after the restart", len(got) >= count + 3, "".join(errors))
        watcher.send_signal(signal.SIGINT)
        try:
            code = watcher.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        check("watch exits 0 on SIGINT", code == 0, code)
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(TIMEOUT)
        subprocess.run(["rm", "-rf", tmp])

    failed = [name for name, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
