"""Front-wide state: settings, renderer pool, metrics, live connections, presence,
shared islands, topic subscriptions and states kept for reconnecting clients.

Presence is coalesced: changes mark the hub dirty and one broadcaster task
sends the count at most once per ``presence_interval``, only to connections
whose last-seen count differs, so a burst of N joins costs O(N) messages.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cbor2
import trio

from nowaki.front.catalog import IslandInfo
from nowaki.front.config import Settings
from nowaki.front.islands import Instance, Work, enqueue, fanout, run_timers
from nowaki.front.metrics import Metrics
from nowaki.front.pool import RendererPool
from nowaki.protocol import browser_wire as wire

if TYPE_CHECKING:
    from nowaki.front.live import LiveConnection

log = logging.getLogger("nowaki.front")

SHARED_MAX = 10_000

PRESENCE_BUDGET = 2_000
"""Presence messages per second a front spends at most, whatever the crowd."""
"""Shared island instances (name and props) one front holds."""


@dataclass(slots=True)
class Kept:
    """A dropped connection's private island states, waiting for it to come back."""

    expires: float
    states: dict[int, tuple[str, Any, dict[str, Any]]]
    size: int


@dataclass(slots=True)
class Hub:
    """Shared by every request the front serves."""

    settings: Settings
    pool: RendererPool
    metrics: Metrics = field(default_factory=Metrics)
    admitted: dict[int, LiveConnection] = field(default_factory=dict)
    """Accepted sockets under the cap, joined or not."""
    joined: dict[int, LiveConnection] = field(default_factory=dict)
    """Connections whose join succeeded: what presence counts."""
    per_address: dict[str, int] = field(default_factory=dict)
    """Admitted sockets per client address (``NOWAKI_LIVE_PER_IP``)."""
    shared: dict[tuple[str, bytes], Instance] = field(default_factory=dict)
    topics: dict[str, set[Instance]] = field(default_factory=dict)
    sessions: dict[str, LiveConnection] = field(default_factory=dict)
    """Open connections by session, so a client back before its old socket died takes it over."""
    kept: OrderedDict[str, Kept] = field(default_factory=OrderedDict)
    kept_bytes: int = 0
    nursery: trio.Nursery | None = None
    """Where island work, timers and shared fan-out run; set by the server before it accepts sockets."""
    _dirty: trio.Event = field(default_factory=trio.Event)

    # -- connections and presence ------------------------------------------

    def admit(self, connection: LiveConnection) -> str | None:
        """Take a new socket, or say why not: over ``NOWAKI_LIVE_MAX`` or the per-address cap."""
        cap = self.settings.live_max
        if cap is not None and len(self.admitted) >= cap:
            refusal = "cap"
        elif self.per_address.get(connection.address, 0) >= self.settings.per_ip_max:
            refusal = "per_ip"
        else:
            self.admitted[connection.id] = connection
            self.per_address[connection.address] = self.per_address.get(connection.address, 0) + 1
            return None
        self.metrics.refused.labels(refusal).inc()
        return refusal

    def mark_joined(self, connection: LiveConnection) -> None:
        """Count a connection in presence from its first successful join."""
        if connection.id not in self.joined:
            self.joined[connection.id] = connection
            self.metrics.live.set(len(self.joined))
            self._dirty.set()

    def release(self, connection: LiveConnection) -> None:
        """Forget a closed connection at once: its slot and its presence."""
        if self.admitted.pop(connection.id, None) is not None:
            left = self.per_address[connection.address] - 1
            if left:
                self.per_address[connection.address] = left
            else:
                del self.per_address[connection.address]
        if self.joined.pop(connection.id, None) is not None:
            self.metrics.live.set(len(self.joined))
            self._dirty.set()

    async def broadcast_presence(self) -> None:
        """Run for the front's lifetime: send coalesced presence updates.

        Rounds come at most every ``presence_interval``, and further apart as
        the crowd grows (PRESENCE_BUDGET messages per second), so clients
        joining steadily cannot make presence cost N² messages.
        """
        while True:
            await self._dirty.wait()
            self._dirty = trio.Event()
            count = len(self.joined)
            message = wire.encode_presence(count)  # once per round, not per client
            behind = False
            for connection in list(self.joined.values()):
                if connection.presence_seen == count:
                    continue
                if connection.offer(message):
                    connection.presence_seen = count
                else:
                    behind = True  # outbox full: that client gets the count next round
            if behind:
                self._dirty.set()
            await trio.sleep(max(self.settings.presence_interval, count / PRESENCE_BUDGET))

    def reload_all(self) -> None:
        """Tell every live browser to reload the page (dev mode: the code changed)."""
        for connection in list(self.admitted.values()):
            connection.offer(wire.encode_reload())

    def going_away(self, code: int, reason: str) -> None:
        """Shutdown: hand every client a signed snapshot of its states, then close it."""
        for connection in list(self.admitted.values()):
            if connection.views:
                connection.offer(wire.encode_snapshot(connection.snapshot()))
            connection.close(code, reason)

    # -- shared islands and topics -----------------------------------------

    def shared_instance(
        self, name: str, info: IslandInfo, props: dict[str, Any], state: Any
    ) -> Instance | None:
        """The one instance of a shared island for these props; created with ``state`` if new."""
        key = (name, cbor2.dumps(props, canonical=True))
        instance = self.shared.get(key)
        if instance is None:
            if len(self.shared) >= SHARED_MAX or self.nursery is None:
                return None
            instance = Instance(name, info, state, props, fanout_due=trio.Event())
            self.shared[key] = instance
            self.subscribe(instance)
            self.nursery.start_soon(fanout, self, instance)
        return instance

    def start_timers(self, instance: Instance) -> None:
        """Run an instance's ``every`` handlers until ``stop_timers``."""
        if instance.info.every and instance.timers is None and self.nursery is not None:
            instance.timers = trio.CancelScope()
            instance.ticks_queued = set()
            self.nursery.start_soon(run_timers, self, instance, instance.timers)

    @staticmethod
    def stop_timers(instance: Instance) -> None:
        if instance.timers is not None:
            instance.timers.cancel()
            instance.timers = None

    def subscribe(self, instance: Instance) -> None:
        for topic in instance.info.subscribe:
            self.topics.setdefault(topic, set()).add(instance)

    def unsubscribe(self, instance: Instance) -> None:
        for topic in instance.info.subscribe:
            subscribers = self.topics.get(topic)
            if subscribers is not None:
                subscribers.discard(instance)
                if not subscribers:
                    del self.topics[topic]

    def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Apply each subscribed instance's handler for ``topic`` to ``payload``; count them."""
        subscribers = list(self.topics.get(topic, ()))
        now = trio.current_time()
        for instance in subscribers:
            enqueue(self, instance, Work(instance.info.subscribe[topic], payload, now))
        log.info("event=publish topic=%s instances=%d", topic, len(subscribers))
        return len(subscribers)

    # -- states kept for reconnects ------------------------------------------

    def keep(self, session: str, states: dict[int, tuple[str, Any, dict[str, Any]]]) -> None:
        """Keep a dropped connection's states under its session for ``NOWAKI_LIVE_RESUME`` s.

        Bounded in count and bytes: the oldest kept entries make room.
        """
        settings = self.settings
        if not states or settings.resume_seconds <= 0:
            return
        size = len(cbor2.dumps(states))
        if size > settings.resume_bytes:
            return
        while self.kept and (
            len(self.kept) >= settings.resume_max or self.kept_bytes + size > settings.resume_bytes
        ):
            _, oldest = self.kept.popitem(last=False)
            self.kept_bytes -= oldest.size
        self.kept[session] = Kept(trio.current_time() + settings.resume_seconds, states, size)
        self.kept_bytes += size

    def take_kept(self, session: str) -> dict[int, tuple[str, Any, dict[str, Any]]]:
        """The states kept under ``session``, once, if not expired; else nothing."""
        now = trio.current_time()
        while self.kept:  # drop expired entries, oldest first
            oldest = next(iter(self.kept.values()))
            if oldest.expires > now:
                break
            self.kept.popitem(last=False)
            self.kept_bytes -= oldest.size
        entry = self.kept.pop(session, None)
        if entry is None:
            return {}
        self.kept_bytes -= entry.size
        return entry.states
