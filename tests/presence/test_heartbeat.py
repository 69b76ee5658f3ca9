"""Heartbeat and idle connections: silence (or a vanished peer) is closed with 4408 and leaves presence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio

from tests.presence.helpers import Crowd, Peer, crowd, health, measure, page_tokens, until_closed, wait_live
from tests.support import Front, run_front
from tests.support.rawws import RawWebSocket

HEARTBEAT = 0.2
TIMEOUT = 1.0
INTERVAL = 0.05
MARGIN = 1.5
"""Slack over NOWAKI_LIVE_TIMEOUT for a drop to be seen (a loaded CI machine)."""


@pytest.fixture(scope="module")
def idle_front() -> Iterator[Front]:
    """A front that expects a ping every 0.2 s and drops clients silent for 1 s."""
    env = {
        "NOWAKI_LIVE_HEARTBEAT": str(HEARTBEAT),
        "NOWAKI_LIVE_TIMEOUT": str(TIMEOUT),
        "NOWAKI_PRESENCE_INTERVAL": str(INTERVAL),
    }
    with run_front(env=env) as front:
        yield front


async def keep_pinging(peer: Peer, every: float = HEARTBEAT) -> None:
    """What the runtime does: an application ``ping`` every heartbeat, until cancelled or closed."""
    while peer.closed_at is None:
        await peer.send({"type": "ping"})
        await trio.sleep(every)


async def settled_tokens(url: str) -> list[str]:
    """The page's tokens, once no client of an earlier test is still counted live."""
    await wait_live(url, 0, timeout=TIMEOUT + MARGIN)
    return await page_tokens(url)


async def pinging_watcher(group: Crowd, tokens: list[str]) -> Peer:
    """A joined peer that keeps pinging: it stays, and sees presence change around it."""
    watcher = await group.open()
    await watcher.join(tokens[:1])
    group.nursery.start_soon(keep_pinging, watcher)
    return watcher


async def test_joined_tells_the_heartbeat(idle_front: Front) -> None:
    """``joined.heartbeat`` is NOWAKI_LIVE_HEARTBEAT, in seconds."""
    tokens = await page_tokens(idle_front.url)
    async with crowd(idle_front.ws_url) as group:
        peer = await group.open()
        joined = await peer.join(tokens[:1])
    assert joined["type"] == "joined" and joined["heartbeat"] == pytest.approx(HEARTBEAT), joined


async def test_silent_client_is_closed_with_4408(idle_front: Front) -> None:
    """A joined client that sends nothing is closed with 4408 after the timeout and leaves presence."""
    url = idle_front.url
    tokens = await settled_tokens(url)
    async with crowd(idle_front.ws_url) as group:
        watcher = await pinging_watcher(group, tokens)
        silent = await group.open()
        joined_at = trio.current_time()
        await silent.join(tokens[:1])
        await watcher.wait_presence(2, 2.0)

        await silent.wait_closed(TIMEOUT + MARGIN)
        assert silent.closed_at is not None
        dropped_after = silent.closed_at - joined_at
        measure(f"silent client dropped after (NOWAKI_LIVE_TIMEOUT={TIMEOUT})", f"{dropped_after:.3f} s")
        assert silent.close_code == 4408, (silent.close_code, silent.close_reason)
        assert dropped_after >= TIMEOUT * 0.95, f"dropped after {dropped_after:.3f} s, before the timeout"
        await watcher.wait_presence(1, INTERVAL + 1.0)
        assert (await health(url))["live"] == 1
        assert watcher.closed_at is None, "a pinging client must stay connected"


async def test_pinging_client_stays_connected(idle_front: Front) -> None:
    """A ping every 0.2 s keeps a client connected for 3 s (three times the timeout), each one ponged."""
    url = idle_front.url
    tokens = await settled_tokens(url)
    async with crowd(idle_front.ws_url) as group:
        peer = await group.open()
        await peer.join(tokens[:1])
        sent = 0
        with trio.move_on_after(3.0):
            while True:
                await peer.send({"type": "ping"})
                sent += 1
                await trio.sleep(HEARTBEAT)
        await trio.sleep(0.2)
        assert peer.closed_at is None, f"closed with {peer.close_code} {peer.close_reason!r}"
        assert len(peer.of_type("pong")) == sent, f"{sent} pings, {len(peer.of_type('pong'))} pongs"
        assert (await health(url))["live"] == 1
        assert peer.last_presence == 1


async def test_protocol_pings_do_not_keep_a_client(idle_front: Front) -> None:
    """WebSocket protocol pings are not application messages: a client sending only those is dropped."""
    url = idle_front.url
    tokens = await settled_tokens(url)
    async with crowd(idle_front.ws_url) as group:
        peer = await group.open()
        joined_at = trio.current_time()
        await peer.join(tokens[:1])
        pongs = 0

        async def protocol_pings() -> None:
            nonlocal pongs
            while peer.closed_at is None:
                with trio.move_on_after(HEARTBEAT * 2):
                    await peer.ws.ping()  # waits for the front's protocol pong
                    pongs += 1
                await trio.sleep(HEARTBEAT)

        group.nursery.start_soon(protocol_pings)
        await peer.wait_closed(TIMEOUT + MARGIN)
        assert peer.closed_at is not None
        assert peer.close_code == 4408, (peer.close_code, peer.close_reason)
        assert peer.closed_at - joined_at >= TIMEOUT * 0.95
        assert pongs >= 1, "the front should have answered the protocol pings while it was open"
    await wait_live(url, 0, timeout=2.0)


async def test_half_open_peer_is_reclaimed(idle_front: Front) -> None:
    """A peer that joins and then neither reads nor writes (socket left open) is dropped by the timeout."""
    url = idle_front.url
    tokens = await settled_tokens(url)
    async with crowd(idle_front.ws_url) as group:
        watcher = await pinging_watcher(group, tokens)

        ghost = await RawWebSocket.connect(idle_front.ws_url)
        try:
            started = trio.current_time()
            await ghost.send_json({"type": "join", "islands": [[0, tokens[0]]]})
            with trio.fail_after(5):
                assert (await ghost.recv_json())["type"] == "joined"
                assert await ghost.recv_json() == {"type": "presence", "count": 2}
            await watcher.wait_presence(2, 2.0)
            # From here on the ghost neither reads nor writes; its TCP connection stays open.
            await wait_live(url, 1, timeout=TIMEOUT + MARGIN)
            reclaimed_after = trio.current_time() - started
            measure("half-open peer reclaimed after", f"{reclaimed_after:.3f} s")
            assert reclaimed_after >= TIMEOUT * 0.95, f"reclaimed after {reclaimed_after:.3f} s"
            await watcher.wait_presence(1, INTERVAL + 1.0)
            # What the front said to it meanwhile is still in the kernel's buffer: a 4408 close.
            closed, _ = await until_closed(ghost)
            assert closed.code == 4408, closed
        finally:
            ghost.abort()
        assert watcher.closed_at is None
