"""Where the front spends its CPU on events: the front under cProfile, driven like the bench drives it.

    python -m bench.hotspots [--events 3000] [--clients 0] [--top 35] [--sort tottime]

Starts ``nowaki start bench/app`` under cProfile counting CPU time
(``bench.cpu_profiled``; stopped by PID with SIGTERM, so the profile is
written), sends ``--events`` counter events on one connection (or with
``--clients N``, N closed-loop connections for the same total), and prints
the top functions. Not part of ``make bench``: profiling
slows the front down; use it to find what to fix, then re-run the bench.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

from bench.crowds import joiner
from bench.latency import INC
from bench.load import Crowd, next_reply, round_trips
from bench.procs import BENCH_APP, LOAD_ENV, ROOT, stop
from bench.proto import join, join_text, page_tokens
from bench.wsclient import WebSocket


async def _churn(ws_url: str, token: str, count: int) -> None:
    """Open ``count`` joined connections (as the churn row does), then close them all."""
    async with trio.open_nursery() as nursery:
        crowd = Crowd(nursery, ws_url)
        held = await crowd.open(count, joiner(join_text([token])))
        await trio.sleep(1)
        await crowd.close(held, code=1001)
        nursery.cancel_scope.cancel()


async def _drive(ws_url: str, token: str, events: int, clients: int, churn: int) -> None:
    if churn:
        await _churn(ws_url, token, churn)
        return
    text = join_text([token])
    if clients <= 1:
        ws = await WebSocket.connect(ws_url)
        await join(ws, text)
        await round_trips(ws, INC, events, 600)
        ws.abort()
        return
    each = max(1, events // clients)

    async def client() -> None:
        ws = await WebSocket.connect(ws_url)
        try:
            await join(ws, text)
            for _ in range(each):
                await ws.send_text(INC)
                await next_reply(ws)
        finally:
            ws.abort()

    with trio.fail_after(600):
        async with trio.open_nursery() as nursery:
            for _ in range(clients):
                nursery.start_soon(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--churn", type=int, default=0, help="instead: open N joined connections, close them")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--filter", default="", help="only functions whose file matches this regex")
    parser.add_argument("--keep", type=Path, help="also save the raw profile here (pstats format)")
    args = parser.parse_args()
    out = Path(tempfile.mkstemp(prefix="bench-front-", suffix=".prof")[1])
    log = tempfile.NamedTemporaryFile(prefix="bench-profile-", suffix=".log", delete=False)  # noqa: SIM115
    argv = [sys.executable, "-m", "bench.cpu_profiled", str(out), "start", str(BENCH_APP), "--port", "0"]
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                               env={**os.environ, **LOAD_ENV})
    try:
        deadline = time.monotonic() + 60
        while not (match := re.search(r"nowaki front on (http://\S+)", Path(log.name).read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(log.name).read_text())
            time.sleep(0.1)
        url = match.group(1)
        token = page_tokens(url)["Counter"]
        trio.run(_drive, url.replace("http://", "ws://") + "/__nowaki/live", token, args.events, args.clients,
                 args.churn)
    finally:
        stop(process, grace=20)
        log.close()
        Path(log.name).unlink(missing_ok=True)
    stats = pstats.Stats(str(out))
    restrictions: list[str | int] = [args.filter] if args.filter else []
    stats.sort_stats(args.sort).print_stats(*restrictions, args.top)
    if args.keep:
        out.replace(args.keep)
    out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
