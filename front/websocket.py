"""The I/O shell around LiveConnection: accept, read frames, one writer, close.

Connections are accepted before any refusal so the browser can be told why
with an application close code (hypercorn turns a pre-accept close into an
HTTP 403 the browser only sees as 1006).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trio

from nowaki.front.http import Receive, Send
from nowaki.front.hub import Hub
from nowaki.front.live import LiveConnection

log = logging.getLogger("nowaki.front")

OUTBOX_SIZE = 64
"""Frames queued for one client before producers wait for the socket."""

CLOSE_IDLE = 4408


@dataclass(frozen=True, slots=True)
class Close:
    """Ask the writer to close the socket after what is queued."""

    code: int
    reason: str


async def _writer(
    outbox: trio.MemoryReceiveChannel[str | Close], send: Send, done: trio.Event
) -> None:
    try:
        async for item in outbox:
            if isinstance(item, Close):
                await send({"type": "websocket.close", "code": item.code, "reason": item.reason})
                return
            await send({"type": "websocket.send", "text": item})
    finally:
        done.set()


async def serve_live(hub: Hub, receive: Receive, send: Send) -> None:
    """Run one ``/__nowaki/live`` socket until the client leaves or is dropped."""
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    outbox_send, outbox_receive = trio.open_memory_channel[str | Close](OUTBOX_SIZE)
    async with trio.open_nursery() as nursery:
        connection = LiveConnection(hub, outbox_send, nursery)
        hub.connections[connection.id] = connection
        log.info("conn=%d connect", connection.id)
        reason = "closed by client"
        writer_done = trio.Event()
        try:
            nursery.start_soon(_writer, outbox_receive, send, writer_done)
            while True:
                with trio.move_on_after(hub.settings.idle_timeout) as idle:
                    message = await receive()
                if idle.cancelled_caught:
                    reason = "idle timeout"
                    await outbox_send.send(Close(CLOSE_IDLE, "idle timeout"))
                    with trio.move_on_after(1):
                        await writer_done.wait()
                    break
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] == "websocket.receive":
                    frame = message.get("text")
                    await connection.receive(frame if frame is not None else message.get("bytes", b""))
        finally:
            del hub.connections[connection.id]
            log.info("conn=%d disconnect (%s)", connection.id, reason)
            nursery.cancel_scope.cancel()
