"""Server push over wire B: timers, shared islands and publish (real front, real sockets)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable

import httpx
import trio

from tests.support import Front
from tests.survival.helpers import (
    CLOCK,
    COUNTER,
    FEED,
    POLL,
    PUBLISH_TOKEN,
    events_ok,
    log_problems,
    page_tokens,
)
from tests.survival.wire import TICKS, Client, Message, connect, count_of

SLOW_TICKS = re.compile(r"ticks: <b>(\d+)</b> pokes: <i>(\d+)</i>")


async def tokens(url: str, path: str = "/live") -> list[str]:
    """The page's island tokens in page order (its island ids)."""
    pairs = await trio.to_thread.run_sync(page_tokens, url, path)
    return [token for _, token in pairs]


async def ok_events(url: str) -> float:
    """``nowaki_events_total{outcome="ok"}`` right now."""
    return await trio.to_thread.run_sync(events_ok, url)


async def settled_ok_events(url: str) -> float:
    """``ok_events`` once it holds still for 0.4 s: a slow tick an earlier test's island
    had in flight when its socket closed still completes, and counts."""
    count = await ok_events(url)
    while True:
        await trio.sleep(0.4)
        now = await ok_events(url)
        if now == count:
            return count
        count = now


def is_patch(island: int) -> Callable[[Message], bool]:
    """Matches any patch for ``island``."""
    return lambda m: m["type"] == "patch" and m.get("id") == island


def ticks_in(history: list[str]) -> list[int]:
    """The Clock's tick count in each successive copy."""
    values = []
    for html in history:
        match = TICKS.search(html)
        assert match, html
        values.append(int(match.group(1)))
    return values


# -- timers ---------------------------------------------------------------------------


async def test_clock_pushes_ticks_with_no_client_event_and_stops_on_close(main_front: Front) -> None:
    """Clock (every 0.2 s) pushes ~5 patches a second, all ``push``; an event still gets a plain reply."""
    clock, counter = (await tokens(main_front.url))[CLOCK], (await tokens(main_front.url))[COUNTER]
    async with connect(main_front.ws_url) as client:
        await client.join([(CLOCK, clock), (COUNTER, counter)])
        first = await client.next(is_patch(CLOCK), timeout=2)
        assert first.get("push") is True, first
        assert "at" not in first, "the first patch of a lazily joined island has no baseline"
        started = trio.current_time()
        window = await client.drain(1.0)
        reply = await client.event(COUNTER, "inc")
        window += await client.drain(2.0 - (trio.current_time() - started))
        assert reply["type"] == "patch" and "push" not in reply, reply
        assert count_of(client.copies[COUNTER]) == 1

    clock_patches = [m for m in window if m["type"] == "patch" and m["id"] == CLOCK]
    assert all(m.get("push") is True for m in clock_patches), clock_patches
    assert not [m for m in window if m["type"] == "error"], window
    # 2 s at one tick per 0.2 s: about 10; never more than the schedule allows.
    assert 6 <= len(clock_patches) <= 11, len(clock_patches)
    values = ticks_in(client.history[CLOCK])
    assert values == list(range(values[0], values[0] + len(values))), values
    # The Counter got exactly one patch: the reply, never a tick.
    assert [m for m in client.seen if m.get("id") == COUNTER] == [reply]

    # Closed: the timer stops, so no more handlers run on the front.
    await trio.sleep(0.4)
    before = await ok_events(main_front.url)
    await trio.sleep(1.0)
    assert await ok_events(main_front.url) == before, "ticks went on after the only viewer left"
    assert not log_problems(main_front), log_problems(main_front)


