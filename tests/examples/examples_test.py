#!/usr/bin/python3
"""The examples of examples/ against the built agent.

usage: examples_test.py HOSTPULSE_BINARY HOSTPULSE_TOP_BINARY SOURCE_DIR BUILD_DIR plain|sanitized

- examples/python/subscribe.py: JSON and msgpack, --count, consecutive seqs,
  a clear exit for an unknown series and for an unreachable agent;
- hostpulse-top (examples/cpp built in the tree): --count samples;
- examples/cpp built the way a user would, outside the tree, against
  hostpulse-client installed into a temporary prefix (cmake --install
  --component client-dev, then find_package(hostpulse-client)).
Every process started is killed by PID at the end. Exits non-zero on failure.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from agent_process import Agent  # noqa: E402

TIMEOUT = 30
results = []
started = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition or not detail else ": " + str(detail)[:3000]),
          flush=True)


def run(args, timeout=TIMEOUT, **kwargs):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, **kwargs)


def sample_seqs(stdout):
    return [int(line.split()[0]) for line in stdout.splitlines() if re.match(r"^\d+ ", line)]


def main():
    agent_binary, top_binary, source_dir, build_dir, flavour = sys.argv[1:6]
    # A sanitized library needs a sanitized program.
    sanitize = ["-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined",
                "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"] if flavour == "sanitized" else []
    python = "/usr/bin/python3"
    subscribe = os.path.join(source_dir, "examples", "python", "subscribe.py")
    try:
        agent = Agent(agent_binary, ["--listen", "127.0.0.1:0", "--interval", "100"], TIMEOUT)
    except RuntimeError as error:
        check("agent starts", False, error)
        return 1
    started.append(agent.proc)
    tmp = tempfile.mkdtemp(prefix="hostpulse-examples-")
    try:
        url = "ws://127.0.0.1:%d/api/v1/stream" % agent.port

        for extra in ([], ["--msgpack"]):
            r = run([python, subscribe, "--url", url, "--series", "cpu.busy_pct", "--series", "load.1m", "--count", "4"]
                    + extra)
            seqs = sample_seqs(r.stdout)
            check("subscribe.py %s prints 4 consecutive samples" % " ".join(extra),
                  r.returncode == 0 and len(seqs) == 4 and seqs == list(range(seqs[0], seqs[0] + 4))
                  and "cpu.busy_pct=" in r.stdout and "load.1m=" in r.stdout, r.stdout + r.stderr)
        r = run([python, subscribe, "--url", url, "--plot", "--count", "2"])
        check("subscribe.py --plot draws bars", r.returncode == 0 and r.stdout.count("|") == 2, r.stdout + r.stderr)
        r = run([python, subscribe, "--url", url, "--series", "cpu.bussy_pct", "--count", "1"])
        check("subscribe.py with an unknown series exits non-zero naming it",
              r.returncode != 0 and "unknown series 'cpu.bussy_pct'" in r.stderr, r.stderr)
        r = run([python, subscribe, "--url", "ws://127.0.0.1:1/api/v1/stream", "--max-attempts", "2"])
        check("subscribe.py gives up on an unreachable agent", r.returncode != 0 and "giving up" in r.stderr, r.stderr)

        r = run([top_binary, "--url", url, "--count", "3"])
        check("hostpulse-top (in-tree) prints 3 samples",
              r.returncode == 0 and len(re.findall(r"^seq \d+ .*cpu.busy_pct=", r.stdout, re.M)) == 3, r.stdout + r.stderr)
        r = run([top_binary, "--bogus"])
        check("hostpulse-top with a bad flag: usage, exit 2", r.returncode == 2 and "usage" in r.stderr, r.stderr)

        # As a user would: install the library, build the example outside the tree.
        prefix = os.path.join(tmp, "prefix")
        r = run(["cmake", "--install", build_dir, "--prefix", prefix, "--component", "client-dev"], timeout=120)
        check("cmake --install --component client-dev", r.returncode == 0, r.stdout + r.stderr)
        installed = sorted(os.path.relpath(os.path.join(d, f), prefix) for d, _, fs in os.walk(prefix) for f in fs)
        check("the install has the header, the library and the package config",
              "include/hostpulse/client.hpp" in installed
              and any(p.endswith("libhostpulse-client.a") for p in installed)
              and any(p.endswith("hostpulse-client-config.cmake") for p in installed), installed)
        example_build = os.path.join(tmp, "build")
        r = run(["cmake", "-S", os.path.join(source_dir, "examples", "cpp"), "-B", example_build,
                 "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"] + sanitize, timeout=120)
        check("examples/cpp configures against the installed package", r.returncode == 0, r.stdout + r.stderr)
        r = run(["cmake", "--build", example_build, "-j2"], timeout=300)
        check("examples/cpp builds against the installed package", r.returncode == 0, r.stdout + r.stderr)
        program = os.path.join(example_build, "hostpulse-top")
        if os.path.exists(program):
            r = run([program, "--url", url, "--count", "2", "--msgpack"])
            check("the installed-package build runs", r.returncode == 0 and r.stdout.count("cpu.busy_pct=") == 2,
                  r.stdout + r.stderr)
        else:
            check("the installed-package build runs", False, "not built")
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(TIMEOUT)
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [name for name, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
