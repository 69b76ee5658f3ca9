"""One live WebSocket connection: wire B messages in, its views of islands, frames out.

Joining verifies tokens (and, after a drop or a restart, restores kept or
snapshotted states); events go to the island engine (``front/islands.py``).
Frames leave through the connection's ``Transport`` (``front/live_socket.py``,
or ``front/websocket.py`` under hypercorn), which keeps them in order; sending
never waits, and the transport stops reading from a client that is not
reading its replies.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from typing import TYPE_CHECKING, Any, Protocol

import trio

from nowaki.front.islands import Instance, View, Work, enqueue
from nowaki.protocol import browser_wire as wire
from nowaki.protocol import errors
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.token import TokenError, sign_snapshot, verify, verify_snapshot

if TYPE_CHECKING:
    from nowaki.front.hub import Hub

log = logging.getLogger("nowaki.front")

_connection_ids = itertools.count(1)

HIGH_WATER = 256 * 1024
"""Bytes waiting for a client beyond which it gets no presence or push frames and
its socket is not read (so it cannot ask for more) until half of it has left."""

SLOW_CLIENT_GRACE = 5.0
"""Seconds a client may stay over HIGH_WATER before it is dropped."""

ISLAND_QUEUE_MAX = 128
"""Events of one island waiting for a renderer before more are refused."""

CLOSE_GOING_AWAY = 1001
CLOSE_ORIGIN = 4403
CLOSE_IDLE = 4408
CLOSE_OVER_CAP = 4429

_REFUSALS = {
    "cap": "over capacity",
    "per_ip": "too many connections from this address",
}


class Transport(Protocol):
    """How a connection's frames reach its socket, in order, without waiting."""

    backlog: int
    """Bytes accepted by ``send_text`` and not yet taken by the kernel."""

    def send_text(self, text: str) -> None: ...

    def close(self, code: int, reason: str) -> None:
        """Close after what was sent; the socket's reader stops."""

    def abort(self) -> None:
        """Drop the socket now."""


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


