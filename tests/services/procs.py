"""Start real ``nowaki`` processes (front, dev, start, renderer services); stop exactly those, by PID.

Fronts are ready when they log ``nowaki front on http://…`` (as in
``tests.support.run_front``); renderer services when they log ``listening on``.
A renderer service forks one child per accepted connection, so "killing the
service" here means SIGKILL to the service and to each of its children, all
by PID.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import processes
from tests.support.proc import children_of, running
from tests.support.processes import (
    Front,
    Logged,
    clean_env,
    front_running,
    nowaki_argv,
    signal_pid,
    spawn_logged,
    wait_ready,
    wait_until,
)

READY_RENDERER = re.compile("listening on")
SECRET = "services-test-secret"


# -- renderer services -------------------------------------------------------


@dataclass
class Service(Logged):
    """One ``nowaki renderer --listen`` process."""

    process: subprocess.Popen[bytes]
    address: str
    log_path: Path

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
        processes.stop(self.process)
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
        command = nowaki_argv("renderer", "--app", str(self.app), "--listen", listen)
        if key is not None:
            command += ["--key", key]
        process, log_path = spawn_logged(command, self.env, "nowaki-renderer-")
        service = Service(process, listen, log_path)
        self.started.append(service)
        wait_ready(READY_RENDERER, process, log_path, f"renderer service {listen}", timeout, interval=0.02)
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
    argv = [command, str(app), "--port", "0", *args]
    with front_running(argv, full_env, f"nowaki-{command}-", f"nowaki {command}", timeout, cwd,
                       interval=0.02) as front:
        yield front


def health(front: Front) -> dict[str, Any]:
    """``/__nowaki/health`` as JSON (whatever its status code)."""
    response = httpx.get(front.url + "/__nowaki/health", timeout=5)
    body: dict[str, Any] = json.loads(response.text)
    return body


def run_cli(args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``nowaki ARGS`` to completion (bounded); capture stdout and stderr as text."""
    return subprocess.run(
        nowaki_argv(*args), capture_output=True, text=True,
        env=dict(env) if env is not None else clean_env(), cwd=cwd, timeout=timeout,
    )
