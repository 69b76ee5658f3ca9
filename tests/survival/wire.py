"""A wire B client for the survival tests: what the runtime does, minus the DOM.

Every received patch is applied to the client's copy of its island as it
arrives (in order, as the runtime does), so tests can wait on the copies.
Messages are also kept in ``seen`` (presence excluded) for assertions.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

Message = dict[str, Any]

COUNT = re.compile(r"live: (-?\d+)")
TICKS = re.compile(r"ticks: <b>(\d+)</b>")


def utf16_splice(old: str, start: int, deleted: int, inserted: str) -> str:
    """Apply a splice with JavaScript's UTF-16 offsets."""
    units = old.encode("utf-16-le")
    assert start >= 0 and deleted >= 0 and 2 * (start + deleted) <= len(units), (start, deleted)
    head, tail = units[: 2 * start], units[2 * (start + deleted):]
    return head.decode("utf-16-le") + inserted + tail.decode("utf-16-le")


def count_of(html: str) -> int:
    """The number a fixture Counter shows."""
    match = COUNT.search(html)
    assert match, html
    return int(match.group(1))


@dataclass
class Client:
    """One live socket: messages in arrival order, island copies kept current."""

    ws: WebSocketConnection
    copies: dict[int, str] = field(default_factory=dict)
    seen: list[Message] = field(default_factory=list)
    unread: list[Message] = field(default_factory=list)
    history: dict[int, list[str]] = field(default_factory=dict)
    """Each island's copy after every patch that changed it, in order."""

    async def send(self, message: Message) -> None:
        """Send one JSON message."""
        await self.ws.send_message(json.dumps(message))

    async def _read_one(self) -> Message:
        frame = await self.ws.get_message()
        assert isinstance(frame, str), f"binary frame from the front: {frame!r}"
        message = json.loads(frame)
        assert isinstance(message, dict) and isinstance(message.get("type"), str), frame
        if message["type"] == "patch":
            self._apply(message)
        return message

    def _apply(self, patch: Message) -> None:
        island = patch["id"]
        if "html" not in patch:
            assert "at" not in patch, patch
            return
        if "at" not in patch:
            self.copies[island] = patch["html"]
        else:
            assert island in self.copies, f"a splice without a baseline: {patch}"
            start, deleted = patch["at"]
            self.copies[island] = utf16_splice(self.copies[island], start, deleted, patch["html"])
        self.history.setdefault(island, []).append(self.copies[island])

    async def next(self, want: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """The first unread message matching ``want`` (presence never matches unless asked)."""
        for index, message in enumerate(self.unread):
            if want(message):
                return self.unread.pop(index)
        with trio.fail_after(timeout):
            while True:
                message = await self._read_one()
                if message["type"] != "presence":
                    self.seen.append(message)
                if want(message):
                    return message
                self.unread.append(message)

    async def drain(self, seconds: float) -> list[Message]:
        """Read everything for ``seconds``; return what arrived (presence excluded)."""
        got: list[Message] = []
        with trio.move_on_after(seconds):
            while True:
                message = await self._read_one()
                if message["type"] != "presence":
                    self.seen.append(message)
                    got.append(message)
        self.unread.extend(got)
        return got

    async def until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Read messages until ``check()`` holds (e.g. on ``copies``)."""
        with trio.fail_after(timeout):
            while not check():
                message = await self._read_one()
                if message["type"] != "presence":
                    self.seen.append(message)
                    self.unread.append(message)

    async def join(
        self,
        islands: list[tuple[int, str]],
        *,
        render: bool | None = None,
        resume: str | None = None,
        snapshot: str | None = None,
    ) -> Message:
        """Send ``join``; return ``joined``."""
        message: Message = {"type": "join", "islands": [list(pair) for pair in islands]}
        if render is not None:
            message["render"] = render
        if resume is not None:
            message["resume"] = resume
        if snapshot is not None:
            message["snapshot"] = snapshot
        await self.send(message)
        return await self.next(lambda m: m["type"] == "joined")

    async def event(self, island: int, handler: str, payload: dict[str, str] | None = None,
                    timeout: float = 5.0) -> Message:
        """Send an event; return its reply (the next non-push patch or error for that id)."""
        message: Message = {"type": "event", "id": island, "handler": handler}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.reply(island, timeout)

    async def reply(self, island: int, timeout: float = 5.0) -> Message:
        """The next reply (no ``push``) for ``island``."""
        return await self.next(
            lambda m: m["type"] in ("patch", "error") and m.get("id") == island and not m.get("push"),
            timeout,
        )

    async def ping(self, timeout: float = 2.0) -> float:
        """Ping; return how long the pong took."""
        started = trio.current_time()
        await self.send({"type": "ping"})
        await self.next(lambda m: m["type"] == "pong", timeout)
        return trio.current_time() - started

    async def closed_code(self, timeout: float = 5.0) -> tuple[list[Message], int | None]:
        """Read until the socket closes; the messages read, and the close code."""
        got: list[Message] = []
        with trio.fail_after(timeout):
            try:
                while True:
                    message = await self._read_one()
                    if message["type"] != "presence":
                        self.seen.append(message)
                    got.append(message)
            except ConnectionClosed as exc:
                return got, exc.reason.code


@asynccontextmanager
async def connect(ws_url: str) -> AsyncIterator[Client]:
    """A live socket for the ``async with`` block; closing it tolerates an already dead connection."""
    async with open_websocket_url(ws_url, connect_timeout=10, disconnect_timeout=2) as ws:
        yield Client(ws)
