"""Front-wide state: settings, renderer pool, metrics, the live connection table, presence.

Presence is coalesced: changes mark the hub dirty and one broadcaster task
sends the count at most once per ``presence_interval``, only to connections
whose last-seen count differs, so a burst of N joins costs O(N) messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from nowaki.front.config import Settings
from nowaki.front.metrics import Metrics
from nowaki.front.pool import RendererPool
from nowaki.protocol import browser_wire as wire

if TYPE_CHECKING:
    from nowaki.front.live import LiveConnection

log = logging.getLogger("nowaki.front")


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
    presence_broadcasts: int = 0
    _dirty: trio.Event = field(default_factory=trio.Event)

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
        """Run for the front's lifetime: send coalesced presence updates."""
        interval = self.settings.presence_interval
        while True:
            await self._dirty.wait()
            self._dirty = trio.Event()
            count = len(self.joined)
            behind = False
            for connection in list(self.joined.values()):
                if connection.presence_seen == count:
                    continue
                if connection.offer(wire.encode_presence(count)):
                    connection.presence_seen = count
                else:
                    behind = True  # outbox full: that client gets the count next round
            self.presence_broadcasts += 1
            if behind:
                self._dirty.set()
            await trio.sleep(interval)

    def reload_all(self) -> None:
        """Tell every live browser to reload the page (dev mode: the code changed)."""
        for connection in list(self.admitted.values()):
            connection.offer(wire.encode_reload())

    def close_all(self, code: int, reason: str) -> None:
        """Ask every live socket to close (shutdown: 1001, going away)."""
        for connection in list(self.admitted.values()):
            connection.close(code, reason)
