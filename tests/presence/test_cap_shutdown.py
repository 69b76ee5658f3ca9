"""The connection cap (4429) and graceful shutdown on SIGTERM (1001, exit 0 within 5 s)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import trio

from tests.presence.helpers import crowd, health, measure, page_tokens, until_closed, wait_live, wait_until
from tests.support import Front, run_front
from tests.support.rawws import RawWebSocket

INTERVAL = 0.05
SHUTDOWN_LIMIT = 5.0


@pytest.fixture(scope="module")
def capped_front() -> Iterator[Front]:
    """A front that takes at most two live connections."""
    with run_front(env={"NOWAKI_LIVE_MAX": "2", "NOWAKI_PRESENCE_INTERVAL": str(INTERVAL)}) as front:
        yield front


async def refused_total(url: str) -> float:
    """``nowaki_refused_connections_total{reason="cap"}`` from the metrics page."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(url + "/__nowaki/metrics")).text
    match = re.search(r'^nowaki_refused_connections_total\{reason="cap"\} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_over_the_cap_is_accepted_then_closed_with_4429(capped_front: Front) -> None:
    """The third socket completes its upgrade, then gets 4429 with a reason; it never counts."""
    url = capped_front.url
    await wait_live(url, 0)
    tokens = await page_tokens(url)
    refused_before = await refused_total(url)
    async with crowd(capped_front.ws_url) as group:
        first, second = await group.open(), await group.open()
        await first.join(tokens[:1])
        await second.join(tokens[:1])
        await first.wait_presence(2, 2.0)

        third = await group.open()  # the upgrade succeeds: the front accepts before it refuses
        await third.wait_closed(5.0)
        assert third.close_code == 4429, (third.close_code, third.close_reason)
        assert third.close_reason, "a 4429 close should say why"
        assert third.messages == []

        # A refused socket that sends its join at once is still never joined nor counted.
        eager = await RawWebSocket.connect(capped_front.ws_url)
        try:
            await eager.send_json({"type": "join", "islands": [[0, tokens[0]]]})
            closed, received = await until_closed(eager)
            assert closed.code == 4429, closed
            assert received == [], f"a refused socket got {received}"
        finally:
            eager.abort()

        await trio.sleep(6 * INTERVAL)
        assert (await health(url))["live"] == 2
        assert max(first.presence + second.presence) == 2, (first.presence, second.presence)
        assert await refused_total(url) >= refused_before + 2
        assert first.closed_at is None and second.closed_at is None


async def test_a_freed_slot_is_taken_at_once(capped_front: Front) -> None:
    """Closing an admitted connection lets the next one in straight away (no retry needed)."""
    url = capped_front.url
    await wait_live(url, 0)
    tokens = await page_tokens(url)
    async with crowd(capped_front.ws_url) as group:
        first, second = await group.open(), await group.open()
        await first.join(tokens[:1])
        await second.join(tokens[:1])
        await first.close()
        newcomer = await group.open()
        joined = await newcomer.join(tokens[:1], timeout=5.0)
        assert joined["ids"] == [0]
        await newcomer.wait_presence(2, 2.0)
        await trio.sleep(6 * INTERVAL)
        assert newcomer.closed_at is None, (newcomer.close_code, newcomer.close_reason)
        assert (await health(url))["live"] == 2
        await second.wait_presence(2, 2.0)
    await wait_live(url, 0)


async def _exit_after_sigterm(front: Front) -> tuple[int | None, float]:
    """SIGTERM the front; return its exit status (None if still running) and the seconds it took."""
    started = time.monotonic()
    front.process.send_signal(signal.SIGTERM)

    def wait() -> int | None:
        try:
            return front.process.wait(timeout=SHUTDOWN_LIMIT + 5)
        except subprocess.TimeoutExpired:
            return None

    status = await trio.to_thread.run_sync(wait)
    return status, time.monotonic() - started


async def test_sigterm_closes_live_sockets_with_1001_and_exits_0() -> None:
    """Live clients are told 1001 (going away); the front exits 0 within 5 s."""
    with run_front(env={"NOWAKI_PRESENCE_INTERVAL": str(INTERVAL)}) as front:
        tokens = await page_tokens(front.url)
        async with crowd(front.ws_url) as group:
            peers = [await group.open() for _ in range(3)]
            for peer in peers:
                await peer.join(tokens[:2])
            unjoined = await group.open()
            await wait_live(front.url, 3)

            status, took = await _exit_after_sigterm(front)
            measure("front exit after SIGTERM with 4 sockets open", f"{took:.3f} s")
            await wait_until(lambda: all(p.closed_at is not None for p in [*peers, unjoined]), 2.0,
                             "every client to see the close")
            codes = [p.close_code for p in [*peers, unjoined]]
            assert codes == [1001] * 4, f"close codes on SIGTERM: {codes}"
        assert status == 0, f"exit status {status}\n{front.log()[-3000:]}"
        assert took < SHUTDOWN_LIMIT, f"took {took:.2f} s to exit"


async def test_sigterm_with_a_stuck_client_still_exits_in_time() -> None:
    """A joined client that stopped reading does not hold shutdown up; the others still get 1001."""
    with run_front(env={"NOWAKI_PRESENCE_INTERVAL": str(INTERVAL)}) as front:
        tokens = await page_tokens(front.url)
        async with crowd(front.ws_url) as group:
            peer = await group.open()
            await peer.join(tokens[:1])
            stuck = await RawWebSocket.connect(front.ws_url)
            try:
                await stuck.send_json({"type": "join", "islands": [[0, tokens[0]]]})
                with trio.fail_after(5):
                    assert (await stuck.recv_json())["type"] == "joined"
                await wait_live(front.url, 2)
                # From here on `stuck` reads nothing and never answers the close.
                status, took = await _exit_after_sigterm(front)
                measure("front exit after SIGTERM with a stuck client", f"{took:.3f} s")
                await peer.wait_closed(2.0)
                assert peer.close_code == 1001, (peer.close_code, peer.close_reason)
                closed, _ = await until_closed(stuck)
                assert closed.code == 1001, closed
            finally:
                stuck.abort()
        assert status == 0, f"exit status {status}\n{front.log()[-3000:]}"
        assert took < SHUTDOWN_LIMIT, f"took {took:.2f} s to exit"
