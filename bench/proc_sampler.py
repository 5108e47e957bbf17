#!/usr/bin/env python3
"""CPU and RSS of process trees, sampled once per second.

   proc_sampler.py --seconds S NAME=PID [NAME=PID ...]

CPU is utime+stime of the process and all its descendants (netdata runs its
collectors as child processes), as % of one core over the window; RSS is the
sum of VmRSS over the tree. Prints one JSON object: per name the CPU % over
the whole window, median and max of the per-second RSS samples."""
import json, os, statistics, sys, time

TICKS = os.sysconf("SC_CLK_TCK")


def processes():
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
    return table


def tree(root, table):
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in table.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return members


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    targets = dict(arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg)
    targets = {name: int(pid) for name, pid in targets.items()}
    # Ticks of processes that exit during the window are lost; per-process
    # maxima keep a short-lived child from making CPU go backwards.
    seen = {name: {} for name in targets}
    rss = {name: [] for name in targets}

    def sample():
        table = processes()
        for name, root in targets.items():
            members = tree(root, table)
            for pid in members:
                seen[name][pid] = max(seen[name].get(pid, 0), table[pid][1]) if pid in table else seen[name].get(pid, 0)
            rss[name].append(sum(rss_kib(pid) for pid in members))

    sample()
    start_ticks = {name: dict(seen[name]) for name in targets}
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        sample()
    elapsed = time.monotonic() - started
    result = {}
    for name in targets:
        used = sum(t - start_ticks[name].get(pid, 0) for pid, t in seen[name].items())
        result[name] = {"cpu_pct": round(100.0 * used / TICKS / elapsed, 3),
                        "rss_kib_median": statistics.median(rss[name][1:] or rss[name]),
                        "rss_kib_max": max(rss[name]), "processes": len(seen[name]), "seconds": round(elapsed, 1)}
    print(json.dumps(result))


main()
