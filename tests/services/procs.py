"""Start real ``nowaki`` processes (front, dev, start, renderer services); stop exactly those, by PID.

Fronts are ready when they log ``nowaki front on http://…`` (as in
``tests.support.run_front``); renderer services when they log ``listening on``.
A renderer service forks one child per accepted connection, so "killing the
service" here means SIGKILL to the service and to each of its children, all
by PID.
"""

from __future__ import annotations

import json
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support import ROOT, Front

T = TypeVar("T")

READY_FRONT = re.compile(r"nowaki front on (http://\S+)")
READY_RENDERER = "listening on"
SECRET = "services-test-secret"


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


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(")") + 2 :].split()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not: it has exited)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def signal_pid(pid: int, signum: int) -> None:
    """Send ``signum`` to ``pid`` if it still exists."""
    with suppress(ProcessLookupError):
        os.kill(pid, signum)


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM our own child, SIGKILL it if it lingers, and reap it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)


def _log_file(prefix: str) -> tuple[Any, Path]:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller's finally
        prefix=prefix, suffix=".log", delete=False
    )
    return handle, Path(handle.name)


# -- renderer services -------------------------------------------------------


@dataclass
class Service:
    """One ``nowaki renderer --listen`` process."""

    process: subprocess.Popen[bytes]
    address: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> list[int]:
        """SIGKILL the service and the children serving its connections; return their PIDs."""
        pids = [self.pid, *children_of(self.pid)]
        for pid in pids:
            signal_pid(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_until(lambda: not any(running(p) for p in pids), 10, f"{self.address} to die")
        return pids

    def stop(self) -> None:
        """End the service and its connection children (teardown)."""
        children = children_of(self.pid) if self.process.poll() is None else []
        _stop(self.process)
        for pid in children:
            signal_pid(pid, signal.SIGKILL)


@dataclass
class Services:
    """Renderer services started by one test; ``close`` stops every one of them."""

    app: Path
    env: Mapping[str, str] = field(default_factory=clean_env)
    started: list[Service] = field(default_factory=list)

    def start(self, listen: str, key: str | None = None, timeout: float = 20.0) -> Service:
        """Start ``nowaki renderer --app APP --listen LISTEN [--key KEY]``; wait for "listening on"."""
        command = [sys.executable, "-m", "nowaki.cli", "renderer", "--app", str(self.app), "--listen", listen]
        if key is not None:
            command += ["--key", key]
        handle, log_path = _log_file("nowaki-renderer-")
        try:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=dict(self.env))
        finally:
            handle.close()
        service = Service(process, listen, log_path)
        self.started.append(service)
        deadline = time.monotonic() + timeout
        while READY_RENDERER not in service.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"renderer service {listen} did not start:\n{service.log()}")
            time.sleep(0.02)
        return service

    def close(self) -> None:
        for service in self.started:
            service.stop()


@contextmanager
def renderer_services(app: Path, env: Mapping[str, str] | None = None) -> Iterator[Services]:
    """A ``Services`` whose processes are all stopped on the way out."""
    services = Services(app, env if env is not None else clean_env())
    try:
        yield services
    finally:
        services.close()


# -- fronts ----------------------------------------------------------------


@contextmanager
def nowaki_front(
    command: str,
    app: Path | str,
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[Front]:
    """``nowaki COMMAND APP --port 0 ARGS`` (start, dev or front); yield it once it serves; stop it."""
    full_env = dict(env) if env is not None else clean_env(NOWAKI_SECRET=SECRET)
    handle, log_path = _log_file(f"nowaki-{command}-")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nowaki.cli", command, str(app), "--port", "0", *args],
            stdout=handle, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
        )
    finally:
        handle.close()
    try:
        deadline = time.monotonic() + timeout
        while True:
            match = READY_FRONT.search(log_path.read_text(errors="replace"))
            if match:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nowaki {command} did not start:\n{log_path.read_text()}")
            time.sleep(0.02)
        yield Front(process, match.group(1), log_path)
    finally:
        _stop(process)


def health(front: Front) -> dict[str, Any]:
    """``/__nowaki/health`` as JSON (whatever its status code)."""
    response = httpx.get(front.url + "/__nowaki/health", timeout=5)
    body: dict[str, Any] = json.loads(response.text)
    return body


def run_cli(args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``nowaki ARGS`` to completion (bounded); capture stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "nowaki.cli", *args], capture_output=True, text=True,
        env=dict(env) if env is not None else clean_env(), cwd=cwd, timeout=timeout,
    )
