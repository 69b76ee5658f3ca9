"""Where the front and its renderers spend their CPU on events, driven like the bench drives them.

    python -m bench.hotspots [--events 3000] [--clients 50] [--churn N] [--top 25]
    python -m bench.hotspots --cprofile [--sort tottime] [--filter REGEX] [--keep FILE]

By default every process is sampled from outside by py-spy (a sampling
profiler that reads the interpreter's stacks without touching the process):
the front and each renderer of ``nowaki start bench/app`` get their own
recorder, the load runs, and for each process the report lists the functions
with the most samples on top of the stack (self) and under it (inclusive).
Nothing is instrumented, so the split between front and renderers is the real
one. ``--cprofile`` runs the front under a CPU-time cProfile instead
(``bench.cpu_profiled``): exact call counts, but only the front, and slowed.

Not part of ``make bench``: profiling perturbs timing. Use it to find what to
fix, then re-run the bench. Processes started here are stopped by PID.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import trio

from bench.crowds import joiner
from bench.latency import INC
from bench.load import Crowd, next_reply, round_trips
from bench.procs import BENCH_APP, LOAD_ENV, ROOT, run_front, stop
from bench.proto import join, join_text, page_tokens
from tests.support.rawws import WebSocket


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


PY_SPY_RATE = 500
"""Samples per second and process: enough for a few thousand events, cheap beside them."""


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``func (path/to/file.py)``: lines of one function merged."""
    return re.sub(r":\d+\)$", ")", frame)


def summarize(raw: str, top: int) -> str:
    """A py-spy raw (collapsed stacks) recording as self and inclusive tables of the top functions."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_frame_name(f) for f in stack.split(";")[1:]]  # [0] names the process
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            under[frame] += samples
    if not total:
        return "  (no samples: the process stayed idle)\n"
    # py-spy's idle filter goes by the thread's state at each sample, so a syscall that returns at
    # once (epoll with work ready, a pipe write) counts as busy: read shares, not CPU seconds.
    lines = [f"  {total} samples not idle (≈ {total / PY_SPY_RATE:.2f} s)", "  self %   incl %   function"]
    for frame, samples in own.most_common(top):
        lines.append(f"  {100 * samples / total:6.1f}   {100 * under[frame] / total:6.1f}   {frame}")
    return "\n".join(lines) + "\n"


def _record(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).with_name("py-spy")
    argv = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", str(PY_SPY_RATE),
            "--nonblocking", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def sampled(args: argparse.Namespace) -> int:
    """Drive a front while py-spy samples it and each renderer; print each process's hotspots."""
    with run_front() as front, tempfile.TemporaryDirectory(prefix="bench-spy-") as folder:
        roles = {"front": front.pid, **{f"renderer{i}": pid for i, pid in enumerate(front.renderer_pids())}}
        outs = {role: Path(folder) / f"{role}.txt" for role in roles}
        spies = {role: _record(pid, outs[role]) for role, pid in roles.items()}
        try:
            time.sleep(1.0)  # py-spy attaches
            token = page_tokens(front.url)["Counter"]
            trio.run(_drive, front.ws_url, token, args.events, args.clients, args.churn)
        finally:
            for spy in spies.values():
                if spy.poll() is None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            errors = {role: spy.communicate(timeout=30)[1].decode(errors="replace")
                      for role, spy in spies.items()}
        for role, out in outs.items():
            print(f"== {role} (pid {roles[role]})")
            if not out.exists():
                print(f"  py-spy wrote nothing: {errors[role].strip()[-300:]}")
                continue
            print(summarize(out.read_text(), args.top))
    return 0


def profiled(args: argparse.Namespace) -> int:
    """The front alone under a CPU-time cProfile (exact call counts)."""
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=0, help="N closed-loop connections (0: one)")
    parser.add_argument("--churn", type=int, default=0, help="instead: open N joined connections, close them")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cprofile", action="store_true", help="the front under cProfile instead of py-spy")
    parser.add_argument("--sort", default="tottime", help="cProfile: sort key")
    parser.add_argument("--filter", default="", help="cProfile: only functions whose file matches this regex")
    parser.add_argument("--keep", type=Path, help="cProfile: also save the raw profile here (pstats format)")
    args = parser.parse_args()
    return profiled(args) if args.cprofile else sampled(args)


if __name__ == "__main__":
    sys.exit(main())