async def test_slow_ticks_are_skipped_not_queued(main_front: Front) -> None:
    """SlowTick fires every 0.05 s but each tick takes 0.3 s: ~5 ticks in 1.5 s, not 30."""
    slow, counter = await tokens(main_front.url, "/slowtick")
    async with connect(main_front.ws_url) as client:
        await client.join([(0, slow), (1, counter)])
        await client.next(is_patch(0), timeout=3)
        window = await client.drain(1.5)
        ticks = [m for m in window if m["type"] == "patch" and m["id"] == 0]
        assert 3 <= len(ticks) <= 6, f"{len(ticks)} ticks applied in 1.5 s"
        assert all(m.get("push") for m in ticks), ticks

        # The connection stays healthy and another island answers at once (a free renderer).
        assert await client.ping() < 0.25
        latencies = []
        for _ in range(4):
            started = trio.current_time()
            reply = await client.event(1, "inc")
            latencies.append(trio.current_time() - started)
            assert reply["type"] == "patch" and "push" not in reply, reply
            await trio.sleep(0.07)
        assert count_of(client.copies[1]) == 4
        assert sorted(latencies)[1] < 0.15, latencies


async def test_an_event_waits_for_at_most_one_tick(main_front: Front) -> None:
    """SPEC: while a tick is waiting or running the next is skipped, so an event waits behind one tick.

    A poke on SlowTick itself must therefore be answered within about one tick
    (0.3 s), never behind a second tick queued while the first ran.
    """
    slow, counter = await tokens(main_front.url, "/slowtick")
    async with connect(main_front.ws_url) as client:
        await client.join([(0, slow), (1, counter)])
        await client.next(is_patch(0), timeout=3)
        latencies = []
        for _ in range(6):
            started = trio.current_time()
            reply = await client.event(0, "poke", timeout=3)
            latencies.append(trio.current_time() - started)
            assert reply["type"] == "patch" and "push" not in reply, reply
            await trio.sleep(0.1)
        match = SLOW_TICKS.search(client.copies[0])
        assert match and match.group(2) == "6", client.copies[0]
        # Behind at most one 0.3 s tick an event waits 0.15 s on average (never over ~0.3 s);
        # behind a running tick plus a queued one it waits 0.3-0.6 s.
        mean = sum(latencies) / len(latencies)
        assert mean < 0.3, f"poke latencies {[round(x, 3) for x in latencies]}: a second tick was queued"


# -- shared islands -------------------------------------------------------------------


def votes(html: str) -> tuple[int, int]:
    """(yes, no) as a Poll copy shows them."""
    yes, no = re.search(r'class="yes">(\d+)<', html), re.search(r'class="no">(\d+)<', html)
    assert yes and no, html
    return int(yes.group(1)), int(no.group(1))


def shows(client: Client, text: str, island: int = POLL) -> Callable[[], bool]:
    """True once the client's copy of ``island`` contains ``text``."""
    return lambda: text in client.copies.get(island, "")


async def test_shared_poll_is_applied_once_and_pushed_to_every_viewer(main_front: Front) -> None:
    """Two viewers of Poll; A votes; A gets the reply, B a push; a late C gets the current HTML at once."""
    url = main_front.url
    poll = (await tokens(url))[POLL]
    async with connect(main_front.ws_url) as a, connect(main_front.ws_url) as b:
        await a.join([(POLL, poll)])
        await b.join([(POLL, poll)])
        await b.until(lambda: POLL in b.copies)  # the second viewer is caught up with a push
        assert all(m.get("push") for m in b.seen if m["type"] == "patch"), b.seen
        yes_before, no_before = votes(b.copies[POLL])

        before = await settled_ok_events(url)
        reply = await a.event(POLL, "vote", {"choice": "yes"})
        assert reply["type"] == "patch" and "push" not in reply, reply
        want_yes = f'class="yes">{yes_before + 1}<'
        assert want_yes in a.copies[POLL], a.copies[POLL]
        await b.until(lambda: want_yes in b.copies.get(POLL, ""))
        assert all(m.get("push") for m in b.seen if m["type"] == "patch"), "B sent nothing: only pushes"
        assert a.copies[POLL] == b.copies[POLL]
        assert await ok_events(url) == before + 1

        async with connect(main_front.ws_url) as c:
            await c.join([(POLL, poll)])
            first = await c.next(is_patch(POLL), timeout=2)
            assert first.get("push") is True and "at" not in first, first
            assert want_yes in first["html"], first
            assert first["html"] == a.copies[POLL]

            # Three viewers now: one vote is still one handler run, and everyone converges.
            before = await ok_events(url)
            reply = await c.event(POLL, "vote", {"choice": "no"})
            assert "push" not in reply, reply
            want_no = f'class="no">{no_before + 1}<'
            for viewer in (a, b, c):
                await viewer.until(shows(viewer, want_no))
            assert a.copies[POLL] == b.copies[POLL] == c.copies[POLL]
            await trio.sleep(0.3)
            assert await ok_events(url) == before + 1
            for viewer in (a, b):
                assert not [m for m in viewer.seen if m["type"] == "error"], viewer.seen


