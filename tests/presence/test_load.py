"""Bounded load: 2,000 live connections on one front, then 1,000 joins and leaves.

Only correctness is asserted; memory per connection and CPU per join+leave
are printed with a ``MEASURE:`` prefix (``pytest -s`` shows them).
"""

from __future__ import annotations

import random
import resource
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest
import trio

from tests.presence.helpers import (
    health,
    log_on_failure,
    measure,
    page_tokens,
    wait_live,
    wait_until,
)
from tests.support import Front, run_front
from tests.support.proc import cpu_seconds, rss_kib
from tests.support.rawws import Closed, RawWebSocket

CONNECTIONS = 2_000
CHURN = 1_000
BATCH = 100
HEARTBEAT = 2.0
INTERVAL = 0.25


@pytest.fixture(scope="module")
def load_front() -> Iterator[Front]:
    """One front, one renderer, a 2 s heartbeat, the default presence interval, no per-address cap."""
    env = {
        "NOWAKI_LIVE_HEARTBEAT": str(HEARTBEAT),
        "NOWAKI_PRESENCE_INTERVAL": str(INTERVAL),
        "NOWAKI_LIVE_PER_IP": str(CONNECTIONS * 10),  # every client here comes from 127.0.0.1
    }
    with run_front(env=env, renderers=1) as front:
        yield front


@dataclass
class Holder:
    """One held live connection and what it has seen."""

    ws: RawWebSocket
    joined: bool = False
    last_presence: int | None = None
    presence_messages: int = 0
    pings: int = 0
    pongs: int = 0
    close_code: int | None = None
    ended: bool = False

    async def read(self) -> None:
        """Record every message until the front closes (or the task is cancelled)."""
        try:
            while True:
                message = await self.ws.recv_json()
                kind = message["type"]
                if kind == "presence":
                    self.last_presence = message["count"]
                    self.presence_messages += 1
                elif kind == "joined":
                    self.joined = True
                elif kind == "pong":
                    self.pongs += 1
                else:
                    raise AssertionError(f"unexpected message {message}")
        except Closed as exc:
            self.close_code, self.ended = exc.code, True

    async def ping(self, every: float) -> None:
        """A ``ping`` every ``every`` seconds, phase-shifted so 2,000 clients do not beat in step."""
        await trio.sleep(random.uniform(0, every))
        while not self.ended:
            await self.ws.send_json({"type": "ping"})
            self.pings += 1
            await trio.sleep(every)


