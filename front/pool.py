"""A supervised pool of renderer processes, one request in flight per renderer.

Each slot has a supervisor task that spawns a renderer, says hello, offers it
to callers, and replaces it when it dies. Requests that find no free renderer
wait in one FIFO, whichever way they asked: ``start`` entries are written by
whichever task frees a renderer (no task switch), ``call`` entries are handed
the renderer and write themselves. Every request has a deadline; a renderer
that misses it is killed (its slot respawns it).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from nowaki.front.catalog import Catalog
from nowaki.front.config import Settings
from nowaki.front.renderer_link import NotSent, OnReply, RendererLink, fits_start
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


@dataclass(eq=False, slots=True)
class _Started:
    """A ``start`` request waiting for a free renderer."""

    op: str
    fields: dict[str, Any]
    on_reply: OnReply
    since: float


@dataclass(eq=False, slots=True)
class _Caller:
    """A ``call`` waiting to be handed a free renderer (None: the app failed to load)."""

    ready: trio.Event = field(default_factory=trio.Event)
    link: RendererLink | None = None
    gone: bool = False  # gave up waiting: skip it


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
        self._free: list[RendererLink] = []
        self._waiting: deque[_Started | _Caller] = deque()

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
    def idle(self) -> bool:
        """A renderer is free and nothing waits for one."""
        return not self._waiting and any(link.alive for link in self._free)

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
        """Kill renderers holding a started request past its deadline (``call`` has its own);
        fail started requests that waited ACQUIRE_TIMEOUT for a renderer."""
        while True:
            await trio.sleep(DEADLINE_CHECK)
            now = trio.current_time()
            for link in list(self._links):
                if link.expire(now, self.timeout):
                    link.kill(f"a request missed its {self.timeout:g}s deadline")
            waiting = self._waiting
            while waiting and isinstance(waiting[0], _Started) and now - waiting[0].since > ACQUIRE_TIMEOUT:
                late = waiting.popleft()
                assert isinstance(late, _Started)
                late.on_reply(RendererError(errors.UNAVAILABLE, "no renderer became free in time"))

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
                        self._release(link)
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
                self._fail_waiting()
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

    def _release(self, link: RendererLink) -> None:
        """A renderer is free: give it to the oldest waiting request, or keep it."""
        waiting = self._waiting
        while link.alive and waiting:
            entry = waiting.popleft()
            if isinstance(entry, _Caller):
                if not entry.gone:
                    entry.link = link
                    entry.ready.set()
                    return
            elif self._start_on(link, entry.op, entry.on_reply, entry.fields):
                return
            elif link.alive:  # a free renderer's empty pipe refused it: should not happen
                log.warning("renderer %s: a queued %s could not be written", link.name, entry.op)
                entry.on_reply(RendererError(errors.UNAVAILABLE, "the request could not be written"))
            else:
                waiting.appendleft(entry)
        if link.alive:
            self._free.append(link)

    def _take_free(self) -> RendererLink | None:
        while self._free:
            link = self._free.pop()
            if link.alive:
                return link
        return None

    def _fail_waiting(self) -> None:
        """The app does not load: every waiting request learns it now."""
        waiting, self._waiting = self._waiting, deque()
        for entry in waiting:
            if isinstance(entry, _Caller):
                entry.ready.set()  # with no link
            else:
                entry.on_reply(RendererError(errors.APP_FAILED, self.app_error or "the app does not load"))

    async def _acquire(self) -> RendererLink:
        if self.app_error is not None and not self.up:
            raise RendererError(errors.APP_FAILED, self.app_error)
        link = self._take_free()
        if link is not None:
            return link
        caller = _Caller()
        self._waiting.append(caller)
        try:
            with trio.move_on_after(ACQUIRE_TIMEOUT):
                await caller.ready.wait()
        except BaseException:
            caller.gone = True
            if caller.link is not None:  # handed one just as we were cancelled: pass it on
                self._release(caller.link)
            raise
        caller.gone = True
        if caller.link is not None:
            return caller.link
        if self.app_error is not None:
            raise RendererError(errors.APP_FAILED, self.app_error)
        raise RendererError(errors.UNAVAILABLE, "no renderer became free in time")

    def start(self, op: str, on_reply: OnReply, **fields: Any) -> bool:
        """Run a request without awaiting it; False if it has to go through ``call``.

        The request is written now if a renderer is free, else by whichever task
        frees one; the reply (or the error) goes to ``on_reply`` from the
        renderer's reader task, after the renderer is free again.
        """
        if self.app_error is not None and not self.up:
            return False
        link = self._take_free()
        if link is None:
            if not self._links or not all(link.fast for link in self._links) or not fits_start(op, fields):
                return False
            self._waiting.append(_Started(op, fields, on_reply, trio.current_time()))
            return True
        if self._start_on(link, op, on_reply, fields):
            return True
        self._release(link)
        return False

    def _start_on(self, link: RendererLink, op: str, on_reply: OnReply, fields: dict[str, Any]) -> bool:
        def finished(outcome: dict[str, Any] | RendererError) -> None:
            self._release(link)
            on_reply(outcome)

        return link.start(op, finished, trio.current_time() + self.timeout + KILL_GRACE, **fields)

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
                self._release(link)
        raise RendererError(errors.UNAVAILABLE, "renderers kept dying before the request")