async def test_events_metric_name_is_prometheus_events_total(main_front: Front) -> None:
    """The vote count above relies on ``nowaki_events_total{outcome="ok"}``: check it exists and moves."""
    counter = (await tokens(main_front.url))[COUNTER]
    async with connect(main_front.ws_url) as client:
        await client.join([(COUNTER, counter)])
        before = await ok_events(main_front.url)
        await client.event(COUNTER, "inc")
        await client.event(COUNTER, "inc")
        assert await ok_events(main_front.url) == before + 2


# -- publish --------------------------------------------------------------------------


async def publish(url: str, topic: str, body: object, token: str | None = PUBLISH_TOKEN,
                  raw: bytes | None = None) -> httpx.Response:
    """POST to the publish endpoint with an optional bearer token (``raw``: the body as is)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else json.dumps(body).encode()
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{url}/__nowaki/publish/{topic}", content=content, headers=headers)


def items(client: Client) -> list[str]:
    """The Feed's list items in the client's copy."""
    return re.findall(r"<li>(.*?)</li>", client.copies.get(FEED, ""))


async def test_publish_reaches_every_subscribed_view(main_front: Front) -> None:
    """POST with the right token: 202 and a push patch per Feed view; bad requests apply nothing."""
    url = main_front.url
    async with connect(main_front.ws_url) as one, connect(main_front.ws_url) as two:
        await one.join([(FEED, (await tokens(url))[FEED])])
        await two.join([(FEED, (await tokens(url))[FEED])])

        response = await publish(url, "orders", {"item": "tea"})
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["topic"] == "orders" and body["instances"] >= 2, body
        for client in (one, two):
            patch = await client.next(is_patch(FEED), timeout=3)
            assert patch.get("push") is True, patch
            assert items(client) == ["tea"]

        wrong = await publish(url, "orders", {"item": "forged"}, token="nope")
        assert wrong.status_code == 401, wrong.text
        missing = await publish(url, "orders", {"item": "forged"}, token=None)
        assert missing.status_code == 401, missing.text
        assert (await publish(url, "orders", None, raw=b"[1, 2]")).status_code == 400
        assert (await publish(url, "orders", None, raw=b"{not json")).status_code == 400

        cli_env = {**os.environ, "NOWAKI_PUBLISH_TOKEN": PUBLISH_TOKEN}
        done = await trio.run_process(
            [sys.executable, "-m", "nowaki.cli", "publish", "orders", '{"item":"cli"}', "--url", url],
            env=cli_env, capture_stdout=True, capture_stderr=True, check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert json.loads(done.stdout)["instances"] >= 2, done.stdout
        refused = await trio.run_process(
            [sys.executable, "-m", "nowaki.cli", "publish", "orders", '{"item":"forged"}', "--url", url],
            env={**cli_env, "NOWAKI_PUBLISH_TOKEN": "wrong"},
            capture_stdout=True, capture_stderr=True, check=False,
        )
        assert refused.returncode != 0
        assert b"401" in refused.stderr, refused.stderr

        for client in (one, two):
            await client.until(shows(client, "<li>cli</li>", FEED), timeout=3)
            await client.drain(0.2)
            assert items(client) == ["tea", "cli"], "a refused publish was applied"
            assert all(m.get("push") for m in client.seen if m["type"] == "patch"), client.seen


async def test_publish_is_off_without_a_token(short_front: Front) -> None:
    """NOWAKI_PUBLISH_TOKEN unset: the endpoint answers 404, with or without a token."""
    assert (await publish(short_front.url, "orders", {"item": "tea"})).status_code == 404
    assert (await publish(short_front.url, "orders", {"item": "tea"}, token=None)).status_code == 404
