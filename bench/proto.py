"""What the bench says on wire B, and the bench app's own HTML (for floors and wire-byte targets)."""

from __future__ import annotations

import json
import re
import runpy
from functools import cache
from typing import Any

import httpx

from bench.procs import BENCH_APP
from nowaki.protocol.browser_wire import encode_patch
from nowaki.protocol.diff import diff
from tests.support.rawws import WebSocket

_WRAPPER = re.compile(r'<nowaki-live data-island="([^"]+)" data-token="([^"]+)">')

PING = '{"type":"ping"}'


def page_tokens(url: str, path: str = "/") -> dict[str, str]:
    """Island name -> token of the first such island on one page view."""
    response = httpx.get(url + path, timeout=30)
    response.raise_for_status()
    tokens: dict[str, str] = {}
    for name, token in _WRAPPER.findall(response.text):
        tokens.setdefault(name, token)
    if not tokens:
        raise RuntimeError(f"no live island on {path}")
    return tokens


def join_text(tokens: list[str]) -> str:
    """``join`` of ``tokens`` as islands 0..n-1."""
    return json.dumps({"type": "join", "islands": [[i, t] for i, t in enumerate(tokens)]},
                      separators=(",", ":"))


def event_text(island_id: int, handler: str, payload: dict[str, str] | None = None) -> str:
    """One ``event``, in the runtime's shape (compact JSON)."""
    message: dict[str, Any] = {"type": "event", "id": island_id, "handler": handler}
    if payload is not None:
        message["payload"] = payload
    return json.dumps(message, separators=(",", ":"))


async def join(ws: WebSocket, text: str) -> dict[str, Any]:
    """Send a prepared ``join`` and return ``joined`` (presence skipped; an error raises)."""
    await ws.send_text(text)
    while True:
        payload = await ws.recv_bytes()
        if payload.startswith(b'{"type":"joined"'):
            joined: dict[str, Any] = json.loads(payload)
            return joined
        if payload.startswith(b'{"type":"error"'):
            raise RuntimeError(f"join refused: {payload[:300]!r}")


@cache
def island_module(name: str) -> dict[str, Any]:
    """The bench app's island module ``name`` (its globals), loaded here to compute expected HTML."""
    return runpy.run_path(str(BENCH_APP / "islands" / f"{name}.py"))


def counter_html(count: int) -> str:
    return str(island_module("Counter")["render"]({"count": count}))


def counter_reply(count: int = 1000) -> str:
    """nowaki's reply to ``inc`` when the counter goes from ``count`` to ``count + 1``."""
    change = diff(counter_html(count), counter_html(count + 1))
    assert change is not None
    start, deleted, inserted = change
    return encode_patch(0, inserted, (start, deleted))


def chat_item_html(message: dict[str, str]) -> str:
    """The HTML one chat message renders to (what appending it must cost on the wire)."""
    return str(island_module("Chat")["item"](message))
