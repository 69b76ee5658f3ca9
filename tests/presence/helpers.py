"""Shared pieces for the presence tests: tokens, health polling, recorded live clients."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, connect_websocket_url

from tests.support import Front
from tests.support.rawws import Closed, RawWebSocket

TOKEN = re.compile(r'data-token="([^"]+)"')
POLL = 0.01
PRESENCE_INTERVAL = 0.1
"""NOWAKI_PRESENCE_INTERVAL of the shared ``presence_front`` (see conftest.py)."""


def measure(label: str, value: str) -> None:
    """Print one measurement so it shows with ``pytest -s``."""
    print(f"\nMEASURE: {label}: {value}", flush=True)


async def page_tokens(url: str, path: str = "/") -> list[str]:
    """The island tokens of one page view (one GET)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url + path)
    assert response.status_code == 200, response.text
    tokens = TOKEN.findall(response.text)
    assert tokens, f"no island tokens on {path}"
    return tokens


async def health(url: str) -> dict[str, Any]:
    """``/__nowaki/health`` as JSON."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url + "/__nowaki/health")
    body = response.json()
    assert isinstance(body, dict), body
    return body


async def wait_live(url: str, count: int, timeout: float = 5.0) -> float:
    """Poll health until ``live == count``; return the seconds it took (fails after ``timeout``)."""
    start = trio.current_time()
    last: dict[str, Any] = {}
    try:
        with trio.fail_after(timeout):
            while True:
                last = await health(url)
                if last["live"] == count:
                    return trio.current_time() - start
                await trio.sleep(0.02)
    except trio.TooSlowError:
        raise AssertionError(f"health live never became {count} in {timeout} s; last: {last}") from None


async def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; return the seconds it took, or fail naming ``what``."""
    start = trio.current_time()
    try:
        with trio.fail_after(timeout):
            while not check():
                await trio.sleep(POLL)
    except trio.TooSlowError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None
    return trio.current_time() - start


async def until_closed(ws: RawWebSocket, timeout: float = 5.0) -> tuple[Closed, list[str]]:
    """The front's close of ``ws`` and every message read before it (fails after ``timeout``)."""
    received: list[str] = []
    with trio.fail_after(timeout), pytest.raises(Closed) as closed:
        while True:
            received.append(await ws.recv())
    return closed.value, received


@contextmanager
def log_on_failure(front: Front, lines: int = 60) -> Iterator[None]:
    """Print the tail of the front's log if the block fails (CI has nothing else to go on)."""
    try:
        yield
    except BaseException:
        tail = "\n".join(front.log().splitlines()[-lines:])
        print(f"\n--- last {lines} lines of the front's log ---\n{tail}", flush=True)
        raise


@dataclass
class Peer:
    """A trio-websocket client whose every message is recorded by a reader task."""

    ws: WebSocketConnection
    messages: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    closed_at: float | None = None

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.ws.get_message()
                assert isinstance(frame, str), f"binary frame from the front: {frame!r}"
                self.messages.append(json.loads(frame))
                self.times.append(trio.current_time())
        except ConnectionClosed as exc:
            if exc.reason is not None:
                self.close_code, self.close_reason = exc.reason.code, exc.reason.reason
            self.closed_at = trio.current_time()

    @property
    def presence(self) -> list[int]:
        """Every presence count received, in order."""
        return [m["count"] for m in self.messages if m["type"] == "presence"]

    @property
    def last_presence(self) -> int | None:
        counts = self.presence
        return counts[-1] if counts else None

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_message(json.dumps(message))

    async def join(self, tokens: list[str], timeout: float = 5.0) -> dict[str, Any]:
        """Join ``tokens`` as islands 0..n-1 and return the ``joined`` reply."""
        before = len(self.of_type("joined"))
        await self.send({"type": "join", "islands": [[i, t] for i, t in enumerate(tokens)]})
        await wait_until(lambda: len(self.of_type("joined")) > before, timeout, "joined")
        return self.of_type("joined")[before]

    async def wait_presence(self, count: int, timeout: float) -> float:
        """Wait until the last presence count received is ``count``; return the seconds it took."""
        return await wait_until(lambda: self.last_presence == count, timeout,
                                f"presence {count} (got {self.presence[-5:]})")

    async def wait_closed(self, timeout: float) -> float:
        return await wait_until(lambda: self.closed_at is not None, timeout, "the front to close")

    async def close(self, timeout: float = 5.0) -> None:
        """Normal close (1000), handshake bounded by ``timeout``."""
        with trio.move_on_after(timeout):
            await self.ws.aclose()


class Crowd:
    """Many Peers in one nursery; leaving the block closes them all (bounded) and stops the readers."""

    def __init__(self, nursery: trio.Nursery, ws_url: str) -> None:
        self.nursery = nursery
        self.ws_url = ws_url
        self.peers: list[Peer] = []

    async def open(self, timeout: float = 10.0) -> Peer:
        with trio.fail_after(timeout):
            ws = await connect_websocket_url(self.nursery, self.ws_url, message_queue_size=64)
        peer = Peer(ws)
        self.peers.append(peer)
        self.nursery.start_soon(peer._read)
        return peer

    async def open_many(self, count: int, concurrency: int = 50, timeout: float = 30.0) -> list[Peer]:
        """Open ``count`` peers, at most ``concurrency`` handshakes at a time."""
        opened: list[Peer] = []
        limit = trio.Semaphore(concurrency)

        async def one() -> None:
            async with limit:
                opened.append(await self.open())

        with trio.fail_after(timeout):
            async with trio.open_nursery() as nursery:
                for _ in range(count):
                    nursery.start_soon(one)
        return opened

    async def close_all(self, timeout: float = 10.0) -> None:
        with trio.move_on_after(timeout):
            async with trio.open_nursery() as nursery:
                for peer in self.peers:
                    if peer.closed_at is None:
                        nursery.start_soon(peer.close)


@asynccontextmanager
async def crowd(ws_url: str) -> AsyncIterator[Crowd]:
    """A Crowd for one test: every peer closed and every reader stopped at the end."""
    try:
        async with trio.open_nursery() as nursery:
            group = Crowd(nursery, ws_url)
            try:
                yield group
            finally:
                await group.close_all()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group_error:  # show the test's own failure, not a nursery's wrapper
        leaves = [e for e in group_error.exceptions if not isinstance(e, trio.Cancelled)]
        if len(leaves) == 1:
            raise leaves[0] from None
        raise
