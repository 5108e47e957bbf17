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


def decode(message):
    return msgpack.unpackb(message) if isinstance(message, bytes) else json.loads(message)


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
                if hello.get("type") != "hello" or hello.get("protocol") != 1:
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
