"""A minimal wire B client (JSON over a real WebSocket) for the service tests."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

_WRAPPER = re.compile(r'<nowaki-live data-island="([^"]*)" data-token="([^"]*)">')


async def page_tokens(url: str) -> list[tuple[str, str]]:
    """``(island, token)`` of every live island in the page at ``url``, in document order."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return _WRAPPER.findall(response.text)


async def get(url: str) -> httpx.Response:
    """One bounded HTTP GET."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


@dataclass
class Live:
    """One live socket: send objects, wait for the frames a test cares about."""

    ws: WebSocketConnection

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_message(json.dumps(message))

    async def recv_where(
        self, want: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first received object for which ``want`` is true (others are dropped)."""
        with trio.fail_after(timeout):
            while True:
                message = json.loads(await self.ws.get_message())
                assert isinstance(message, dict), message
                if want(message):
                    return message

    async def join(self, islands: list[tuple[int, str]]) -> dict[str, Any]:
        await self.send({"type": "join", "islands": [list(pair) for pair in islands]})
        return await self.recv_where(lambda m: m["type"] == "joined")

    async def event(self, island_id: int, handler: str, timeout: float = 10.0) -> dict[str, Any]:
        """Send one event; return its reply (``patch`` or ``error``)."""
        await self.send({"type": "event", "id": island_id, "handler": handler})
        return await self.recv_where(
            lambda m: m["type"] in ("patch", "error") and m.get("id") == island_id, timeout
        )

    async def close_code(self, timeout: float = 10.0) -> int | None:
        """Read until the server closes the socket; return its close code."""
        with trio.fail_after(timeout):
            try:
                while True:
                    await self.ws.get_message()
            except ConnectionClosed as closed:
                return closed.reason.code if closed.reason is not None else None


@asynccontextmanager
async def live(ws_url: str) -> AsyncIterator[Live]:
    """A live socket to the front (bounded connect and close)."""
    async with open_websocket_url(ws_url, connect_timeout=10, disconnect_timeout=5) as ws:
        yield Live(ws)
