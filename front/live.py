"""One live WebSocket connection: its joined islands, their states and event queues.

Invariant 3 lives here: each island has a FIFO of pending work drained by at
most one task at a time, so its events apply in order and one at a time,
while other islands and connections proceed independently. All frames leave
through one writer task fed by a bounded outbox, so patches, presence and
closes never interleave.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cbor2
import trio

from nowaki.protocol import browser_wire as wire
from nowaki.protocol import errors
from nowaki.protocol.diff import diff
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.renderer_wire import RendererError
from nowaki.protocol.token import TokenError, verify

if TYPE_CHECKING:
    from nowaki.front.hub import Hub

log = logging.getLogger("nowaki.front")

_connection_ids = itertools.count(1)

OUTBOX_FRAMES = 64
"""Frames queued for one client: the bounded send buffer."""

SLOW_CLIENT_GRACE = 5.0
"""Seconds a full outbox may stay full before its client is dropped."""

ISLAND_QUEUE_MAX = 128
"""Events of one island waiting for a renderer before more are refused."""


class TokenBucket:
    """``rate`` events per second on average, ``burst`` at once."""

    __slots__ = ("_last", "_rate", "_size", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._size = float(burst)
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self._last is not None:
            self._tokens = min(self._size, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclass(frozen=True, slots=True)
class Close:
    """Outbox item: close the socket with ``code`` after what is queued."""

    code: int
    reason: str


Outgoing = str | Close


@dataclass(frozen=True, slots=True)
class Work:
    """One queued job for an island: an event (``handler`` set) or a render (None)."""

    handler: str | None
    payload: dict[str, str]
    received: float


@dataclass(slots=True)
class LiveIsland:
    """An island joined by one connection: the state the front keeps for it."""

    id: int
    name: str
    handlers: frozenset[str]
    state: Any
    html: str | None = None  # what this client last received; None: no baseline yet
    queue: deque[Work] = field(default_factory=deque)
    draining: bool = False


class LiveConnection:
    """Protocol logic for one socket; the socket's writer task drains ``outbox``."""

    def __init__(
        self,
        hub: Hub,
        outbox: trio.MemorySendChannel[Outgoing],
        nursery: trio.Nursery,
        address: str = "",
    ) -> None:
        self.id = next(_connection_ids)
        self.hub = hub
        self.address = address
        self.islands: dict[int, LiveIsland] = {}
        self.presence_seen = -1  # last presence count queued for this client
        self._outbox = outbox
        self._nursery = nursery
        settings = hub.settings
        self._bucket = TokenBucket(settings.event_rate, settings.event_burst)

    async def send(self, text: str) -> None:
        """Queue a frame; a client that stops reading for SLOW_CLIENT_GRACE is dropped."""
        try:
            self._outbox.send_nowait(text)
            return
        except trio.WouldBlock:
            pass
        with trio.move_on_after(SLOW_CLIENT_GRACE):
            await self._outbox.send(text)
            return
        log.warning("event=slow_client conn=%d queued=%d", self.id, OUTBOX_FRAMES)
        self.hub.metrics.refused.labels("slow_client").inc()
        self._nursery.cancel_scope.cancel()

    def offer(self, text: str) -> bool:
        """Queue a frame unless the outbox is full or closed; True if queued."""
        try:
            self._outbox.send_nowait(text)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued; if the client is not reading, close at once."""
        try:
            self._outbox.send_nowait(Close(code, reason))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self._nursery.cancel_scope.cancel()

    async def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; protocol errors become ``bad_message`` replies."""
        try:
            message = wire.parse_client(frame)
        except ProtocolError as exc:
            log.info("event=bad_message conn=%d error=%r", self.id, str(exc))
            await self.send(wire.encode_error(exc.code, str(exc)))
            return
        if isinstance(message, wire.Event):
            if not self._bucket.take(trio.current_time()):
                await self._error(
                    message.id, errors.RATE_LIMITED,
                    f"over {self.hub.settings.event_rate:g} events per second; event dropped",
                )
                return
            await self._on_event(message)
        elif isinstance(message, wire.Join):
            await self._on_join(message)
        else:
            await self.send(wire.encode_pong())

    # -- join -------------------------------------------------------------

    async def _on_join(self, join: wire.Join) -> None:
        settings = self.hub.settings
        catalog = self.hub.pool.catalog
        joined: list[int] = []
        for island_id, token in join.islands:
            if island_id not in self.islands and len(self.islands) >= settings.islands_max:
                await self._error(
                    island_id, errors.TOO_MANY_ISLANDS,
                    f"at most {settings.islands_max} islands per connection",
                )
                continue
            try:
                claims = verify(settings.secret, token, settings.token_ttl)
            except TokenError as exc:
                log.warning("event=bad_token conn=%d island=%d error=%r", self.id, island_id, str(exc))
                await self._error(island_id, errors.BAD_TOKEN, str(exc))
                continue
            handlers = catalog.islands.get(claims.island)
            if handlers is None:
                await self._error(island_id, errors.BAD_TOKEN, f"no island named {claims.island!r}")
                continue
            self.islands[island_id] = LiveIsland(island_id, claims.island, handlers, claims.state)
            joined.append(island_id)
        await self.send(wire.encode_joined(joined, settings.heartbeat))
        self.hub.mark_joined(self)
        count = len(self.hub.joined)
        if self.presence_seen != count:
            self.presence_seen = count  # first, so the broadcaster does not send it too
            await self.send(wire.encode_presence(count))
        if join.render:
            now = trio.current_time()
            for island_id in joined:
                self._enqueue(self.islands[island_id], Work(None, {}, now))

    # -- events -------------------------------------------------------------

    async def _on_event(self, event: wire.Event) -> None:
        island = self.islands.get(event.id)
        if island is None:
            await self._error(
                event.id, errors.NOT_JOINED, f"island {event.id} is not joined on this connection"
            )
            return
        if event.handler not in island.handlers:
            await self._error(
                event.id, errors.UNKNOWN_HANDLER,
                f"island {island.name!r} has no handler {event.handler!r}",
            )
            return
        if len(island.queue) >= ISLAND_QUEUE_MAX:
            await self._error(
                event.id, errors.RATE_LIMITED,
                f"{ISLAND_QUEUE_MAX} events of this island are already waiting; event dropped",
            )
            return
        self._enqueue(island, Work(event.handler, event.payload, trio.current_time()))

    async def _error(self, island_id: int, code: str, message: str) -> None:
        self.hub.metrics.events.labels(code).inc()
        await self.send(wire.encode_error(code, message, island_id))

    def _enqueue(self, island: LiveIsland, work: Work) -> None:
        """Queue work and make sure exactly one task drains this island."""
        island.queue.append(work)
        if not island.draining:
            island.draining = True
            self._nursery.start_soon(self._drain, island)

    async def _drain(self, island: LiveIsland) -> None:
        try:
            while island.queue:
                await self._apply(island, island.queue.popleft())
        finally:
            island.draining = False

    async def _apply(self, island: LiveIsland, work: Work) -> None:
        try:
            state, html = await self._run(island, work)
        except RendererError as exc:
            log.warning(
                "event=handler_error conn=%d island=%d/%s handler=%s code=%s error=%r",
                self.id, island.id, island.name, work.handler, exc.code, exc.message,
            )
            await self._error(island.id, exc.code, exc.message)
            return
        island.state = state
        patch = self._patch(island, html)
        metrics = self.hub.metrics
        metrics.events.labels("ok").inc()
        metrics.patch_bytes.observe(len(patch))
        metrics.latency.observe(trio.current_time() - work.received)
        await self.send(patch)

    async def _run(self, island: LiveIsland, work: Work) -> tuple[Any, str]:
        """Ask a renderer for the island's next state and HTML; check what comes back."""
        pool = self.hub.pool
        if work.handler is None:
            body = await pool.call("render", island=island.name, state=island.state)
            state = island.state
        else:
            body = await pool.call(
                "event", island=island.name, handler=work.handler, state=island.state,
                payload=work.payload,
            )
            state = body.get("state")
            limit = self.hub.settings.state_max
            if len(cbor2.dumps(state)) > limit:
                raise RendererError(
                    errors.STATE_TOO_LARGE,
                    f"{island.name}.{work.handler} made a state over {limit} bytes; "
                    "the old state is kept",
                )
        html = body.get("html")
        if not isinstance(html, str):
            raise RendererError(errors.RENDER_FAILED, "the renderer returned no HTML")
        return state, html

    @staticmethod
    def _patch(island: LiveIsland, html: str) -> str:
        """The smallest message that brings the client's copy of the island to ``html``."""
        previous, island.html = island.html, html
        if previous is None:
            return wire.encode_patch(island.id, html)
        change = diff(previous, html)
        if change is None:
            return wire.encode_patch(island.id)
        start, deleted, inserted = change
        return wire.encode_patch(island.id, inserted, (start, deleted))
