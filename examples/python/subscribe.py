#!/usr/bin/python3
"""Subscribe to a hostpulse agent and print (or plot) values.

Uses Debian's python3-websockets and python3-msgpack:
    apt install python3-websockets python3-msgpack
    ./subscribe.py --url ws://127.0.0.1:9870/api/v1/stream --series cpu.busy_pct --series 'load.*'
    ./subscribe.py --plot --series cpu.busy_pct       # a bar in the terminal per sample

Prints one line per sample: seq, time and name=value pairs. Reconnects with
backoff when the connection drops and resumes from the last seq, so no sample
is lost or repeated (if the agent restarted, it starts over from the new
agent's history). With a token, set HOSTPULSE_TOKEN.
"""

import argparse
import asyncio
import datetime
import json
import os
import random
import sys

import msgpack
import websockets


PROTOCOL = 2
MAX_DECIMALS = 6
EXACT_LIMIT = 2 ** 53  # the agent keeps scaled integers below it


def decode(message):
    if not isinstance(message, bytes):
        return json.loads(message)
    frame = msgpack.unpackb(message)
    return expand_samples(frame) if isinstance(frame, dict) and frame.get("type") == "samples" else frame


def expand_samples(frame):
    """A binary samples frame (protocol 2, docs/protocol.md) in the JSON frame's shape.

    "t" comes as the first time and differences; "cols" holds per series
    [decimals, deltas...] of the values scaled by 10**decimals (None is no value
    and skips the chain; trailing deltas left out are 0) or [None, values...].
    k / 10**decimals is exactly the float the JSON frame's number parses to.
    Raises ValueError on a malformed frame.
    """
    t, total = [], 0
    for k, x in enumerate(frame["t"]):
        total = x if k == 0 else total + x
        t.append(total)
    values = [expand_column(column, len(t)) for column in frame["cols"]]
    expanded = {key: value for key, value in frame.items() if key != "cols"}
    expanded.update(t=t, values=values)
    return expanded


def expand_column(column, points):
    if not isinstance(column, list) or not column or len(column) > points + 1:
        raise ValueError("samples: a column must be [decimals, deltas...] with at most one entry per t")
    decimals = column[0]
    if decimals is None:
        if len(column) != points + 1:
            raise ValueError("samples: a float column needs one entry per t")
        if any(v is not None and type(v) not in (int, float) for v in column[1:]):
            raise ValueError("samples: a value must be a number or None")
        return column[1:]
    if type(decimals) is not int or not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError("samples: decimals must be 0 to 6 or None")
    scale = 10 ** decimals
    out, scaled = [], 0
    for k in range(points):
        delta = column[k + 1] if k + 1 < len(column) else 0
        if delta is None:
            out.append(None)
            continue
        if type(delta) is not int:
            raise ValueError("samples: a delta must be an integer")
        scaled += delta
        if abs(scaled) >= EXACT_LIMIT:
            raise ValueError("samples: a scaled value is not below 2**53")
        # int / int is correctly rounded: the same double as the JSON number.
        out.append(scaled if decimals == 0 else scaled / scale)
    return out


def print_sample(seq, t, names, values, plot):
    when = datetime.datetime.fromtimestamp(t / 1000).strftime("%H:%M:%S.%f")[:-3]
    if plot:
        bars = []
        for name, value in zip(names, values):
            width = 0 if value is None else max(0, min(50, round(value / 2)))  # percent -> 50 columns
            bars.append("%-14s %6s |%s" % (name, "-" if value is None else "%.1f" % value, "#" * width))
        print("%s  %s" % (when, "   ".join(bars)), flush=True)
    else:
        pairs = " ".join("%s=%s" % (n, "null" if v is None else round(v, 2)) for n, v in zip(names, values))
        print("%d %s %s" % (seq, when, pairs), flush=True)


async def stream(args):
    headers = {"Authorization": "Bearer " + os.environ["HOSTPULSE_TOKEN"]} if os.environ.get("HOSTPULSE_TOKEN") else {}
    last_seq, started_t, printed, failures = None, None, 0, 0
    while True:
        try:
            async with websockets.connect(args.url, extra_headers=headers, open_timeout=5) as ws:
                hello = decode(await ws.recv())
                if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL:
                    sys.exit("subscribe.py: not a hostpulse stream (or an unknown protocol version)")
                # Series come grouped by family; a "schema" message adds more later.
                names = {s["id"]: s["name"] for family in hello["families"] for s in family["series"]}
                if started_t is not None and hello["started_t"] != started_t:
                    last_seq = 0  # a new agent process: take everything it kept
                started_t = hello["started_t"]
                request = {"type": "subscribe", "id": "py", "series": args.series, "alerts": False,
                           "format": "msgpack" if args.msgpack else "json"}
                if last_seq is not None:
                    request["resume_from"] = last_seq
                await ws.send(json.dumps(request))
                async for message in ws:
                    frame = decode(message)
                    if frame.get("type") == "error":
                        sys.exit("subscribe.py: %s: %s" % (frame.get("code"), frame.get("message")))
                    if frame.get("type") == "schema":
                        names.update({s["id"]: s["name"] for family in frame["added"] for s in family["series"]})
                    if frame.get("type") == "subscribed":
                        failures = 0
                        if last_seq is None:
                            last_seq = frame["seq"]
                    if frame.get("type") != "samples":
                        continue
                    columns = [names[i] for i in frame["series"]]
                    for k, t in enumerate(frame["t"]):
                        seq = frame["seq_first"] + k
                        if seq <= last_seq:
                            continue
                        print_sample(seq, t, columns, [column[k] for column in frame["values"]], args.plot)
                        last_seq = seq
                        printed += 1
                        if args.count and printed >= args.count:
                            return
        except websockets.exceptions.InvalidStatusCode as error:
            sys.exit("subscribe.py: the agent refused the connection (HTTP %d)" % error.status_code)
        except websockets.exceptions.ConnectionClosed as closed:
            if closed.code == 4001:
                sys.exit("subscribe.py: unauthorized: set HOSTPULSE_TOKEN to the agent's token")
            reason = "closed (%s)" % closed.code
        except (OSError, asyncio.TimeoutError) as error:
            reason = str(error) or type(error).__name__
        failures += 1
        if args.max_attempts and failures >= args.max_attempts:
            sys.exit("subscribe.py: giving up after %d attempts: %s" % (failures, reason))
        delay = min(30.0, 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        print("subscribe.py: %s; reconnecting in %.1f s" % (reason, delay), file=sys.stderr, flush=True)
        await asyncio.sleep(delay)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9870/api/v1/stream")
    parser.add_argument("--series", action="append", help="name or * glob (repeatable; default cpu.busy_pct)")
    parser.add_argument("--count", type=int, default=0, help="exit after this many samples")
    parser.add_argument("--msgpack", action="store_true", help="binary frames instead of JSON")
    parser.add_argument("--plot", action="store_true", help="a bar per value (for percentages)")
    parser.add_argument("--max-attempts", type=int, default=0, help="give up after this many failed connections")
    args = parser.parse_args()
    args.series = args.series or ["cpu.busy_pct"]
    try:
        asyncio.run(stream(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