class LiveConnection:
    """Protocol logic for one socket; frames go out through ``transport``."""

    def __init__(self, hub: Hub, transport: Transport, address: str = "") -> None:
        self.id = next(_connection_ids)
        self.hub = hub
        self.address = address
        self.transport = transport
        self.views: dict[int, View] = {}
        self.session: str | None = None  # given in the first `joined`; names kept states
        self.leaving = False  # the page said it is going away: keep nothing
        self.presence_seen = -1  # last presence count queued for this client
        settings = hub.settings
        self._bucket = TokenBucket(settings.event_rate, settings.event_burst)

    # -- the socket's life ----------------------------------------------------

    def refuse_origin(self, origin: str | None) -> None:
        log.warning("event=refuse conn=%d reason=origin origin=%r", self.id, origin)
        self.hub.metrics.refused.labels("origin").inc()
        self.transport.close(CLOSE_ORIGIN, "origin not allowed")

    def admit(self) -> bool:
        """Take a slot under the caps, or close with 4429 saying why not."""
        refusal = self.hub.admit(self)
        if refusal is not None:
            log.warning("event=refuse conn=%d reason=%s address=%s", self.id, refusal, self.address)
            self.transport.close(CLOSE_OVER_CAP, _REFUSALS[refusal])
            return False
        log.info("event=connect conn=%d address=%s", self.id, self.address)
        return True

    def slow_client(self) -> None:
        log.warning("event=slow_client conn=%d backlog=%d", self.id, self.transport.backlog)
        self.hub.metrics.refused.labels("slow_client").inc()

    def send(self, text: str) -> None:
        """Send a frame after every frame sent before it."""
        self.transport.send_text(text)

    def offer(self, text: str) -> bool:
        """Send a frame the client can do without (presence, pushes) unless it is behind."""
        if self.transport.backlog > HIGH_WATER:
            return False
        self.transport.send_text(text)
        return True

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued."""
        self.transport.close(code, reason)

    def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; protocol errors become ``bad_message`` replies."""
        try:
            message = wire.parse_client(frame)
        except ProtocolError as exc:
            log.info("event=bad_message conn=%d error=%r", self.id, str(exc))
            self.send(wire.encode_error(exc.code, str(exc), exc.island_id))
            return
        if isinstance(message, wire.Leave):
            self.leaving = True
            return
        if isinstance(message, wire.Event):
            if not self._bucket.take(trio.current_time()):
                self._error(
                    message.id, errors.RATE_LIMITED,
                    f"over {self.hub.settings.event_rate:g} events per second; event dropped",
                )
                return
            self._on_event(message)
        elif isinstance(message, wire.Join):
            self._on_join(message)
        else:
            self.send(wire.encode_pong())

    # -- join -------------------------------------------------------------

    def _on_join(self, join: wire.Join) -> None:
        settings = self.hub.settings
        restored = self._restorable(join)
        joined: list[int] = []
        for island_id, token in join.islands:
            view = self._join_one(island_id, token, restored)
            if view is not None:
                joined.append(island_id)
        first = self.session is None
        if first:
            self.session = secrets.token_urlsafe(16)
            self.hub.sessions[self.session] = self
        self.send(wire.encode_joined(joined, settings.heartbeat, self.session if first else None))
        self.hub.mark_joined(self)
        count = len(self.hub.joined)
        if self.presence_seen != count:
            self.presence_seen = count  # first, so the broadcaster does not send it too
            self.send(wire.encode_presence(count))
        for island_id in joined:
            self._catch_up(self.views[island_id], join.render or island_id in restored)

    def _restorable(self, join: wire.Join) -> dict[int, tuple[str, Any, dict[str, Any]]]:
        """States this join may resume: kept after a drop here, or a signed snapshot."""
        if join.resume is not None:
            previous = self.hub.sessions.get(join.resume)
            if previous is self:
                previous = None  # a second join on the same socket: nothing to take over
            # The old socket may be half-open (the client noticed the drop first).
            kept = previous.take_over() if previous is not None else self.hub.take_kept(join.resume)
            if kept:
                log.info("event=resume conn=%d islands=%d", self.id, len(kept))
                return kept
        if join.snapshot is not None:
            settings = self.hub.settings
            try:
                return verify_snapshot(settings.secret, join.snapshot, settings.resume_seconds)
            except TokenError as exc:
                log.warning("event=bad_snapshot conn=%d error=%r", self.id, str(exc))
                self.offer(wire.encode_error(errors.BAD_SNAPSHOT, f"snapshot refused: {exc}"))
        return {}

    def _join_one(
        self,
        island_id: int,
        token: str,
        restored: dict[int, tuple[str, Any, dict[str, Any]]],
    ) -> View | None:
        settings = self.hub.settings
        if island_id not in self.views and len(self.views) >= settings.islands_max:
            self._error(
                island_id, errors.TOO_MANY_ISLANDS, f"at most {settings.islands_max} islands per connection"
            )
            return None
        try:
            claims = verify(settings.secret, token, settings.token_ttl)
        except TokenError as exc:
            log.warning("event=bad_token conn=%d island=%d error=%r", self.id, island_id, str(exc))
            self._error(island_id, errors.BAD_TOKEN, str(exc))
            return None
        info = self.hub.pool.catalog.islands.get(claims.island)
        if info is None:
            self._error(island_id, errors.BAD_TOKEN, f"no island named {claims.island!r}")
            return None
        state = claims.state
        saved = restored.get(island_id)
        if saved is not None and saved[0] == claims.island:
            state = saved[1]
        self._leave(island_id)
        if info.shared:
            instance = self.hub.shared_instance(claims.island, info, claims.props, state)
            if instance is None:
                self._error(island_id, errors.TOO_MANY_ISLANDS, "too many shared islands")
                return None
        else:
            instance = Instance(claims.island, info, state, claims.props)
            self.hub.subscribe(instance)
        view = View(island_id, self, instance)
        instance.views.add(view)
        self.views[island_id] = view
        self.hub.start_timers(instance)
        return view

    def _catch_up(self, view: View, render: bool) -> None:
        """Bring a new view up to date: the shared island's current HTML, or a render."""
        instance = view.instance
        if instance.info.shared and instance.html is not None:
            self.send(view.patch(instance.html, push=True))
        elif render or (instance.info.shared and len(instance.views) > 1):
            enqueue(self.hub, instance, Work(None, {}, trio.current_time(), origin=view))

    def _leave(self, island_id: int) -> None:
        """Drop this connection's view of an island (re-join, or close)."""
        view = self.views.pop(island_id, None)
        if view is None:
            return
        instance = view.instance
        instance.views.discard(view)
        if not instance.views:
            self.hub.stop_timers(instance)
            if not instance.info.shared:
                self.hub.unsubscribe(instance)

    def private_states(self) -> dict[int, tuple[str, Any, dict[str, Any]]]:
        """The states only this connection holds (shared ones live on in the hub)."""
        return {
            view.id: (view.instance.name, view.instance.state, view.instance.props)
            for view in self.views.values()
            if not view.instance.info.shared
        }

    def closed(self, reason: str) -> None:
        """The socket is gone: release every view; keep private states if it may come back."""
        self.hub.release(self)
        log.info("event=disconnect conn=%d reason=%r", self.id, reason)
        if self.session is not None:
            if self.hub.sessions.get(self.session) is self:
                del self.hub.sessions[self.session]
            if not self.leaving:
                self.hub.keep(self.session, self.private_states())
        for island_id in list(self.views):
            self._leave(island_id)

    def take_over(self) -> dict[int, tuple[str, Any, dict[str, Any]]]:
        """Hand this (half-open) connection's states to its reconnected client and drop it."""
        states = self.private_states()
        self.leaving = True  # nothing left to keep
        log.info("event=superseded conn=%d", self.id)
        self.transport.abort()
        return states

    def snapshot(self) -> str:
        """A signed snapshot of every island state on this connection (shutdown)."""
        states = {
            view.id: [view.instance.name, view.instance.state, view.instance.props]
            for view in self.views.values()
        }
        return sign_snapshot(self.hub.settings.secret, states)

    # -- events -------------------------------------------------------------

    def _on_event(self, event: wire.Event) -> None:
        view = self.views.get(event.id)
        if view is None:
            self._error(
                event.id, errors.NOT_JOINED, f"island {event.id} is not joined on this connection"
            )
            return
        instance = view.instance
        if event.handler not in instance.info.handlers:
            self._error(
                event.id, errors.UNKNOWN_HANDLER,
                f"island {instance.name!r} has no handler {event.handler!r}",
            )
            return
        if len(instance.queue or ()) >= ISLAND_QUEUE_MAX:
            self._error(
                event.id, errors.RATE_LIMITED,
                f"{ISLAND_QUEUE_MAX} events of this island are already waiting; event dropped",
            )
            return
        enqueue(self.hub, instance, Work(event.handler, event.payload, trio.current_time(), origin=view))

    def _error(self, island_id: int, code: str, message: str) -> None:
        self.hub.metrics.events.add(code)
        self.send(wire.encode_error(code, message, island_id))
