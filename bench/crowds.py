"""Many connections: idle memory, round trips with 10 vs 5,000 held, presence churn, shared fan-out."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import trio

from bench.config import Sizes
from bench.latency import INC
from bench.load import Crowd, Held, next_reply, round_trips
from bench.procs import Floor, Front, cpu_seconds, rss_kib
from bench.proto import PING, event_text, join, join_text, page_tokens
from bench.stats import percentile, summary_ms
from tests.support.rawws import WebSocket

Prepare = Callable[[WebSocket], Awaitable[None]]
Say = Callable[[str], None]
_EVENTS_OK = re.compile(r'^nowaki_events_total\{outcome="ok"\} ([0-9.e+]+)$', re.MULTILINE)


def joiner(text: str, heartbeat: list[float] | None = None) -> Prepare:
    """Prepare a socket by joining (records the heartbeat the front announces)."""

    async def prepare(ws: WebSocket) -> None:
        joined = await join(ws, text)
        if heartbeat is not None and not heartbeat:
            heartbeat.append(float(joined.get("heartbeat", 25)))

    return prepare


async def echo_once(ws: WebSocket) -> None:
    """Prepare a floor socket: one message there and back, as a join would be."""
    await ws.send_text(INC)
    await next_reply(ws)


async def _wait(check: Callable[[], bool], limit: float) -> bool:
    with trio.move_on_after(limit):
        while not check():
            await trio.sleep(0.05)
        return True
    return False


async def _settled(held: list[Held], count: int, limit: float) -> bool:
    """Wait until every live holder's last presence is ``count``."""
    return await _wait(lambda: all(h.last_count == count for h in held if not h.ended), limit)


# -- idle memory ------------------------------------------------------------------


async def idle_floor(floor: Floor, sizes: Sizes, say: Say | None = None) -> dict[str, Any]:
    """Bare trio-websocket: server RSS per idle connection at ``sizes.idle_conns``."""
    rss0 = rss_kib(floor.pid)
    began = time.perf_counter()
    async with trio.open_nursery() as nursery:
        crowd = Crowd(nursery, floor.ws_url)
        held = await crowd.open(sizes.idle_conns, echo_once, time_limit=sizes.open_time_limit, say=say)
        opened = time.perf_counter() - began
        await trio.sleep(sizes.settle)
        rss1 = rss_kib(floor.pid)
        crowd.abort_all()
        nursery.cancel_scope.cancel()
    return {"conns": len(held), "failures": crowd.failures, "open_seconds": opened,
            "rss_before_kib": rss0, "rss_after_kib": rss1,
            "kib_per_conn": (rss1 - rss0) / max(1, len(held))}


