"""A supervised pool of renderer processes, one request in flight per renderer.

Each slot has a supervisor task that spawns a renderer, says hello, offers it
to callers, and replaces it when it dies. Callers get a deadline per request;
a renderer that misses it is killed (its slot respawns it).
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from nowaki.front.renderer_link import NotSent, RendererLink
from nowaki.protocol import VERSION, errors
from nowaki.protocol.renderer_wire import RendererError
from nowaki.renderer.sandbox import scrubbed_env

log = logging.getLogger("nowaki.front")

ACQUIRE_TIMEOUT = 30.0
"""How long a request waits for a free renderer before ``unavailable``."""

RESTART_BACKOFF_MAX = 5.0


class PoolStartError(RuntimeError):
    """The first renderer could not start (the app does not import, say)."""


class Catalog:
    """What the renderers serve, from their ``hello``: islands, handlers, page routes."""

    def __init__(self, hello: dict[str, Any] | None = None) -> None:
        hello = hello or {}
        self.islands: dict[str, frozenset[str]] = {
            name: frozenset(info.get("handlers", ()))
            for name, info in (hello.get("islands") or {}).items()
        }
        self.pages: frozenset[str] = frozenset(hello.get("pages") or ())


def renderer_command(app: Path, sandbox: bool = True) -> list[str]:
    """The command that starts one pipe renderer for ``app``."""
    command = [sys.executable, "-m", "nowaki.renderer", "--app", str(app)]
    return command if sandbox else [*command, "--no-sandbox"]


class RendererPool:
    """``size`` renderers started from ``command``; ``call`` runs one request on one of them."""

    def __init__(
        self,
        command: Sequence[str],
        size: int,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.size = size
        self.timeout = timeout
        self.env = scrubbed_env(dict(os.environ) if env is None else env)
        self.catalog = Catalog()
        self.restarts = 0
        self._links: set[RendererLink] = set()
        self._idle_send, self._idle_receive = trio.open_memory_channel[RendererLink](math.inf)

    @property
    def up(self) -> int:
        """Renderers alive right now."""
        return sum(link.alive for link in self._links)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start and supervise every slot; ``started`` once all said hello."""
        async with trio.open_nursery() as nursery:
            for slot in range(self.size):
                await nursery.start(self._supervise, slot)
            task_status.started()

    async def _supervise(self, slot: int, *, task_status: trio.TaskStatus[None]) -> None:
        backoff = 0.05
        started = False
        while True:
            began = trio.current_time()
            try:
                await self._run_one(slot, task_status if not started else None)
                started = True
            except PoolStartError:
                if not started:
                    raise
            if trio.current_time() - began > 10:
                backoff = 0.05
            self.restarts += 1
            log.warning("renderer slot %d: restarting in %.2fs", slot, backoff)
            await trio.sleep(backoff)
            backoff = min(backoff * 2, RESTART_BACKOFF_MAX)

    async def _run_one(self, slot: int, task_status: trio.TaskStatus[None] | None) -> None:
        process = await trio.lowlevel.open_process(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env
        )
        assert process.stdin is not None and process.stdout is not None
        name = f"{slot}/pid {process.pid}"
        link = RendererLink(process.stdin, process.stdout, name, kill=process.kill)
        self._links.add(link)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(link.read_replies)
                try:
                    with trio.fail_after(max(self.timeout, 30.0)):
                        hello = await link.call("hello", version=VERSION)
                except (RendererError, NotSent, trio.TooSlowError) as exc:
                    link.kill(f"no hello: {exc}")
                    await process.wait()
                    raise PoolStartError(
                        f"renderer {name} did not start (exit {process.returncode}): {exc}"
                    ) from exc
                self.catalog = Catalog(hello)
                self._idle_send.send_nowait(link)
                log.info("renderer %s up", name)
                if task_status is not None:
                    task_status.started()
                await process.wait()
                link.kill(f"exited with {process.returncode}")
                nursery.cancel_scope.cancel()
        finally:
            self._links.discard(link)
            with trio.CancelScope(shield=True):
                link.kill("pool stopping")
                await process.wait()

    async def _acquire(self) -> RendererLink:
        with trio.move_on_after(ACQUIRE_TIMEOUT):
            while True:
                link = await self._idle_receive.receive()
                if link.alive:
                    return link
        raise RendererError(errors.UNAVAILABLE, "no renderer became free in time")

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Run one request with the deadline; retry once if it never reached a renderer."""
        for _ in range(3):
            link = await self._acquire()
            try:
                with trio.move_on_after(self.timeout):
                    return await link.call(op, **fields)
                link.kill(f"{op} missed its {self.timeout:g}s deadline")
                raise RendererError(errors.TIMEOUT, f"{op} took longer than {self.timeout:g}s")
            except NotSent:
                continue
            finally:
                if link.alive:
                    self._idle_send.send_nowait(link)
        raise RendererError(errors.UNAVAILABLE, "renderers kept dying before the request")
