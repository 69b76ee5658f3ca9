"""Bytes on the wire per event (counter, 1,000-row table, 200-message chat) and the runtime's size."""

from __future__ import annotations

import gzip
import json
from statistics import median
from typing import Any

import httpx

from bench.config import Sizes
from bench.load import next_reply
from bench.procs import Front
from bench.proto import chat_item_html, counter_html, event_text, join, page_tokens
from tests.support.rawws import WebSocket


async def _patches(front: Front, path: str, island: str, events: list[str]) -> list[tuple[int, int]]:
    """Join with ``render: true`` (the baseline), send ``events``; (frame, payload) bytes per reply."""
    token = page_tokens(front.url, path)[island]
    ws = await WebSocket.connect(front.ws_url)
    try:
        await join(ws, json.dumps({"type": "join", "islands": [[0, token]], "render": True}))
        await next_reply(ws)  # the full push render: now the front and we share a baseline
        sizes = []
        for text in events:
            await ws.send_text(text)
            reply = await next_reply(ws)
            if reply.get("push"):
                raise RuntimeError(f"unexpected push: {reply}")
            sizes.append((ws.frame_bytes, ws.payload_bytes))
        return sizes
    finally:
        ws.abort()


def _chat_message(i: int) -> dict[str, str]:
    return {"who": "bench", "text": f"hello from the bench #{i} <3 & good night"}


async def measure(front: Front, sizes: Sizes) -> dict[str, Any]:
    """Frame bytes (WebSocket header + JSON payload) of each event's reply, once baselines exist."""
    n = sizes.wire_events
    counter = await _patches(front, "/", "Counter", [event_text(0, "inc")] * n)
    table = await _patches(front, "/table", "Table", [event_text(0, "bump")] * n)
    messages = [_chat_message(i) for i in range(n)]
    chat = await _patches(front, "/chat", "Chat", [event_text(0, "say", m) for m in messages])
    items = [len(chat_item_html(m).encode()) for m in messages]
    limits = [1.2 * size + 64 for size in items]
    return {
        "counter": {"frame_bytes_median": median(f for f, _ in counter),
                    "frame_bytes_max": max(f for f, _ in counter),
                    "changed_bytes": len(str(n + 1)), "html_bytes": len(counter_html(n).encode())},
        "table": {"frame_bytes_median": median(f for f, _ in table),
                  "frame_bytes_max": max(f for f, _ in table), "changed_bytes": len(str(n))},
        "chat": {"frame_bytes_median": median(f for f, _ in chat),
                 "frame_bytes_max": max(f for f, _ in chat),
                 "item_bytes_median": median(items),
                 "worst_vs_limit": max(f / lim for (f, _), lim in zip(chat, limits, strict=True)),
                 "first_frame_bytes": chat[0][0], "first_item_bytes": items[0],
                 "first_limit": limits[0]},
    }


def runtime(front: Front) -> dict[str, Any]:
    """The served ``/__nowaki/runtime.js``: plain bytes, served gzip bytes, and gzip -9 of it here."""
    plain = httpx.get(front.url + "/__nowaki/runtime.js", headers={"accept-encoding": "identity"},
                      timeout=30)
    with httpx.stream("GET", front.url + "/__nowaki/runtime.js", headers={"accept-encoding": "gzip"},
                      timeout=30) as response:
        served = b"".join(response.iter_raw())
        encoding = response.headers.get("content-encoding")
    body = plain.content
    lines = body.count(b"\n") + 1
    return {
        "plain_bytes": len(body),
        "served_gzip_bytes": len(served) if encoding == "gzip" else None,
        "gzip9_bytes": len(gzip.compress(body, compresslevel=9, mtime=0)),
        "lines": lines,
        "minified": lines <= 3 and body.count(b"  ") < len(body) / 200,
    }
