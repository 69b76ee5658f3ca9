"""Chaos: ~200 live clients clicking while renderer children are SIGKILLed every ~2 s."""

from __future__ import annotations

import os
import random
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import trio
from trio_websocket import ConnectionClosed

from tests.conformance.live_client import LiveClient, connect, page_islands
from tests.hostile.helpers import base_env, front_process, health
from tests.support import FIXTURE_APP
from tests.support.proc import rss_kib

CLIENTS = 200
WARMUP = 5.0
CHAOS = 20.0
KILL_EVERY = 2.0
ALLOWED_ERRORS = {"renderer_crashed", "timeout", "unavailable"}
COUNT = re.compile(r"live: (-?\d+)")


@dataclass
class Tally:
    """What one client saw."""

    acked: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closed: str | None = None
    final: int | None = None


async def _click(client: LiveClient, tally: Tally, stop: trio.Event, rng: random.Random) -> None:
    while not stop.is_set():
        reply = await client.event(0, "inc", timeout=40)
        if reply["type"] == "patch":
            tally.acked += 1
        else:
            tally.errors[reply["code"]] += 1
        await trio.sleep(rng.uniform(0, 0.05))


async def _one_client(ws_url: str, token: str, tally: Tally, joined: trio.Semaphore,
                      go: trio.Event, stop: trio.Event, done: trio.Event, seed: int) -> None:
    rng = random.Random(seed)
    try:
        async with connect(ws_url) as client:
            reply = await client.join([(0, token)], timeout=20)
            assert reply["ids"] == [0], reply
            joined.release()
            await go.wait()
            await _click(client, tally, stop, rng)
            copy = client.copies.get(0, "")
            match = COUNT.search(copy)
            tally.final = int(match.group(1)) if match else 0
            await done.wait()  # hold the socket open until every client finished
    except ConnectionClosed as exc:
        tally.closed = repr(exc.reason)


async def test_chaos_renderer_kills_under_200_clients() -> None:
    """Counts stay exact, no client is dropped, health stays 200 and RSS stays flat while renderers die."""
    env = base_env(NOWAKI_LIVE_PER_IP="10000", NOWAKI_LIVE_RATE="10000", NOWAKI_LIVE_BURST="10000",
                   NOWAKI_RENDER_TIMEOUT="5")
    started = time.monotonic()
    async with front_process(["start", str(FIXTURE_APP), "--renderers", "2"], env) as front:
        islands = await page_islands(front.url)
        token = islands[0].token
        assert islands[0].name == "Counter"
        tallies = [Tally() for _ in range(CLIENTS)]
        joined = trio.Semaphore(0, max_value=CLIENTS)
        go, stop, done = trio.Event(), trio.Event(), trio.Event()
        kills = 0
        health_codes: Counter[int] = Counter()
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                for index in range(CLIENTS):
                    nursery.start_soon(_one_client, front.ws_url, token, tallies[index], joined,
                                       go, stop, done, index)
                with trio.fail_after(40):
                    for _ in range(CLIENTS):
                        await joined.acquire()
                go.set()
                await trio.sleep(WARMUP)
                rss_warm = rss_kib(front.process.pid)
                chaos_end = trio.current_time() + CHAOS
                rng = random.Random(7)
                while trio.current_time() < chaos_end:
                    await trio.sleep(KILL_EVERY)
                    code, _ = await health(front)
                    health_codes[code] += 1
                    pids = front.renderer_pids()
                    if len(pids) == 2:  # never take the last renderer away
                        os.kill(rng.choice(pids), signal.SIGKILL)
                        kills += 1
                stop.set()
                # Let in-flight events finish, then let renderers come back.
                with trio.fail_after(45):
                    while any(t.final is None and t.closed is None for t in tallies):
                        await trio.sleep(0.2)
                await trio.sleep(2)
                rss_end = rss_kib(front.process.pid)
                code, body = await health(front)
                health_codes[code] += 1
                done.set()
        assert front.process.poll() is None, "the front died"
        errors: Counter[str] = Counter()
        for tally in tallies:
            errors.update(tally.errors)
        acked = sum(t.acked for t in tallies)
        print(f"MEASURE chaos clients={CLIENTS} clicks_acked={acked} errors={dict(errors)} "
              f"renderer_kills={kills} health={dict(health_codes)} rss_warm_kib={rss_warm} "
              f"rss_end_kib={rss_end} wall_s={time.monotonic() - started:.1f}")
        closed = [t.closed for t in tallies if t.closed is not None]
        assert not closed, f"{len(closed)} clients were dropped: {closed[:3]}"
        assert set(errors) <= ALLOWED_ERRORS, errors
        mismatched = [(t.acked, t.final) for t in tallies if t.final != t.acked]
        assert not mismatched, f"displayed count != acknowledged clicks: {mismatched[:5]}"
        assert kills >= 5, kills
        assert acked > CLIENTS, acked
        assert set(health_codes) == {200}, health_codes
        assert body["renderers_up"] == 2, body
        assert rss_end - rss_warm <= 20 * 1024, (rss_warm, rss_end)
