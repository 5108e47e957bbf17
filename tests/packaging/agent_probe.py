#!/usr/bin/python3
"""Talks to a running hostpulse as a user would: the REST API and the
WebSocket stream, over http/ws or https/wss. Used by the packaging tests
(the installed agent, the agent behind nginx); importable or runnable.

usage: agent_probe.py BASE_URL [--token T] [--cacert FILE] [--origin O]
                      [--foreign-origin O]
  BASE_URL   http://127.0.0.1:9870 or https://localhost:8443
  --token    the agent needs this bearer token: check 401 without it, 200 with
  --origin   send this Origin on the stream (must be accepted)
  --foreign-origin  an Origin the agent must refuse on the stream

Prints PASS/FAIL per check; exit status 1 if any failed.
"""

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import websockets

TIMEOUT = 10  # seconds, for any single wait


class Checks:
    def __init__(self):
        self.failed = 0

    def __call__(self, name, condition, detail=""):
        if not condition:
            self.failed += 1
        print(("PASS " if condition else "FAIL ") + name + ("" if condition or detail == "" else ": " + str(detail)),
              flush=True)
        return bool(condition)


def ssl_context(cacert):
    return ssl.create_default_context(cafile=cacert) if cacert else None


def http_get(url, token=None, cacert=None):
    """(status, the body parsed if it is JSON, else its bytes; None on errors)."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=ssl_context(cacert)) as response:
            body = response.read()
            if response.headers.get_content_type() == "application/json":
                return response.status, json.loads(body)
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, None


async def recv(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def stream_samples(url, token, cacert, origin, frames_wanted=3):
    """hello, subscribe to cpu.busy_pct, then frames_wanted samples frames."""
    headers = {"Authorization": "Bearer " + token} if token else None
    async with websockets.connect(url, ssl=ssl_context(cacert), origin=origin, extra_headers=headers,
                                  open_timeout=TIMEOUT, max_size=None) as ws:
        hello = await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "id": "probe", "series": ["cpu.busy_pct", "load.1m"]}))
        subscribed = None
        frames = []
        deadline = time.monotonic() + TIMEOUT
        while len(frames) < frames_wanted and time.monotonic() < deadline:
            message = await recv(ws)
            if message.get("type") == "subscribed" and message.get("id") == "probe":
                subscribed = message
            elif message.get("type") == "samples" and subscribed and message.get("sub") == subscribed["sub"]:
                frames.append(message)
        return hello, subscribed, frames


async def stream_close_code(url, cacert, origin, token):
    """The close code (or HTTP status) that refused the stream, or "accepted"
    when the agent sent its hello instead."""
    headers = {"Authorization": "Bearer " + token} if token else None
    try:
        async with websockets.connect(url, ssl=ssl_context(cacert), origin=origin, extra_headers=headers,
                                      open_timeout=TIMEOUT) as ws:
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            return "accepted" if message.get("type") == "hello" else message
    except websockets.exceptions.ConnectionClosed as error:
        return error.rcvd.code if error.rcvd else "closed without a code"
    except websockets.exceptions.InvalidStatusCode as error:
        return error.status_code


def probe(base, check, token=None, cacert=None, origin=None, foreign_origin=None):
    base = base.rstrip("/")
    status, health = http_get(base + "/api/v1/health", token, cacert)
    check("GET /api/v1/health is 200 with JSON", status == 200 and isinstance(health, dict), status)
    status, snapshot = http_get(base + "/api/v1/snapshot?series=cpu.busy_pct,mem.used_bytes", token, cacert)
    check("GET /api/v1/snapshot carries cpu.busy_pct", status == 200 and "cpu.busy_pct" in json.dumps(snapshot),
          (status, snapshot))
    if token:
        status, _ = http_get(base + "/api/v1/health", None, cacert)
        check("without the token the API answers 401", status == 401, status)
    status, _ = http_get(base + "/", None, cacert)
    check("GET / serves the dashboard", status == 200, status)

    stream_url = ("wss" if base.startswith("https") else "ws") + base[base.index(":"):] + "/api/v1/stream"
    hello, subscribed, frames = asyncio.run(stream_samples(stream_url, token, cacert, origin))
    check("stream: hello", hello.get("type") == "hello" and "schema" in json.dumps(hello), hello.get("type"))
    check("stream: subscribed", subscribed is not None and subscribed.get("sub") is not None, subscribed)
    seqs = [seq for frame in frames for seq in range(frame["seq_first"], frame["seq_last"] + 1)]
    check("stream: 3 samples frames with consecutive seqs",
          len(frames) >= 3 and all(b == a + 1 for a, b in zip(seqs, seqs[1:])), seqs)
    if token:
        code = asyncio.run(stream_close_code(stream_url, cacert, origin, None))
        check("stream: closed with 4001 without the token", code == 4001, code)
    if foreign_origin:
        code = asyncio.run(stream_close_code(stream_url, cacert, foreign_origin, token))
        check("stream: closed with 1008 for the foreign Origin " + foreign_origin, code == 1008, code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--token")
    parser.add_argument("--cacert")
    parser.add_argument("--origin")
    parser.add_argument("--foreign-origin")
    arguments = parser.parse_args()
    check = Checks()
    try:
        probe(arguments.base, check, arguments.token, arguments.cacert, arguments.origin, arguments.foreign_origin)
    except Exception as error:  # a crash is a failure with its reason, not a traceback to decode
        check("probe ran to the end", False, repr(error))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
