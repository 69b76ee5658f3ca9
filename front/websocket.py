"""The I/O shell around LiveConnection: admit, read frames, one writer, close.

Sockets are accepted before any refusal so the browser can be told why with
an application close code (hypercorn turns a pre-accept close into an HTTP
403 that the browser sees only as 1006).
"""

from __future__ import annotations

import logging

import trio

from nowaki.front.http import Receive, Send
from nowaki.front.hub import Hub
from nowaki.front.live import Close, LiveConnection, Outgoing

log = logging.getLogger("nowaki.front")

OUTBOX_SIZE = 64
"""Frames queued for one client before producers wait for the socket."""

CLOSE_GOING_AWAY = 1001
CLOSE_IDLE = 4408
CLOSE_OVER_CAP = 4429


async def _writer(outbox: trio.MemoryReceiveChannel[Outgoing], send: Send, done: trio.Event) -> None:
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
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    outbox_send, outbox_receive = trio.open_memory_channel[Outgoing](OUTBOX_SIZE)
    writer_done = trio.Event()
    async with trio.open_nursery() as nursery:
        connection = LiveConnection(hub, outbox_send, nursery)
        if not hub.admit(connection):
            log.warning("event=refuse conn=%d reason=cap live_max=%s", connection.id, hub.settings.live_max)
            await send({"type": "websocket.close", "code": CLOSE_OVER_CAP, "reason": "over capacity"})
            return
        log.info("event=connect conn=%d", connection.id)
        reason = "client closed"
        try:
            nursery.start_soon(_writer, outbox_receive, send, writer_done)
            while True:
                with trio.move_on_after(hub.settings.idle_timeout) as idle:
                    message = await receive()
                if idle.cancelled_caught:
                    reason = "idle timeout"
                    connection.close(CLOSE_IDLE, "idle timeout")
                    with trio.move_on_after(1):
                        await writer_done.wait()
                    break
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] == "websocket.receive":
                    frame = message.get("text")
                    await connection.receive(frame if frame is not None else message.get("bytes", b""))
        finally:
            hub.release(connection)
            log.info("event=disconnect conn=%d reason=%r", connection.id, reason)
            nursery.cancel_scope.cancel()
