"""Processes the harness starts and stops by PID, and what /proc says about them.

Every process is started here and stopped in a ``finally`` block: SIGTERM,
then SIGKILL by its own PID if it lingers. Nothing is ever killed by name.
Starting, ready lines, stopping and the /proc readers are the tests' own
(``tests.support``: the bench imports from there, never the reverse); what
is bench-only (load settings, floors, pipes, file limits) is here.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.proc import cpu_seconds, rss_kib
from tests.support.processes import FRONT_READY, Front, nowaki_argv, spawn_logged, stop, wait_ready

__all__ = [
    "BENCH_APP", "LOAD_ENV", "ROOT", "SECRET", "Floor", "Front", "cpu_seconds", "raise_file_limit",
    "rss_kib", "run_floor", "run_front", "self_cpu_seconds", "spawn_pipe", "stop",
]

BENCH_APP = ROOT / "bench" / "app"
SECRET = "bench-secret-not-for-production"

LOAD_ENV = {
    "NOWAKI_SECRET": SECRET,
    "NOWAKI_LIVE_PER_IP": "100000",  # every bench client comes from 127.0.0.1
    "NOWAKI_LIVE_RATE": "1000000",
    "NOWAKI_LIVE_BURST": "1000000",
}
"""Front settings for load: no per-address cap, no event rate limit, a fixed secret."""

_FLOOR_READY = re.compile(r"floor listening on (\d+)(?: pipe (\d+))?")


def raise_file_limit() -> int:
    """Raise this process's open-file soft limit to the hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def self_cpu_seconds() -> float:
    """CPU seconds of this (client) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _logged(
    argv: list[str], env: Mapping[str, str], prefix: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``argv`` logging to a temp file, run from the checkout; stopped by PID and its log removed after."""
    process, path = spawn_logged(argv, env, prefix, cwd=ROOT)
    try:
        yield process, path
    finally:
        stop(process)
        path.unlink(missing_ok=True)


@contextmanager
def run_front(env: Mapping[str, str] | None = None, app: Path = BENCH_APP,
              renderers: int | None = None, timeout: float = 30.0) -> Iterator[Front]:
    """``nowaki start APP --port 0`` with LOAD_ENV (+ ``env``); stopped by PID at the end."""
    argv = nowaki_argv("start", str(app), "--port", "0", "--host", "127.0.0.1")
    if renderers is not None:
        argv += ["--renderers", str(renderers)]
    full_env = {**os.environ, **LOAD_ENV, **(env or {})}
    with _logged(argv, full_env, "bench-front-") as (process, path):
        match = wait_ready(FRONT_READY, process, path, "bench front", timeout)
        deadline = time.monotonic() + timeout  # the ready line comes before the pool log lines
        front = Front(process, match.group(1), path)
        while len(front.renderer_pids()) < (renderers or os.cpu_count() or 1):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        yield front


@dataclass
class Floor:
    """A running bare floor server (``bench.floor_server``)."""

    process: subprocess.Popen[bytes]
    port: int
    pipe_pid: int | None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


@contextmanager
def run_floor(mode: str, reply: str, html_bytes: int, timeout: float = 20.0) -> Iterator[Floor]:
    """A bare trio-websocket server: ``echo`` or ``chain`` (forwards to a pipe subprocess)."""
    argv = [sys.executable, "-m", "bench.floor_server", mode, "--reply", reply,
            "--html-bytes", str(html_bytes)]
    with _logged(argv, os.environ, f"bench-floor-{mode}-") as (process, path):
        match = wait_ready(_FLOOR_READY, process, path, f"floor {mode}", timeout)
        yield Floor(process, int(match.group(1)), int(match.group(2)) if match.group(2) else None)


@contextmanager
def spawn_pipe(argv: list[str], env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A child spoken to over stdin/stdout pipes (stderr to a temp file); stopped by PID at the end."""
    err = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                               env=dict(env or os.environ), cwd=ROOT)
    try:
        yield process
    finally:
        if process.stdin is not None:
            with suppress(OSError):
                process.stdin.close()
        stop(process, grace=3.0)
        if process.stdout is not None:
            process.stdout.close()
        err.close()
