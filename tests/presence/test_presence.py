"""Presence over wire B: who counts, when counts are sent, and that bursts are coalesced."""

from __future__ import annotations

import httpx
import trio

from tests.presence.helpers import PRESENCE_INTERVAL as INTERVAL
from tests.presence.helpers import crowd, health, measure, page_tokens, wait_live, wait_until
from tests.support import Front


async def test_only_joined_connections_count(presence_front: Front) -> None:
    """Page views and open-but-unjoined sockets never count; joins do; a close drops the count."""
    url = presence_front.url
    await wait_live(url, 0)
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(3):
            assert (await client.get(url + "/")).status_code == 200
    tokens = await page_tokens(url)
    assert (await health(url))["live"] == 0, "a page view must not count as a live connection"

    async with crowd(presence_front.ws_url) as group:
        idle = await group.open()
        await trio.sleep(4 * INTERVAL)  # several broadcast rounds
        assert (await health(url))["live"] == 0, "an open socket that has not joined must not count"
        assert idle.messages == [], f"an unjoined socket got {idle.messages}"

        first = await group.open()
        joined = await first.join(tokens[:1])
        assert joined["ids"] == [0]
        await first.wait_presence(1, 2.0)
        assert first.messages[:2] == [joined, {"type": "presence", "count": 1}], (
            f"presence must come right after joined: {first.messages[:3]}"
        )
        assert (await health(url))["live"] == 1
        assert idle.messages == [], "an unjoined socket must not receive presence"

        second = await group.open()
        await second.join(tokens[:2])
        await second.wait_presence(2, 2.0)
        assert second.messages[1] == {"type": "presence", "count": 2}
        took = await first.wait_presence(2, INTERVAL + 1.0)
        measure("presence 1->2 reached the first client after", f"{took:.3f} s")
        assert (await health(url))["live"] == 2

        await second.close()
        took = await first.wait_presence(1, INTERVAL + 1.0)
        measure("presence 2->1 after a close reached the other client after", f"{took:.3f} s")
        assert (await health(url))["live"] == 1
        assert first.presence == [1, 2, 1], f"each change once, no duplicates: {first.presence}"
        assert idle.messages == [] and idle.closed_at is None

        await idle.join(tokens[:1])  # the unjoined socket counts from its join on
        await idle.wait_presence(2, 2.0)
        await first.wait_presence(2, INTERVAL + 1.0)
    await wait_live(url, 0)


async def test_burst_of_joins_is_coalesced(presence_front: Front) -> None:
    """200 joins in one burst cost O(N) presence messages, and every client ends on 200."""
    clients = 200
    url = presence_front.url
    await wait_live(url, 0)
    tokens = await page_tokens(url)
    async with crowd(presence_front.ws_url) as group:
        peers = await group.open_many(clients, concurrency=50)
        assert (await health(url))["live"] == 0

        async with trio.open_nursery() as nursery:  # every join at once
            for index, peer in enumerate(peers):
                nursery.start_soon(peer.send, {
                    "type": "join", "islands": [[0, tokens[index % len(tokens)]]],
                })
        took = await wait_until(lambda: all(p.last_presence == clients for p in peers), 15.0,
                                f"every client to see presence {clients}")
        await trio.sleep(10 * INTERVAL)  # let any straggling rounds arrive before counting
        total = sum(len(p.presence) for p in peers)
        rounds = max(len(p.presence) for p in peers)
        measure(f"presence messages for a burst of {clients} joins",
                f"{total} in all ({total / clients:.2f} per client, at most {rounds} to one), "
                f"settled after {took:.3f} s")
        assert all(p.of_type("joined") for p in peers)
        assert all(p.last_presence == clients for p in peers)
        assert total <= clients * 6, f"{total} presence messages for {clients} joins: not coalesced"
        for peer in peers:
            assert peer.presence == sorted(peer.presence), f"counts went down in a burst: {peer.presence}"
        assert (await health(url))["live"] == clients
    await wait_live(url, 0, timeout=10.0)
