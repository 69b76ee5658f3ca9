"""Processes the harness starts and stops by PID, and what /proc says about them.

Every process is started here and stopped in a ``finally`` block: SIGTERM,
then SIGKILL by its own PID if it lingers. Nothing is ever killed by name.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_APP = ROOT / "bench" / "app"
SECRET = "bench-secret-not-for-production"
CLK_TCK = os.sysconf("SC_CLK_TCK")

LOAD_ENV = {
    "NOWAKI_SECRET": SECRET,
    "NOWAKI_LIVE_PER_IP": "100000",  # every bench client comes from 127.0.0.1
    "NOWAKI_LIVE_RATE": "1000000",
    "NOWAKI_LIVE_BURST": "1000000",
}
"""Front settings for load: no per-address cap, no event rate limit, a fixed secret."""

_FRONT_READY = re.compile(r"nowaki front on (http://\S+)")
_FLOOR_READY = re.compile(r"floor listening on (\d+)(?: pipe (\d+))?")


def raise_file_limit() -> int:
    """Raise this process's open-file soft limit to the hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (/proc/PID/stat utime + stime)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu_seconds() -> float:
    """CPU seconds of this (client) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM this process (by its PID), SIGKILL it if it is still there after ``grace``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _logged(
    argv: list[str], env: Mapping[str, str], prefix: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".log", delete=False)  # noqa: SIM115
    path = Path(log.name)
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=dict(env), cwd=ROOT)
    try:
        yield process, path
    finally:
        stop(process)
        log.close()
        path.unlink(missing_ok=True)


def _wait_for(pattern: re.Pattern[str], process: subprocess.Popen[bytes], path: Path,
              timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while True:
        match = pattern.search(path.read_text(errors="replace"))
        if match:
            return match
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.args!r} did not start:\n{path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)


@dataclass
class Front:
    """A running ``nowaki start`` on a free loopback port."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/__nowaki/live"

    def renderer_pids(self) -> list[int]:
        """PIDs of the pool's renderers, from the front's log."""
        text = self.log_path.read_text(errors="replace")
        return [int(p) for p in re.findall(r"renderer \d+/pid (\d+) up", text)]


@contextmanager
def run_front(env: Mapping[str, str] | None = None, app: Path = BENCH_APP,
              renderers: int | None = None, timeout: float = 30.0) -> Iterator[Front]:
    """``nowaki start APP --port 0`` with LOAD_ENV (+ ``env``); stopped by PID at the end."""
    argv = [sys.executable, "-m", "nowaki.cli", "start", str(app), "--port", "0", "--host", "127.0.0.1"]
    if renderers is not None:
        argv += ["--renderers", str(renderers)]
    full_env = {**os.environ, **LOAD_ENV, **(env or {})}
    with _logged(argv, full_env, "bench-front-") as (process, path):
        match = _wait_for(_FRONT_READY, process, path, timeout)
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
    with _logged(argv, dict(os.environ), f"bench-floor-{mode}-") as (process, path):
        match = _wait_for(_FLOOR_READY, process, path, timeout)
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
