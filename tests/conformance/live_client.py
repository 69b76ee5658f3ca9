"""A wire B client over a real WebSocket: send frames, await replies, keep the client's HTML copy."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

WRAPPER = re.compile(
    r'<nowaki-live data-island="([^"]*)" data-token="([^"]*)">(.*?)</nowaki-live>', re.DOTALL
)


@dataclass(frozen=True)
class PageIsland:
    """One live island as served in a page."""

    name: str
    token: str
    html: str


def islands_in(page: str) -> list[PageIsland]:
    """Every ``<nowaki-live>`` wrapper in the page, in document order."""
    return [PageIsland(name, token, html) for name, token, html in WRAPPER.findall(page)]


async def get(front_url: str, path: str, **kwargs: Any) -> httpx.Response:
    """One HTTP GET against the front."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(front_url + path, **kwargs)


async def page_islands(front_url: str, path: str = "/") -> list[PageIsland]:
    """Fetch a page and return its live islands."""
    response = await get(front_url, path)
    assert response.status_code == 200, response.text
    return islands_in(response.text)


def utf16_splice(old: str, start: int, deleted: int, inserted: str) -> str:
    """Apply a splice the JavaScript way: offsets in UTF-16 code units."""
    units = old.encode("utf-16-le")
    assert start >= 0 and deleted >= 0 and 2 * (start + deleted) <= len(units), (start, deleted, len(units))
    head = units[: 2 * start].decode("utf-16-le")
    return head + inserted + units[2 * (start + deleted) :].decode("utf-16-le")


@dataclass
class LiveClient:
    """What the runtime does, minus the DOM: frames in and out, and each island's HTML copy."""

    ws: WebSocketConnection
    copies: dict[int, str] = field(default_factory=dict)
    backlog: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send an object as JSON, or a raw text or binary frame."""
        await self.ws.send_message(json.dumps(message) if isinstance(message, dict) else message)

    async def _read(self, timeout: float) -> dict[str, Any]:
        with trio.fail_after(timeout):
            while True:
                frame = await self.ws.get_message()
                assert isinstance(frame, str), f"the front sent a binary frame: {frame!r}"
                message = json.loads(frame)
                assert isinstance(message, dict) and isinstance(message.get("type"), str), frame
                if message["type"] == "presence":  # unsolicited; not what tests wait for
                    continue
                self.sizes.append(len(frame.encode()))
                return message

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message (backlog first), presence skipped."""
        if self.backlog:
            return self.backlog.pop(0)
        return await self._read(timeout)

    async def recv_where(self, want: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first message for which ``want(message)`` is true; others wait in the backlog."""
        for index, message in enumerate(self.backlog):
            if want(message):
                return self.backlog.pop(index)
        with trio.fail_after(timeout):
            while True:
                message = await self._read(timeout)
                if want(message):
                    return message
                self.backlog.append(message)

    async def reply_for(self, island_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """The next ``patch`` or ``error`` carrying ``island_id``, applied to the island's copy."""
        message = await self.recv_where(
            lambda m: m["type"] in ("patch", "error") and m.get("id") == island_id, timeout
        )
        if message["type"] == "patch":
            self.apply(message)
        return message

    async def join(
        self, islands: list[tuple[int, str]], render: bool | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Send ``join`` and return ``joined`` (errors for refused ids stay in the backlog)."""
        message: dict[str, Any] = {"type": "join", "islands": [list(pair) for pair in islands]}
        if render is not None:
            message["render"] = render
        await self.send(message)
        return await self.recv_where(lambda m: m["type"] == "joined", timeout)

    async def event(
        self, island_id: int, handler: str, payload: dict[str, Any] | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Send one event and return its reply."""
        message: dict[str, Any] = {"type": "event", "id": island_id, "handler": handler}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.reply_for(island_id, timeout)

    async def ping(self, timeout: float = 5.0) -> None:
        """A ping must be answered by a pong: proves the connection still works."""
        await self.send({"type": "ping"})
        message = await self.recv_where(lambda m: m["type"] == "pong", timeout)
        assert message == {"type": "pong"}

    def apply(self, patch: dict[str, Any]) -> None:
        """Bring the island's copy up to date as SPEC says the runtime does."""
        island_id = patch["id"]
        if "html" not in patch:
            assert "at" not in patch, patch
            assert island_id in self.copies, f"a no-change patch for island {island_id} without a baseline"
            return
        if "at" not in patch:
            self.copies[island_id] = patch["html"]
            return
        assert island_id in self.copies, f"a splice for island {island_id} without a baseline: {patch}"
        start, deleted = patch["at"]
        self.copies[island_id] = utf16_splice(self.copies[island_id], start, deleted, patch["html"])


@asynccontextmanager
async def connect(ws_url: str) -> AsyncIterator[LiveClient]:
    """A live socket to the front, closed normally at the end."""
    async with open_websocket_url(ws_url, connect_timeout=10, disconnect_timeout=5) as ws:
        yield LiveClient(ws)


async def http_response(stream: trio.SocketStream) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body: status line, headers, body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = await stream.receive_some(65536)
        assert chunk, f"connection closed mid-response: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        body += await stream.receive_some(65536)
    return status, headers, body
