"""Client-side load patterns, the same for the floors and for nowaki.

- ``round_trips``: one connection, one request at a time, each timed.
- ``throughput``: many connections, each closed-loop (one request in flight).
- ``Crowd``: thousands of held connections, each with a reader that counts
  what it receives, and one task pinging them round-robin (heartbeats).

Every loop is bounded both in count and in time.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from tests.support.rawws import Closed, WebSocket

IsReply = Callable[[bytes], bool]


def is_patch(payload: bytes) -> bool:
    """nowaki's reply to an event (the floors answer with the same text)."""
    return payload.startswith(b'{"type":"patch"') or payload.startswith(b'{"type":"error"')


async def next_reply(ws: WebSocket, is_reply: IsReply = is_patch) -> dict[str, Any]:
    """Read until the reply (other messages, e.g. presence, are skipped); decode it."""
    while True:
        payload = await ws.recv_bytes()
        if is_reply(payload):
            message: dict[str, Any] = json.loads(payload)
            if message.get("type") == "error":
                raise RuntimeError(f"error reply: {message}")
            return message


async def round_trips(
    ws: WebSocket, request: str | tuple[str, ...], count: int, time_limit: float
) -> list[float]:
    """Send ``request`` (or each of several in turn) and await its reply ``count`` times in a row;
    seconds per round trip."""
    requests = (request,) if isinstance(request, str) else request
    times: list[float] = []
    clock = time.perf_counter
    with trio.move_on_after(time_limit):
        for i in range(count):
            start = clock()
            await ws.send_text(requests[i % len(requests)])
            await next_reply(ws)
            times.append(clock() - start)
    return times


@dataclass
class Throughput:
    """Replies completed inside the measured window."""

    completed: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def throughput(sockets: list[WebSocket], request: str, seconds: float, warmup: float) -> Throughput:
    """Every socket sends, awaits the reply, sends again; count replies in ``seconds`` after ``warmup``."""
    clock = time.perf_counter
    window: dict[str, float] = {}
    latencies: list[float] = []
    done = [0]

    async def client(ws: WebSocket) -> None:
        while True:
            start = clock()
            await ws.send_text(request)
            await next_reply(ws)
            end = clock()
            if "start" in window and "end" not in window:
                done[0] += 1
                latencies.append(end - start)

    async with trio.open_nursery() as nursery:
        for ws in sockets:
            nursery.start_soon(client, ws)
        await trio.sleep(warmup)
        window["start"] = clock()
        await trio.sleep(seconds)
        window["end"] = clock()
        nursery.cancel_scope.cancel()
    # In-flight replies are dropped: the sockets are no longer in step; callers close them.
    return Throughput(done[0], window["end"] - window["start"], latencies)


@dataclass(eq=False)
class Held:
    """One held connection and what its reader saw."""

    ws: WebSocket
    presence: int = 0
    _last_presence: bytes = b""
    patches: list[float] = field(default_factory=list)  # perf_counter() at each patch
    other: int = 0
    ended: bool = False
    gone: trio.Event = field(default_factory=trio.Event)

    @property
    def last_count(self) -> int | None:
        """The last presence count received, if any."""
        if not self._last_presence:
            return None
        count: int = json.loads(self._last_presence)["count"]
        return count

    async def read(self) -> None:
        clock = time.perf_counter
        try:
            while True:
                payload = await self.ws.recv_bytes()
                if payload.startswith(b'{"type":"presence"'):
                    self.presence += 1
                    self._last_presence = payload  # decoded on demand: thousands arrive per second
                elif payload.startswith(b'{"type":"patch"'):
                    self.patches.append(clock())
                else:
                    self.other += 1
        except (Closed, trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self.ended = True
            self.gone.set()


class Crowd:
    """Held connections in one nursery: opened in bounded batches, pinged, aborted at the end."""

    def __init__(self, nursery: trio.Nursery, url: str) -> None:
        self.nursery = nursery
        self.url = url
        self.held: list[Held] = []
        self.failures = 0

    async def open(self, count: int, prepare: Callable[[WebSocket], Awaitable[None]],
                   concurrency: int = 64, time_limit: float = 120.0,
                   say: Callable[[str], None] | None = None) -> list[Held]:
        """Open ``count`` connections, ``prepare`` each (e.g. join), then start its reader."""
        opened: list[Held] = []
        limit = trio.Semaphore(concurrency)
        began = time.perf_counter()

        async def one() -> None:
            async with limit:
                try:
                    ws = await WebSocket.connect(self.url, timeout=30)
                except (OSError, ConnectionError, trio.TooSlowError):
                    self.failures += 1
                    return
                try:
                    with trio.fail_after(30):
                        await prepare(ws)
                except (Closed, OSError, trio.TooSlowError, trio.BrokenResourceError):
                    self.failures += 1
                    ws.abort()
                    return
                held = Held(ws)
                opened.append(held)
                self.held.append(held)
                self.nursery.start_soon(held.read)
                if say is not None and len(opened) % max(250, count // 8) == 0:
                    took = time.perf_counter() - began
                    say(f"  {len(opened):,}/{count:,} open after {took:.0f} s ({len(opened) / took:.0f}/s)")

        with trio.move_on_after(time_limit):
            async with trio.open_nursery() as nursery:
                for _ in range(count):
                    nursery.start_soon(one)
        return opened

    async def ping_forever(self, interval: float, message: str = '{"type":"ping"}') -> None:
        """Each held connection pings once per ``interval`` seconds, spread evenly (heartbeats)."""
        await trio.sleep(random.random() * interval / 10)
        while True:
            alive = [h for h in self.held if not h.ended]
            if not alive:
                await trio.sleep(min(1.0, interval))
                continue
            step = interval / len(alive)
            for held in alive:
                if held.ended:
                    continue
                try:
                    await held.ws.send_text(message)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    held.ended = True
                await trio.sleep(step)

    async def close(self, items: list[Held], code: int = 1000, concurrency: int = 64,
                    time_limit: float = 60.0) -> None:
        """Leave properly: send a close frame, await the server's (its reader sees it), drop TCP."""
        limit = trio.Semaphore(concurrency)

        async def one(held: Held) -> None:
            async with limit:
                with trio.move_on_after(3):
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                        await held.ws.send_close(code)
                    await held.gone.wait()
                held.ws.abort()

        with trio.move_on_after(time_limit):
            async with trio.open_nursery() as nursery:
                for held in items:
                    nursery.start_soon(one, held)
        for held in items:
            held.ws.abort()

    def abort_all(self) -> None:
        for held in self.held:
            held.ws.abort()
