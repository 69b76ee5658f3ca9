"""Small ASGI HTTP helpers: responses as plain functions over ``send``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None if it is longer than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    """First value of request header ``name`` (lower-case bytes), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
    head_only: bool = False,
) -> None:
    """Send a complete response."""
    all_headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if head_only else body})


async def respond_text(send: Send, status: int, text: str, head_only: bool = False) -> None:
    """A short plain-text response (errors, 404s)."""
    await respond(send, status, text.encode(), "text/plain; charset=utf-8", head_only=head_only)
