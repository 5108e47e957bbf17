#!/usr/bin/python3
"""The hostpulse stream with a third-party client: Debian's python3-websockets
and python3-msgpack (run with /usr/bin/python3).

usage: python_client_test.py HOSTPULSE_BINARY FIXTURES_DIR

Starts its own agent on a copy of the 2-CPU fixture procfs (port 0, the port
parsed from its log), checks:
  - JSON and msgpack subscriptions of the same series carry identical data
    (bit for bit, decoded by examples/python/subscribe.py's expand_samples),
    with consecutive seqs; expand_samples on hand-made protocol 2 frames;
  - resume after a dropped connection: no gap, no duplicate;
  - an error reply (unknown_series) leaves the connection open;
  - SIGTERM closes every client with 1001 and the agent exits 0;
and always kills the agent by its PID. Prints PASS/FAIL per check and exits
non-zero if any failed.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import msgpack
import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python"))
from agent_process import Agent  # noqa: E402
import subscribe  # noqa: E402  the example's decoder of binary samples is the one under test

TIMEOUT = 10  # seconds, for any single wait
results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition or not detail else ": " + str(detail)),
          flush=True)
    return bool(condition)


def decode(message):
    return subscribe.decode(message)


def same_value(x, y):
    """The same double (compared as hex), or both None. json.loads reads "-0" as the integer 0,
    so zeros are compared by value."""
    if x is None or y is None:
        return x is None and y is None
    return x == y == 0 or float(x).hex() == float(y).hex()


def hand_made_frames():
    frame = subscribe.expand_samples({
        "type": "samples", "sub": 3, "seq_first": 1235, "seq_last": 1238,
        "t": [1795321853683, 1000, 1000, 999], "series": [0, 23, 24, 25, 26, 27],
        "cols": [[2, 1250, 75, -30],                    # negative delta; the last one left out: 0
                 [None, 0.5, None, 1e300, -2.0],        # a float column
                 [0, None, 7, None],                    # None at the start and in the middle
                 [1],                                   # all deltas left out
                 [0, 68719476737, -68719472641, 4096],  # whole bytes above 2**32
                 [2, 7, 3326, 6667, -9993]]})           # 0.07, 33.33, 100, 0.07
    expected_values = [[12.5, 13.25, 12.95, 12.95], [0.5, None, 1e300, -2.0], [None, 7, None, 7], [0, 0, 0, 0],
                       [68719476737, 4096, 8192, 8192], [0.07, 33.33, 100, 0.07]]
    check("expand_samples: t absolute", frame["t"] == [1795321853683, 1795321854683, 1795321855683, 1795321856682],
          frame["t"])
    check("expand_samples: values exactly the JSON numbers", "cols" not in frame and all(
        len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
        for a, b in zip(frame["values"], expected_values)), frame["values"])
    for name, cols in [("no decimals", [[]]), ("decimals 7", [[7, 1, 2]]), ("longer than t", [[0, 1, 2, 3]]),
                       ("short float column", [[None, 1.0]]), ("fractional delta", [[0, 1.5]]),
                       ("sum reaches 2**53", [[0, 2 ** 53 - 1, 1]]), ("not a list", [5])]:
        try:
            subscribe.expand_samples({"type": "samples", "seq_first": 1, "seq_last": 2, "t": [1000, 1000],
                                      "series": [0], "cols": cols})
            check("expand_samples: %s raises" % name, False)
        except ValueError:
            check("expand_samples: %s raises" % name, True)


async def recv(ws):
    return decode(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def request(ws, message, types):
    """Sends message and returns the first reply of one of `types` with its id."""
    await ws.send(json.dumps(message))
    skipped = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        reply = await recv(ws)
        if reply.get("type") in types and reply.get("id") == message.get("id"):
            return reply, skipped
        skipped.append(reply)
    raise TimeoutError("no reply to %r" % (message,))


def point_seqs(frames):
    seqs = []
    for f in frames:
        n = len(f["t"])
        if f["seq_last"] - f["seq_first"] != n - 1:
            raise AssertionError("frame %d..%d holds %d points" % (f["seq_first"], f["seq_last"], n))
        seqs.extend(range(f["seq_first"], f["seq_last"] + 1))
    return seqs


def consecutive(seqs):
    return all(b == a + 1 for a, b in zip(seqs, seqs[1:]))


async def json_and_msgpack(url):
    async with websockets.connect(url, max_size=None, open_timeout=TIMEOUT) as ws:
        hello = await recv(ws)
        check("hello: protocol 2", hello.get("type") == "hello" and hello.get("protocol") == 2, hello.get("protocol"))
        series = ["cpu.*", "mem.*", "load.*"]
        j, pending = await request(ws, {"type": "subscribe", "id": "j", "series": series}, ["subscribed"])
        m, more = await request(ws, {"type": "subscribe", "id": "m", "series": series, "format": "msgpack"},
                                ["subscribed"])
        pending += more
        check("subscribed: same series in both formats", j["series"] == m["series"] and m["format"] == "msgpack")
        by_sub = {j["sub"]: {}, m["sub"]: {}}
        binary_ok = True
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if pending:
                frame = pending.pop(0)
                raw_binary = None
            else:
                raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
                raw_binary = isinstance(raw, bytes)
                if raw_binary and "cols" not in msgpack.unpackb(raw):
                    binary_ok = False
                frame = decode(raw)
            if frame.get("type") != "samples" or frame["sub"] not in by_sub:
                continue
            if raw_binary is not None and raw_binary != (frame["sub"] == m["sub"]):
                binary_ok = False
            by_sub[frame["sub"]][frame["seq_first"]] = frame
            if len(set(by_sub[j["sub"]]) & set(by_sub[m["sub"]])) >= 10:
                break
        common = sorted(set(by_sub[j["sub"]]) & set(by_sub[m["sub"]]))
        check("msgpack frames are binary (with protocol 2's cols), json frames text", binary_ok)
        check("10 seqs seen in both formats", len(common) >= 10, len(common))
        identical = True
        detail = ""
        for seq in common:
            a, b = by_sub[j["sub"]][seq], by_sub[m["sub"]][seq]
            if a["t"] != b["t"] or a["series"] != b["series"] or a["seq_last"] != b["seq_last"]:
                identical, detail = False, "seq %d: t/series differ" % seq
            if len(a["values"]) != len(b["values"]):
                identical, detail = False, "seq %d: column counts differ" % seq
            for col_a, col_b in zip(a["values"], b["values"]):
                if len(col_a) != len(col_b):
                    identical, detail = False, "seq %d: column lengths differ" % seq
                for x, y in zip(col_a, col_b):
                    if not same_value(x, y):
                        identical, detail = False, "seq %d: %r vs %r" % (seq, x, y)
        check("json and msgpack carry identical data, bit for bit", identical, detail)
        for sub in by_sub:
            frames = [by_sub[sub][s] for s in sorted(by_sub[sub])]
            check("seqs consecutive (sub %d)" % sub, consecutive(point_seqs(frames)))


async def resume(url):
    frames = []
    ws = await websockets.connect(url, max_size=None, open_timeout=TIMEOUT)
    await recv(ws)
    sub, _ = await request(ws, {"type": "subscribe", "id": "r", "series": ["load.*"]}, ["subscribed"])
    while len(frames) < 5:
        frame = await recv(ws)
        if frame.get("type") == "samples" and frame["sub"] == sub["sub"]:
            frames.append(frame)
    # Drop the TCP connection: no close frame.
    ws.transport.abort()
    await asyncio.sleep(0.5)
    last = frames[-1]["seq_last"]
    async with websockets.connect(url, max_size=None, open_timeout=TIMEOUT) as ws2:
        await recv(ws2)
        resumed, _ = await request(ws2, {"type": "subscribe", "id": "r", "series": ["load.*"], "resume_from": last},
                                   ["subscribed"])
        second = []
        while not second or second[-1]["seq_last"] < resumed["seq"] + 3:
            frame = await recv(ws2)
            if frame.get("type") == "samples" and frame["sub"] == resumed["sub"]:
                second.append(frame)
        check("resume: catch-up starts at resume_from + 1", second[0]["seq_first"] == last + 1,
              (second[0]["seq_first"], last))
        seqs = point_seqs(frames + second)
        check("resume: no gap, no duplicate across the reconnect",
              consecutive(seqs) and len(seqs) == len(set(seqs)), seqs)


async def error_reply(url):
    async with websockets.connect(url, max_size=None, open_timeout=TIMEOUT) as ws:
        await recv(ws)
        reply, _ = await request(ws, {"type": "subscribe", "id": "bad", "series": ["cpu.bussy_pct"]}, ["error"])
        check("error: unknown_series with the request id",
              reply.get("code") == "unknown_series" and reply.get("id") == "bad", reply)
        pong, _ = await request(ws, {"type": "ping", "id": 7}, ["pong"])
        check("error: the connection stays open (pong)", pong.get("id") == 7 and isinstance(pong.get("t"), int))


async def sigterm(url, agent):
    clients = []
    for series in (["load.*"], ["mem.*"]):
        ws = await websockets.connect(url, max_size=None, open_timeout=TIMEOUT)
        await recv(ws)
        await request(ws, {"type": "subscribe", "id": 1, "series": series, "format": "msgpack"}, ["subscribed"])
        clients.append(ws)

    async def until_closed(ws):
        try:
            while True:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        except websockets.ConnectionClosed as closed:
            # websockets >= 10: the close frame received (None if there was none).
            received = getattr(closed, "rcvd", None)
            return received.code if received is not None else getattr(closed, "code", None)
        except asyncio.TimeoutError:
            return None

    waiters = [asyncio.ensure_future(until_closed(ws)) for ws in clients]
    await asyncio.sleep(0.3)
    started = time.monotonic()
    os.kill(agent.proc.pid, signal.SIGTERM)
    codes = await asyncio.gather(*waiters)
    check("SIGTERM: every client closed with 1001", codes == [1001, 1001], codes)
    loop = asyncio.get_running_loop()
    try:
        code = await loop.run_in_executor(None, lambda: agent.proc.wait(timeout=TIMEOUT))
    except subprocess.TimeoutExpired:
        code = None
    elapsed = time.monotonic() - started
    check("SIGTERM: agent exits 0", code == 0, code)
    check("SIGTERM: agent exits within 2 s", elapsed < 2.0, "%.3f s" % elapsed)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, fixtures = sys.argv[1], sys.argv[2]
    scratch = tempfile.mkdtemp(prefix="hostpulse-py-")
    agent = None
    try:
        procfs = os.path.join(scratch, "proc")
        shutil.copytree(os.path.join(fixtures, "proc", "linux6_2cpu"), procfs)
        agent = Agent(binary, ["--listen", "127.0.0.1:0", "--interval", "100", "--procfs", procfs], TIMEOUT)
        url = "ws://127.0.0.1:%d/api/v1/stream" % agent.port

        hand_made_frames()

        async def all_checks():
            await json_and_msgpack(url)
            await resume(url)
            await error_reply(url)
            await sigterm(url, agent)

        asyncio.run(asyncio.wait_for(all_checks(), 45))
    except Exception as error:  # any exception is a failed run, reported as such
        check("no exception", False, "%s: %s" % (type(error).__name__, error))
        if agent is not None:
            print("agent output:\n" + "".join(agent.output), flush=True)
    finally:
        if agent is not None:
            agent.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [name for name, ok in results if not ok]
    print("python_client_test: %s (%d checks, %d failed)" % ("FAIL" if failed or not results else "PASS",
                                                               len(results), len(failed)), flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
