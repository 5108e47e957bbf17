#!/usr/bin/python3
"""Runs the installed hostpulse the way its systemd unit does, without
systemd: the unit's ExecStart, User and Group, no capabilities, no new
privileges; plus a free loopback port. A datagram socket stands in for
systemd's $NOTIFY_SOCKET (an abstract name, as systemd may hand out) with a
1 s watchdog.

usage: run_installed_agent.py UNIT_FILE

Checks READY=1 once listening, WATCHDOG=1 pings, the REST API and the stream
(agent_probe.py), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 and exit 0
on SIGTERM. Always kills the agent by its PID. Exit status 1 if a check failed.
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_probe  # noqa: E402

TIMEOUT = 10


def unit_settings(path):
    settings = {}
    with open(path) as unit:
        for line in unit:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                key, value = line.split("=", 1)
                settings[key.strip()] = value.strip()
    return settings


class NotifySocket:
    """systemd's side of sd_notify: collects every datagram with its time."""

    def __init__(self):
        self.name = "@hostpulse-packaging-test-%d-%d" % (os.getpid(), time.monotonic_ns())
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind("\0" + self.name[1:])
        self.socket.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while self.running:
            try:
                data = self.socket.recv(4096)
            except socket.timeout:
                continue
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def wait_for(self, predicate, after=0.0, timeout=TIMEOUT):
        """The first message after `after` (monotonic) for which predicate holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for when, message in self.messages:
                    if when >= after and predicate(message):
                        return when, message
            time.sleep(0.05)
        return None

    def count(self, text):
        with self.lock:
            return sum(1 for _, message in self.messages if message == text)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.socket.close()


def main():
    unit = unit_settings(sys.argv[1])
    check = agent_probe.Checks()
    check("unit: Type=notify with a watchdog", unit.get("Type") == "notify" and "WatchdogSec" in unit, unit.get("Type"))
    command = shlex.split(unit["ExecStart"])
    user, group = unit.get("User", "hostpulse"), unit.get("Group", unit.get("User", "hostpulse"))
    notify = NotifySocket()
    environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                   "NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "1000000"}
    argv = ["setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--"] + command + ["--listen", "127.0.0.1:0", "--interval", "200ms"]
    print("running: " + " ".join(shlex.quote(a) for a in argv), flush=True)
    started = time.monotonic()
    agent = subprocess.Popen(argv, env=environment, cwd="/", stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, port = [], []
    listening = threading.Event()

    def drain():
        for line in agent.stdout:
            output.append(line)
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if match and not port:
                port.append(int(match.group(1)))
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        listening.wait(TIMEOUT)
        if not check("the installed agent starts and listens", port, "".join(output)):
            return 1
        with open("/proc/%d/status" % agent.pid) as status:
            uids = re.search(r"^Uid:\s+(\d+)", status.read(), re.M).group(1)
        expected_uid = subprocess.run(["id", "-u", user], capture_output=True, text=True).stdout.strip()
        check("runs as the unit's user " + user, uids == expected_uid, (uids, expected_uid))

        ready = notify.wait_for(lambda m: m.startswith("READY=1"), started)
        check("sd_notify: READY=1 once listening", ready, notify.messages)
        agent_probe.probe("http://127.0.0.1:%d" % port[0], check)
        time.sleep(1.2)
        check("sd_notify: WATCHDOG=1 pings (1 s watchdog, 200 ms interval)", notify.count("WATCHDOG=1") >= 2,
              notify.messages)
        with notify.lock:
            pings = [when for when, message in notify.messages if message == "WATCHDOG=1"]
        gaps = [round(b - a, 3) for a, b in zip(pings, pings[1:])]
        check("sd_notify: pings at most every half watchdog period (0.5 s), not every sample",
              gaps and min(gaps) >= 0.45, gaps)

        hangup_at = time.monotonic()
        agent.send_signal(signal.SIGHUP)
        reloading = notify.wait_for(lambda m: m.startswith("RELOADING=1\nMONOTONIC_USEC="), hangup_at)
        check("sd_notify: RELOADING=1 on SIGHUP", reloading, notify.messages)
        if reloading:
            check("sd_notify: READY=1 after the reload",
                  notify.wait_for(lambda m: m == "READY=1", reloading[0]), notify.messages)

        stop_at = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        check("sd_notify: STOPPING=1 on SIGTERM", notify.wait_for(lambda m: m == "STOPPING=1", stop_at),
              notify.messages)
        try:
            code = agent.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            code = "still running"
        check("exits 0 after SIGTERM", code == 0, code)
    finally:
        if agent.poll() is None:
            os.kill(agent.pid, signal.SIGKILL)
            agent.wait(timeout=TIMEOUT)
        reader.join(timeout=2)
        notify.close()
        if check.failed:
            print("agent output:\n" + "".join(output), flush=True)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
