"""One live WebSocket connection: its joined islands, their states and event queues.

Invariant 3 lives here: each island has a FIFO of pending work drained by at
most one task at a time, so its events apply in order and one at a time,
while other islands and connections proceed independently. All frames leave
through one writer task fed by a bounded outbox, so patches never interleave.
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


@dataclass(slots=True)
class LiveIsland:
    """An island joined by one connection: the state the front keeps for it."""

    id: int
    name: str
    handlers: frozenset[str]
    state: Any
    html: str | None = None  # what this client last received; None: no baseline yet
    queue: deque[tuple[str, dict[str, str]] | None] = field(default_factory=deque)
    draining: bool = False


class LiveConnection:
    """Protocol logic for one socket; ``outbox`` is drained by the socket's writer task."""

    def __init__(self, hub: Hub, outbox: trio.MemorySendChannel[str], nursery: trio.Nursery) -> None:
        self.id = next(_connection_ids)
        self.hub = hub
        self.islands: dict[int, LiveIsland] = {}
        self._outbox = outbox
        self._nursery = nursery

    async def send(self, text: str) -> None:
        await self._outbox.send(text)

    async def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; protocol errors become ``bad_message`` replies."""
        try:
            message = wire.parse_client(frame)
        except ProtocolError as exc:
            await self.send(wire.encode_error(exc.code, str(exc)))
            return
        if isinstance(message, wire.Event):
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
                await self.send(wire.encode_error(
                    errors.TOO_MANY_ISLANDS,
                    f"at most {settings.islands_max} islands per connection",
                    island_id,
                ))
                continue
            try:
                claims = verify(settings.secret, token, settings.token_ttl)
            except TokenError as exc:
                log.warning("conn=%d island=%d bad token: %s", self.id, island_id, exc)
                await self.send(wire.encode_error(errors.BAD_TOKEN, str(exc), island_id))
                continue
            handlers = catalog.islands.get(claims.island)
            if handlers is None:
                await self.send(wire.encode_error(
                    errors.BAD_TOKEN, f"no island named {claims.island!r}", island_id
                ))
                continue
            self.islands[island_id] = LiveIsland(island_id, claims.island, handlers, claims.state)
            joined.append(island_id)
        await self.send(wire.encode_joined(joined, settings.heartbeat))
        if join.render:
            for island_id in joined:
                self._enqueue(self.islands[island_id], None)

    # -- events -------------------------------------------------------------

    async def _on_event(self, event: wire.Event) -> None:
        island = self.islands.get(event.id)
        if island is None:
            await self.send(wire.encode_error(
                errors.NOT_JOINED, f"island {event.id} is not joined on this connection", event.id
            ))
            return
        if event.handler not in island.handlers:
            await self.send(wire.encode_error(
                errors.UNKNOWN_HANDLER,
                f"island {island.name!r} has no handler {event.handler!r}",
                event.id,
            ))
            return
        self._enqueue(island, (event.handler, event.payload))

    def _enqueue(self, island: LiveIsland, work: tuple[str, dict[str, str]] | None) -> None:
        """Queue an event (or None: a render) and make sure one task drains the island."""
        island.queue.append(work)
        if not island.draining:
            island.draining = True
            self._nursery.start_soon(self._drain, island)

    async def _drain(self, island: LiveIsland) -> None:
        try:
            while island.queue:
                work = island.queue.popleft()
                await self._apply(island, work)
        finally:
            island.draining = False

    async def _apply(self, island: LiveIsland, work: tuple[str, dict[str, str]] | None) -> None:
        pool = self.hub.pool
        try:
            if work is None:
                body = await pool.call("render", island=island.name, state=island.state)
                state = island.state
            else:
                handler, payload = work
                body = await pool.call(
                    "event", island=island.name, handler=handler, state=island.state,
                    payload=payload,
                )
                state = body["state"]
                if len(cbor2.dumps(state)) > self.hub.settings.state_max:
                    raise RendererError(
                        errors.STATE_TOO_LARGE,
                        f"{island.name}.{handler} made a state over "
                        f"{self.hub.settings.state_max} bytes; the old state is kept",
                    )
            html = body["html"]
            if not isinstance(html, str):
                raise RendererError(errors.RENDER_FAILED, "renderer returned no HTML")
        except RendererError as exc:
            log.warning("conn=%d island=%d %s error: %s", self.id, island.id, island.name, exc)
            await self.send(wire.encode_error(exc.code, exc.message, island.id))
            return
        island.state = state
        await self.send(self._patch(island, html))

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