async def scaling(small: Front, big: Front, sizes: Sizes, say: Say | None = None) -> dict[str, Any]:
    """Two identical fronts: ``small`` holds 10 joined connections, ``big`` holds ``idle_conns``.

    ``big``'s RSS delta over its held connections is the idle cost; round trips
    of a probe connection on each, in interleaved blocks, give the scaling ratio.
    Holders ping at the heartbeat the front announces.
    """
    texts = {f.url: join_text([page_tokens(f.url)["Counter"]]) for f in (small, big)}
    probes = {}
    for front in (small, big):
        ws = await WebSocket.connect(front.ws_url)
        await join(ws, texts[front.url])
        await round_trips(ws, INC, sizes.rtt_warmup, 30)
        probes[front.url] = ws
    await trio.sleep(0.5)

    async def keep_probes_alive() -> None:  # they sit idle while thousands open: heartbeat them too
        while True:
            await trio.sleep(10)
            for ws in probes.values():
                await ws.send_text(PING)

    rss0 = rss_kib(big.pid)
    cpu0 = cpu_seconds(big.pid)
    heartbeat: list[float] = []
    result: dict[str, Any] = {}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_probes_alive)
        crowds = {f.url: Crowd(nursery, f.ws_url) for f in (small, big)}
        await crowds[small.url].open(sizes.scale_small, joiner(texts[small.url], heartbeat))
        for crowd in crowds.values():  # pinging while the rest open, as browsers would
            nursery.start_soon(crowd.ping_forever, heartbeat[0] if heartbeat else 25.0)
        began = time.perf_counter()
        held = await crowds[big.url].open(sizes.idle_conns, joiner(texts[big.url], heartbeat),
                                          time_limit=sizes.open_time_limit, say=say)
        opened = time.perf_counter() - began
        open_cpu = cpu_seconds(big.pid) - cpu0
        settled = await _settled(held, len(held) + 1, 60)
        await trio.sleep(sizes.settle)
        rss1 = rss_kib(big.pid)
        result["idle"] = {
            "conns": len(held), "failures": crowds[big.url].failures, "open_seconds": opened,
            "open_cpu_ms_per_conn": open_cpu / max(1, len(held)) * 1e3,
            "presence_settled": settled, "heartbeat_s": heartbeat[0] if heartbeat else None,
            "rss_before_kib": rss0, "rss_after_kib": rss1,
            "kib_per_conn": (rss1 - rss0) / max(1, len(held)),
        }
        times: dict[str, list[float]] = {small.url: [], big.url: []}
        per_block = max(1, sizes.scale_events // sizes.scale_blocks)
        for block in range(sizes.scale_blocks):
            order = (small, big) if block % 2 == 0 else (big, small)
            for front in order:
                times[front.url] += await round_trips(probes[front.url], INC, per_block,
                                                      sizes.scale_time_limit / sizes.scale_blocks)
        result["scaling"] = {
            "small_held": sizes.scale_small, "big_held": len(held),
            "small": summary_ms(times[small.url]), "big": summary_ms(times[big.url]),
        }
        for crowd in crowds.values():
            crowd.abort_all()
        nursery.cancel_scope.cancel()
    for ws in probes.values():
        ws.abort()
    return result


# -- presence churn -----------------------------------------------------------------


async def churn(url: str, pid: int, prepare: Prepare, sizes: Sizes, interval: float,
                presence: bool) -> dict[str, Any]:
    """``churn_ops`` joins then as many leaves, with ``churn_connected`` held; server CPU and messages."""
    async with trio.open_nursery() as nursery:
        crowd = Crowd(nursery, url)
        base = await crowd.open(sizes.churn_connected, prepare, time_limit=sizes.open_time_limit)
        if presence:
            await _settled(base, len(base), 30)
        await trio.sleep(0.5)
        seen = {id(h): h.presence for h in base}
        cpu0, began = cpu_seconds(pid), time.perf_counter()
        new = await crowd.open(sizes.churn_ops, prepare, time_limit=sizes.open_time_limit)
        joined_at = time.perf_counter()
        await crowd.close(new, code=1001)
        left_at = time.perf_counter()
        settled = await _settled(base, len(base), 30) if presence else True
        await trio.sleep(2 * interval + 0.2 if presence else 0.2)  # a last broadcast round, if any
        cpu1, ended = cpu_seconds(pid), time.perf_counter()
        messages = sum(h.presence for h in crowd.held) - sum(seen.values())
        per_base = [h.presence - seen[id(h)] for h in base]
        window = left_at - began
        crowd.abort_all()
        nursery.cancel_scope.cancel()
    peak = len(base) + len(new)
    rounds = window / interval + 2
    naive = sum(len(base) + i for i in range(1, len(new) + 1)) + sum(
        len(base) + i for i in range(len(new)))
    return {
        "connected": len(base), "joins": len(new), "leaves": len(new), "failures": crowd.failures,
        "cpu_s": cpu1 - cpu0, "cpu_ms_per_join_leave": (cpu1 - cpu0) / max(1, len(new)) * 1e3,
        "join_seconds": joined_at - began, "leave_seconds": left_at - joined_at,
        "wall_seconds": ended - began, "settled": settled,
        "presence_messages": messages,
        "presence_per_base_max": max(per_base, default=0),
        "presence_per_base_p50": percentile(per_base, 50),
        "rounds_bound": rounds, "message_bound": rounds * peak,
        "naive_messages": naive,
    }


# -- shared fan-out ----------------------------------------------------------------


def events_ok(front: Front) -> float:
    """``nowaki_events_total{outcome="ok"}`` from ``/__nowaki/metrics``."""
    text = httpx.get(front.url + "/__nowaki/metrics", timeout=30).text
    match = _EVENTS_OK.search(text)
    return float(match.group(1)) if match else 0.0


async def fanout(front: Front, sizes: Sizes) -> dict[str, Any]:
    """One shared island, ``viewers`` viewers plus a sender; one event; time until all have it."""
    text = join_text([page_tokens(front.url, "/shared")["Shared"]])
    sender = await WebSocket.connect(front.ws_url)
    await join(sender, text)
    async with trio.open_nursery() as nursery:
        crowd = Crowd(nursery, front.ws_url)
        viewers = await crowd.open(sizes.viewers, joiner(text), time_limit=sizes.open_time_limit)
        await _settled(viewers, len(viewers) + 1, 60)
        await _wait(lambda: all(h.patches for h in viewers), 30)  # each has the current HTML
        await trio.sleep(sizes.settle)
        before_ok = events_ok(front)
        counts = {id(h): len(h.patches) for h in viewers}
        start = time.perf_counter()
        await sender.send_text(event_text(0, "inc"))
        await next_reply(sender)
        replied = time.perf_counter() - start
        everyone = await _wait(lambda: all(len(h.patches) > counts[id(h)] for h in viewers), 30)
        arrivals = [h.patches[counts[id(h)]] - start for h in viewers if len(h.patches) > counts[id(h)]]
        await trio.sleep(0.5)
        after_ok = events_ok(front)
        crowd.abort_all()
        nursery.cancel_scope.cancel()
    sender.abort()
    return {
        "viewers": len(viewers), "failures": crowd.failures, "all_received": everyone,
        "received": len(arrivals), "sender_reply_ms": replied * 1e3,
        "all_ms": max(arrivals, default=0.0) * 1e3, "p50_ms": percentile(arrivals, 50) * 1e3,
        "renders": after_ok - before_ok,
    }
