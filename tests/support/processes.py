"""Start real nowaki processes, wait for their ready line, and stop exactly those, by PID.

Every suite (and the bench, through ``bench.procs``) starts its processes
here: the child logs to a temp file, readiness is a line in that log, and
stopping is SIGTERM, then SIGKILL if it lingers, always by the child's own
PID. Nothing is ever killed by name.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import trio

from tests.support.paths import FIXTURE_APP, ROOT

T = TypeVar("T")

FRONT_READY = re.compile(r"nowaki front on (http://\S+)")
"""The line a front (``nowaki start``, ``dev`` or ``front``) logs once it serves."""


# -- environment and ports ---------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``NOWAKI_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOWAKI_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def wait_until(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


# -- starting and stopping -----------------------------------------------------


def nowaki_argv(*args: str) -> list[str]:
    """``python -m nowaki.cli ARGS`` with this interpreter."""
    return [sys.executable, "-m", "nowaki.cli", *args]


def spawn_logged(
    argv: Sequence[str], env: Mapping[str, str], prefix: str, cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``argv`` with stdout and stderr to a new temp log file, kept for a post-mortem."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the child holds its own descriptor
        prefix=prefix, suffix=".log", delete=False
    )
    try:
        process = subprocess.Popen(
            list(argv), stdout=handle, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd
        )
    finally:
        handle.close()
    return process, Path(handle.name)


def read_log(path: Path) -> str:
    return path.read_text(errors="replace")


def _ready_or_fail(
    pattern: re.Pattern[str], process: subprocess.Popen[bytes], log_path: Path, what: str, late: bool
) -> re.Match[str] | None:
    """The ready line if logged yet; raise if the process has exited or it is ``late``."""
    match = pattern.search(read_log(log_path))
    if match is None and (process.poll() is not None or late):
        raise RuntimeError(f"{what} did not start:\n{read_log(log_path)}")
    return match


def wait_ready(
    pattern: re.Pattern[str], process: subprocess.Popen[bytes], log_path: Path, what: str,
    timeout: float, interval: float = 0.05,
) -> re.Match[str]:
    """Block until ``pattern`` is in the log; RuntimeError (with the log) if the process dies first."""
    deadline = time.monotonic() + timeout
    while (match := _ready_or_fail(pattern, process, log_path, what, time.monotonic() > deadline)) is None:
        time.sleep(interval)
    return match


async def await_ready(
    pattern: re.Pattern[str], process: subprocess.Popen[bytes], log_path: Path, what: str,
    timeout: float, interval: float = 0.05,
) -> re.Match[str]:
    """``wait_ready`` without blocking the trio loop."""
    deadline = trio.current_time() + timeout
    while (match := _ready_or_fail(pattern, process, log_path, what, trio.current_time() > deadline)) is None:
        await trio.sleep(interval)
    return match


def signal_pid(pid: int, signum: int) -> None:
    """Send ``signum`` to ``pid`` if it still exists."""
    with suppress(ProcessLookupError):
        os.kill(pid, signum)


def stop(process: subprocess.Popen[Any], grace: float = 10.0) -> int:
    """SIGTERM this process (by its PID), SIGKILL it if still there after ``grace``; its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


async def stop_async(process: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    """``stop`` without blocking the trio loop while the process shuts down."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with trio.move_on_after(grace):
            while process.poll() is None:
                await trio.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


# -- fronts ----------------------------------------------------------------


class Logged:
    """What a started child with a log file offers; the dataclasses below give it their fields."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return read_log(self.log_path)


@dataclass
class Front(Logged):
    """A running front process (``nowaki start``, ``dev`` or ``front``)."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/__nowaki/live"

    def renderer_pids(self) -> list[int]:
        """PIDs of this front's renderer children, from the log's start lines."""
        pids = [int(p) for p in re.findall(r"renderer \d+/pid (\d+) up", self.log())]
        return [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def launch_front(
    args: Sequence[str], env: Mapping[str, str], prefix: str = "nowaki-front-", what: str = "front",
    timeout: float = 30.0, cwd: Path | None = None, interval: float = 0.05,
) -> Front:
    """``nowaki ARGS`` once it logs its URL; the caller stops it (here if it never gets ready)."""
    process, log_path = spawn_logged(nowaki_argv(*args), env, prefix, cwd)
    try:
        match = wait_ready(FRONT_READY, process, log_path, what, timeout, interval)
    except BaseException:
        stop(process)
        raise
    return Front(process, match.group(1), log_path)


@contextmanager
def front_running(
    args: Sequence[str], env: Mapping[str, str], prefix: str = "nowaki-front-", what: str = "front",
    timeout: float = 30.0, cwd: Path | None = None, interval: float = 0.05,
) -> Iterator[Front]:
    """``launch_front`` for the ``with`` block, stopped by PID at the end."""
    front = launch_front(args, env, prefix, what, timeout, cwd, interval)
    try:
        yield front
    finally:
        stop(front.process)


@contextmanager
def run_front(
    app: Path = FIXTURE_APP,
    env: Mapping[str, str] | None = None,
    renderers: int = 1,
    timeout: float = 20.0,
) -> Iterator[Front]:
    """Start a front on a free loopback port; yield it; SIGTERM it (SIGKILL if stuck)."""
    full_env = {**os.environ, "NOWAKI_SECRET": "test-secret", **(env or {})}
    args = ["start", str(app), "--port", "0", "--renderers", str(renderers)]
    with front_running(args, full_env, timeout=timeout) as front:
        yield front
