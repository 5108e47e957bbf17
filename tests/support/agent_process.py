"""Python twin of agent_process.hpp / agent_process.mjs for the Python tests:
runs the built hostpulse binary, drains its output on a thread, reads the
port from its "listening on" line, and kills it by PID."""

import ctypes
import os
import re
import signal
import subprocess
import threading

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # In the child before exec: the kernel kills it when the thread that started it ends.
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Agent:
    def __init__(self, binary, args, timeout=15, die_with_parent=False):
        """Starts binary with args (use "--listen 127.0.0.1:0"); raises
        RuntimeError if it does not log "listening on" within timeout s.
        die_with_parent: the agent is killed if the test is killed outright
        (SIGKILL on a ctest timeout); only from the main thread, since the
        kernel ties it to the thread that starts the agent."""
        self.timeout = timeout
        self.output = []
        self.proc = subprocess.Popen([binary] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=_die_with_parent if die_with_parent else None)
        self.port = None
        self.listening = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.listening.wait(timeout) or self.port is None:
            self.kill()
            raise RuntimeError("agent did not log 'listening on': " + "".join(self.output))

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line)
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if match and self.port is None:
                self.port = int(match.group(1))
                self.listening.set()
        self.listening.set()  # the agent exited (port stays None)

    def kill(self):
        """SIGKILL by PID if still running, then reap it."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            pass
