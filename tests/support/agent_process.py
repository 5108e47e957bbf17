"""Python twin of agent_process.hpp / agent_process.mjs for the Python tests:
runs the built hostpulse binary, drains its output on a thread, reads the
port from its "listening on" line, and kills it by PID."""

import os
import re
import signal
import subprocess
import threading


class Agent:
    def __init__(self, binary, args, timeout=15):
        """Starts binary with args (use "--listen 127.0.0.1:0"); raises
        RuntimeError if it does not log "listening on" within timeout s."""
        self.timeout = timeout
        self.output = []
        self.proc = subprocess.Popen([binary] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
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
