"""A supervised pool of renderer processes, one request in flight per renderer.

Each slot has a supervisor task that spawns a renderer, says hello, offers it
to callers, and replaces it when it dies. Callers get a deadline per request;
a renderer that misses it is killed (its slot respawns it).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import trio

from nowaki.front.catalog import Catalog
from nowaki.front.config import Settings
from nowaki.front.renderer_link import NotSent, OnReply, RendererLink
from nowaki.front.sources import ProcessSource, Source, renderer_command
from nowaki.protocol import VERSION, errors
from nowaki.protocol.renderer_wire import RendererError
from nowaki.renderer.sandbox import scrubbed_env

log = logging.getLogger("nowaki.front")

ACQUIRE_TIMEOUT = 30.0
"""How long a request waits for a free renderer before ``unavailable``."""

RESTART_BACKOFF_MAX = 5.0

KILL_GRACE = 1.0
"""Seconds past the deadline before the front kills a renderer that has not answered."""

DEADLINE_CHECK = 0.1
"""How often requests written with ``start`` are checked against their deadlines."""


class PoolStartError(RuntimeError):
    """The first renderer could not start (the app does not import, say)."""


class RendererPool:
    """One renderer per source (a slot each); ``call`` runs one request on one of them."""

    def __init__(self, sources: Sequence[Source], timeout: float) -> None:
        self.sources = list(sources)
        self.timeout = timeout
        self.catalog = Catalog()
        self.restarts = 0
        self.on_restart: Callable[[], None] = lambda: None
        self.keep_trying = False
        """Start even if no renderer can (dev mode), instead of failing start."""
        self.app_error: str | None = None
        """Why the app cannot load, as the renderers report it (dev mode shows it)."""
        self._wake = trio.Event()
        self._links: set[RendererLink] = set()
        self._idle_send, self._idle_receive = trio.open_memory_channel[RendererLink | None](
            math.inf
        )

    @classmethod
    def of_processes(cls, settings: Settings, size: int | None = None) -> RendererPool:
        """Child renderers for ``settings.app`` (``settings.renderers`` of them unless ``size``),
        in a scrubbed environment carrying only the renderer's own limits."""
        env = {
            **scrubbed_env(dict(os.environ)),
            "NOWAKI_RENDER_MEMORY": str(settings.renderer_memory),
            "NOWAKI_RENDER_TIMEOUT": str(settings.render_timeout),
            "NOWAKI_RENDER_CPU": str(settings.renderer_cpu),
        }
        source = ProcessSource(renderer_command(settings.app, settings.sandbox), env)
        return cls([source] * (size or settings.renderers), settings.render_timeout)

    @property
    def up(self) -> int:
        """Renderers that said hello and are alive right now."""
        return sum(link.alive and link.ready for link in self._links)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start and supervise every slot; ``started`` once all said hello."""
        async with trio.open_nursery() as nursery:
            for slot, source in enumerate(self.sources):
                await nursery.start(self._supervise, slot, source)
            nursery.start_soon(self._expire_late)
            task_status.started()

    async def _expire_late(self) -> None:
        """Kill renderers holding a started request past its deadline (``call`` has its own)."""
        while True:
            await trio.sleep(DEADLINE_CHECK)
            now = trio.current_time()
            for link in list(self._links):
                if link.expire(now, self.timeout):
                    link.kill(f"a request missed its {self.timeout:g}s deadline")

    async def _supervise(
        self, slot: int, source: Source, *, task_status: trio.TaskStatus[None]
    ) -> None:
        backoff = 0.05
        started = False
        while True:
            began = trio.current_time()
            try:
                await self._run_one(slot, source, task_status if not started else None)
                started = True
            except (PoolStartError, OSError) as exc:
                if not started and not self.keep_trying:
                    raise PoolStartError(f"renderer slot {slot}: {exc}") from exc
                log.warning("renderer slot %d: %s", slot, exc)
                if not started:
                    started = True  # dev mode: serve the error page until the app loads
                    task_status.started()
            if trio.current_time() - began > 10:
                backoff = 0.05
            self.restarts += 1
            self.on_restart()
            log.warning("event=renderer_restart slot=%d delay=%.2f", slot, backoff)
            wake = self._wake
            with trio.move_on_after(backoff):
                await wake.wait()
            backoff = 0.05 if wake.is_set() else min(backoff * 2, RESTART_BACKOFF_MAX)

    async def _run_one(
        self, slot: int, source: Source, task_status: trio.TaskStatus[None] | None
    ) -> None:
        async with source.open(slot) as peer:
            link = RendererLink(peer.send, peer.receive, peer.name, kill=peer.kill, pipe_fds=peer.pipe_fds)
            self._links.add(link)
            failure: PoolStartError | None = None
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(link.run)
                    try:
                        await self._hello(link, source)
                    except PoolStartError as exc:
                        failure = exc  # raised below, outside the nursery's exception group
                    else:
                        link.ready = True
                        self._idle_send.send_nowait(link)
                        log.info("renderer %s up", peer.name)
                        if task_status is not None:
                            task_status.started()
                        await link.dead.wait()
                    nursery.cancel_scope.cancel()
            finally:
                self._links.discard(link)
                link.kill("pool stopping")
            if failure is not None:
                raise failure

    async def _hello(self, link: RendererLink, source: Source) -> None:
        fields: dict[str, Any] = {"version": VERSION}
        if source.key is not None:
            fields["key"] = source.key
        try:
            with trio.fail_after(max(self.timeout, 30.0)):
                hello = await link.call("hello", **fields)
        except (RendererError, NotSent, trio.TooSlowError) as exc:
            if isinstance(exc, RendererError) and exc.code == errors.APP_FAILED:
                self.app_error = exc.message
                self._idle_send.send_nowait(None)  # wakes a waiting caller to report it
            link.kill(f"no hello: {exc}")
            raise PoolStartError(f"renderer {link.name} did not start: {exc}") from exc
        if hello.get("version") != VERSION:
            link.kill("wrong protocol version")
            raise PoolStartError(
                f"renderer {link.name} speaks version {hello.get('version')}, not {VERSION}"
            )
        self.catalog = Catalog(hello)
        self.app_error = None

    def restart_all(self) -> None:
        """Replace every renderer now, skipping any restart backoff (dev: code changed)."""
        self.app_error = None  # the new code's hello will tell
        for link in list(self._links):
            link.kill("restart requested")
        self._wake.set()
        self._wake = trio.Event()

    async def _acquire(self) -> RendererLink:
        if self.app_error is not None and not self.up:
            raise RendererError(errors.APP_FAILED, self.app_error)
        try:  # the common case: a renderer is free, no timeout scope needed
            link = self._idle_receive.receive_nowait()
        except trio.WouldBlock:
            pass
        else:
            if link is not None and link.alive:
                return link
            if link is None:
                self._idle_send.send_nowait(None)  # not ours to consume: the waiters' signal
        with trio.move_on_after(ACQUIRE_TIMEOUT):
            while True:
                link = await self._idle_receive.receive()
                if link is None:  # the app stopped loading: fail now, and wake the next caller
                    if self.app_error is not None:
                        self._idle_send.send_nowait(None)
                        raise RendererError(errors.APP_FAILED, self.app_error)
                elif link.alive:
                    return link
        raise RendererError(errors.UNAVAILABLE, "no renderer became free in time")

    def start(self, op: str, on_reply: OnReply, **fields: Any) -> bool:
        """Write a request to a free renderer now, without waiting; False if none takes it at once.

        The reply (or the error) goes to ``on_reply`` from the renderer's reader
        task; the renderer is free again before it runs.
        """
        try:
            link = self._idle_receive.receive_nowait()
        except trio.WouldBlock:
            return False
        if link is None:
            self._idle_send.send_nowait(None)  # the waiters' signal, not ours
            return False
        if not link.alive:
            return False  # as in _acquire: a dead renderer leaves the idle queue

        def finished(outcome: dict[str, Any] | RendererError) -> None:
            if link.alive:
                self._idle_send.send_nowait(link)
            on_reply(outcome)

        if link.start(op, finished, trio.current_time() + self.timeout + KILL_GRACE, **fields):
            return True
        if link.alive:
            self._idle_send.send_nowait(link)
        return False

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Run one request with the deadline; retry once if it never reached a renderer."""
        for _ in range(3):
            link = await self._acquire()
            try:
                # Renderers cut themselves off at `timeout`; this backstop kills
                # one stuck where its own deadline cannot reach (native code).
                with trio.move_on_after(self.timeout + KILL_GRACE):
                    return await link.call(op, **fields)
                link.kill(f"{op} missed its {self.timeout:g}s deadline")
                raise RendererError(errors.TIMEOUT, f"{op} took longer than {self.timeout:g}s")
            except NotSent:
                continue
            finally:
                if link.alive:
                    self._idle_send.send_nowait(link)
        raise RendererError(errors.UNAVAILABLE, "renderers kept dying before the request")
