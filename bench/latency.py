"""Event round trip and throughput: the echo floor, the chain floor and nowaki, interleaved.

All three servers run at once; the harness measures them in alternating
blocks (echo, chain, ours, then again in rotated order), so background load on
a shared machine falls on every side alike. Each side's server CPU per message
is read from /proc for the blocks it was measured in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from bench.config import Sizes
from bench.load import next_reply, round_trips, throughput
from bench.procs import cpu_seconds, self_cpu_seconds
from bench.proto import event_text, join, join_text
from bench.stats import summary_ms
from tests.support.rawws import WebSocket

INC = event_text(0, "inc")
INC_DEC = (INC, event_text(0, "dec"))
"""Alternating handlers: every predicted reply is wrong (the worst case for prediction)."""


@dataclass
class Side:
    """One server under test: where to connect, how to get a socket ready, which PIDs to charge."""

    name: str
    url: str
    pids: dict[str, int]
    prepare: Callable[[WebSocket], Awaitable[None]]
    throughput: bool = True  # also measured under load (diagnostic sides may skip it)
    requests: tuple[str, ...] = (INC,)
    rtt: list[float] = field(default_factory=list)
    rtt_cpu: dict[str, float] = field(default_factory=dict)
    client_cpu: float = 0.0
    completed: int = 0
    seconds: float = 0.0
    thr_latencies: list[float] = field(default_factory=list)
    thr_cpu: dict[str, float] = field(default_factory=dict)
    thr_client_cpu: float = 0.0

    def cpu(self) -> dict[str, float]:
        return {role: cpu_seconds(pid) for role, pid in self.pids.items()}

    async def socket(self) -> WebSocket:
        ws = await WebSocket.connect(self.url, timeout=30)
        with trio.fail_after(30):
            await self.prepare(ws)
        return ws


async def _nothing(ws: WebSocket) -> None:
    return None


def floor_side(name: str, url: str, pids: dict[str, int], throughput: bool = True) -> Side:
    return Side(name, url, pids, _nothing, throughput)


def ours_side(
    url: str, pids: dict[str, int], counter_token: str, name: str = "ours",
    requests: tuple[str, ...] = (INC,), throughput: bool = True,
) -> Side:
    text = join_text([counter_token])

    async def prepare(ws: WebSocket) -> None:
        await join(ws, text)

    return Side(name, url, pids, prepare, throughput, requests=requests)


async def _open(side: Side, count: int, into: list[WebSocket]) -> None:
    """``count`` ready sockets of ``side`` into ``into`` (the caller aborts them, even on failure)."""

    async def one() -> None:
        into.append(await side.socket())

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(one)


def _add(total: dict[str, float], before: dict[str, float], after: dict[str, float]) -> None:
    for role in after:
        total[role] = total.get(role, 0.0) + after[role] - before[role]


async def measure(sides: list[Side], sizes: Sizes) -> dict[str, Any]:
    """Round trips (sequential, one connection each) then throughput (``sizes.clients`` each)."""
    sockets = {side.name: await side.socket() for side in sides}
    for side in sides:  # warm-up: first events, caches, the first (full) patch
        await round_trips(sockets[side.name], side.requests, sizes.rtt_warmup, 30)
    per_block = max(1, sizes.rtt_events // sizes.rtt_blocks)
    for block in range(sizes.rtt_blocks):
        order = sides[block % len(sides):] + sides[:block % len(sides)]
        for side in order:
            before, client = side.cpu(), self_cpu_seconds()
            side.rtt += await round_trips(sockets[side.name], side.requests, per_block,
                                          sizes.rtt_time_limit / sizes.rtt_blocks)
            _add(side.rtt_cpu, before, side.cpu())
            side.client_cpu += self_cpu_seconds() - client
    for ws in sockets.values():
        await ws.close()

    loaded = [side for side in sides if side.throughput]
    for block in range(sizes.thr_blocks):
        order = loaded[block % len(loaded):] + loaded[:block % len(loaded)]
        for side in order:
            crowd: list[WebSocket] = []
            try:
                await _open(side, sizes.clients, crowd)
                for ws in crowd:  # one event each first: every island has its baseline
                    await ws.send_text(INC)
                    await next_reply(ws)
                before, client = side.cpu(), self_cpu_seconds()
                result = await throughput(crowd, INC, sizes.thr_seconds, sizes.thr_warmup)
                _add(side.thr_cpu, before, side.cpu())
                side.thr_client_cpu += self_cpu_seconds() - client
                side.completed += result.completed
                side.seconds += result.seconds
                side.thr_latencies += result.latencies
            finally:
                for ws in crowd:
                    ws.abort()
            await trio.sleep(0.3)  # let the server reap the sockets before the next side
    return {side.name: _report(side, sizes) for side in sides}


def _report(side: Side, sizes: Sizes) -> dict[str, Any]:
    n = len(side.rtt) or 1
    done = side.completed or 1
    # CPU of the thr window includes the warm-up; charge it to the completed messages pro rata.
    share = side.seconds / (side.seconds + sizes.thr_warmup * sizes.thr_blocks) if side.seconds else 1.0
    return {
        "rtt": summary_ms(side.rtt),
        "rtt_cpu_us_per_msg": {role: s / n * 1e6 for role, s in side.rtt_cpu.items()},
        "rtt_client_cpu_us_per_msg": side.client_cpu / n * 1e6,
        "throughput_per_s": side.completed / side.seconds if side.seconds else 0.0,
        "throughput_completed": side.completed,
        "throughput_seconds": side.seconds,
        "throughput_clients": sizes.clients,
        "throughput_latency": summary_ms(side.thr_latencies),
        "thr_cpu_us_per_msg": {role: s * share / done * 1e6 for role, s in side.thr_cpu.items()},
        "thr_client_cpu_us_per_msg": side.thr_client_cpu * share / done * 1e6,
    }