def _raise_file_limit(needed: int) -> None:
    """This process holds one descriptor per client."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "too few file descriptors here"


async def in_batches(count: int, make: Callable[[int], Awaitable[None]], timeout: float = 20.0) -> None:
    """Run ``make(i)`` for i < count, ``BATCH`` at a time, each batch within ``timeout``."""
    for start in range(0, count, BATCH):
        with trio.fail_after(timeout):
            async with trio.open_nursery() as nursery:
                for index in range(start, min(count, start + BATCH)):
                    nursery.start_soon(make, index)


async def close_all(sockets: list[RawWebSocket], timeout: float = 30.0) -> None:
    """Close every socket at once: one burst of leaves (closing in batches would make the front
    broadcast a presence round to everyone still open after each batch)."""
    with trio.fail_after(timeout):
        async with trio.open_nursery() as nursery:
            for ws in sockets:
                nursery.start_soon(ws.close)


@pytest.mark.timeout(180)
async def test_two_thousand_live_connections(load_front: Front) -> None:
    """2,000 joined, pinging clients all converge on presence 2000; all leave cleanly; churn costs CPU."""
    _raise_file_limit(CONNECTIONS + 1_000)
    with log_on_failure(load_front):
        await _load(load_front)


async def _load(load_front: Front) -> None:
    url, pid = load_front.url, load_front.process.pid
    tokens = await page_tokens(url, "/presence")  # one Counter island: quiet until an event
    await wait_live(url, 0)
    rss_before = rss_kib(pid)
    sockets: list[RawWebSocket] = []

    async with trio.open_nursery() as background:
        async def connect(index: int) -> None:
            sockets.append(await RawWebSocket.connect(load_front.ws_url))

        # Upgrades first, in batches (an unjoined socket gets no presence); then every join in
        # one tight burst, before any reader runs, so presence costs a few rounds, not one per batch.
        opened_at = trio.current_time()
        await in_batches(CONNECTIONS, connect)
        open_took = trio.current_time() - opened_at
        holders = [Holder(ws) for ws in sockets]
        joins_at = trio.current_time()
        with trio.fail_after(20):
            for index, holder in enumerate(holders):
                await holder.ws.send_json({"type": "join", "islands": [[0, tokens[index % len(tokens)]]]})
        joins_took = trio.current_time() - joins_at
        for holder in holders:
            background.start_soon(holder.read)
            background.start_soon(holder.ping, HEARTBEAT)
        try:
            converged = await wait_until(
                lambda: all(h.last_presence == CONNECTIONS for h in holders), 30.0,
                f"all {CONNECTIONS} clients to see presence {CONNECTIONS}",
            )
        except AssertionError:
            seen = Counter(h.last_presence for h in holders).most_common(8)
            ended = Counter(h.close_code for h in holders if h.ended)
            live = (await health(url))["live"]
            raise AssertionError(
                f"last presence counts {seen}; closed {dict(ended)}; health live {live}"
            ) from None
        await wait_live(url, CONNECTIONS, timeout=20.0)
        rss_after = rss_kib(pid)
        await trio.sleep(HEARTBEAT + 0.5)  # every client pings at least once more while held
        assert all(h.joined for h in holders)
        assert not [h for h in holders if h.ended], "a held client was closed by the front"
        assert all(h.last_presence == CONNECTIONS for h in holders)
        await wait_until(lambda: all(h.pongs >= 1 for h in holders), 10.0, "a pong on every connection")
        messages = sum(h.presence_messages for h in holders)
        background.cancel_scope.cancel()  # stop reading and pinging; close() reads from here on

    measure(f"opening {CONNECTIONS} connections (batches of {BATCH})", f"{open_took:.2f} s")
    measure(f"sending {CONNECTIONS} joins (one burst)", f"{joins_took:.2f} s")
    measure(f"presence settled on {CONNECTIONS} after the joins were sent", f"{converged:.2f} s")
    measure(f"presence messages for {CONNECTIONS} joins",
            f"{messages} ({messages / CONNECTIONS:.1f} per client)")
    measure("front RSS before / with all connections",
            f"{rss_before / 1024:.1f} MiB / {rss_after / 1024:.1f} MiB")
    measure(f"front memory per live connection at {CONNECTIONS}",
            f"{(rss_after - rss_before) / CONNECTIONS:.1f} KiB")

    closing_at = trio.current_time()
    await close_all([h.ws for h in holders])
    measure(f"closing {CONNECTIONS} connections (all at once)", f"{trio.current_time() - closing_at:.2f} s")
    left = await wait_live(url, 0, timeout=20.0)
    measure(f"front RSS after all {CONNECTIONS} left", f"{rss_kib(pid) / 1024:.1f} MiB")
    measure("health live back to 0 after the closes finished", f"{left:.2f} s")

    # Churn: CHURN connections join and leave, BATCH at a time; CPU of the front process only.
    cpu_before = cpu_seconds(pid)
    churn_started = trio.current_time()
    failures: list[str] = []

    async def join_and_leave(index: int) -> None:
        ws = await RawWebSocket.connect(load_front.ws_url)
        try:
            await ws.send_json({"type": "join", "islands": [[0, tokens[index % len(tokens)]]]})
            message = await ws.recv_json()
            if message["type"] != "joined":
                failures.append(str(message))
        finally:
            await ws.close(timeout=5.0)

    await in_batches(CHURN, join_and_leave)
    await wait_live(url, 0, timeout=10.0)
    cpu = cpu_seconds(pid) - cpu_before
    measure(f"front CPU for {CHURN} joins+leaves",
            f"{cpu:.2f} s ({cpu / CHURN * 1000:.2f} ms each; "
            f"wall {trio.current_time() - churn_started:.2f} s)")
    assert failures == [], failures[:5]
