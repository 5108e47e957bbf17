#!/usr/bin/env python3
"""Pulls every retained point of a running agent into a compact capture.

    bench/capture_history.py http://127.0.0.1:9870 bench/fixtures/history_1h.csv.xz

The capture is columnar text, xz-compressed, read by bench/history_capture.cpp:
    # comment lines
    t,<first t_ms>,<delta ms>,<delta ms>,...
    s,<name>,<decimals or "float">,<value>,<value>,...     (one line per series)
Values are written as the REST API gave them (shortest round-trip form), an
empty field for "no value". The benchmark replays them into History.
"""

import json
import lzma
import sys
import urllib.request


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=60) as reply:
        return json.load(reply)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    base, out = sys.argv[1].rstrip("/"), sys.argv[2]
    info = get(base, "/api/v1/info")
    decimals = {s["name"]: s["decimals"] for s in get(base, "/api/v1/series?retired=true")["series"]}
    history = get(base, "/api/v1/history?since_seq=0")
    t = history["t"]
    lines = [
        f"# hostpulse history capture: {len(t)} points x {len(history['series'])} series, "
        f"interval {info['interval_ms']} ms, seqs {history['seq_first']}-{history['seq_last']}, "
        f"{info['cpu_count']} CPUs, {info['kernel']}",
        "t," + ",".join([str(t[0])] + [str(b - a) for a, b in zip(t, t[1:])]) if t else "t",
    ]
    for name, column in zip(history["series"], history["values"]):
        scale = decimals.get(name)
        fields = ["" if v is None else repr(float(v)) if isinstance(v, float) else str(v) for v in column]
        lines.append(",".join(["s", name, "float" if scale is None else str(scale)] + fields))
    with lzma.open(out, "wt", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(t)} points x {len(history['series'])} series")


if __name__ == "__main__":
    main()
