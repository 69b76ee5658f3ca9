"""The I/O shell around LiveConnection: admit, read frames, one writer, close.

Sockets are accepted before any refusal so the browser can be told why with
an application close code (hypercorn turns a pre-accept close into an HTTP
403 that the browser sees only as 1006).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import trio

from nowaki.front.http import Receive, Scope, Send, header
from nowaki.front.hub import Hub
from nowaki.front.live import OUTBOX_FRAMES, Close, LiveConnection, Outgoing

log = logging.getLogger("nowaki.front")

CLOSE_GOING_AWAY = 1001
CLOSE_ORIGIN = 4403
CLOSE_IDLE = 4408
CLOSE_OVER_CAP = 4429

_REFUSALS = {
    "cap": "over capacity",
    "per_ip": "too many connections from this address",
}


def origin_allowed(scope: Scope, allowed: frozenset[str]) -> bool:
    """Same host as the request (any scheme), or listed in ``NOWAKI_ALLOWED_ORIGINS``.

    No Origin header at all is allowed: browsers always send one on a
    WebSocket, so its absence means a non-browser client, which could forge
    any Origin anyway; the check exists to stop other sites' pages.
    """
    origin = header(scope, b"origin")
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return True
    host = (header(scope, b"host") or "").lower()
    return bool(host) and urlsplit(origin).netloc == host


async def _writer(
    connection: LiveConnection, outbox: trio.MemoryReceiveChannel[Outgoing], send: Send, done: trio.Event
) -> None:
    """Send what producers queued, in order, sharing the socket lock with direct sends.

    The lock is taken once per batch: everything already queued goes out
    under it, so a burst (presence, shared fan-out) costs one lock round.
    """
    try:
        async for first in outbox:
            async with connection.send_lock:
                item: Outgoing | None = first
                while item is not None:
                    if isinstance(item, Close):
                        await send({"type": "websocket.close", "code": item.code, "reason": item.reason})
                        return
                    await send({"type": "websocket.send", "text": item})
                    connection.queued -= 1
                    try:
                        item = outbox.receive_nowait()
                    except trio.WouldBlock:
                        item = None
    finally:
        done.set()


async def serve_live(hub: Hub, scope: Scope, receive: Receive, send: Send) -> None:
    """Run one ``/__nowaki/live`` socket until the client leaves or is dropped."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    address = (scope.get("client") or ("", 0))[0]
    outbox_send, outbox_receive = trio.open_memory_channel[Outgoing](OUTBOX_FRAMES)
    writer_done = trio.Event()
    async with trio.open_nursery() as nursery:
        async def transmit(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        connection = LiveConnection(hub, outbox_send, nursery, address, transmit)
        if not origin_allowed(scope, hub.settings.allowed_origins):
            log.warning("event=refuse conn=%d reason=origin origin=%r", connection.id,
                        header(scope, b"origin"))
            hub.metrics.refused.labels("origin").inc()
            await send({"type": "websocket.close", "code": CLOSE_ORIGIN, "reason": "origin not allowed"})
            return
        refusal = hub.admit(connection)
        if refusal is not None:
            log.warning("event=refuse conn=%d reason=%s address=%s", connection.id, refusal, address)
            await send({"type": "websocket.close", "code": CLOSE_OVER_CAP, "reason": _REFUSALS[refusal]})
            return
        log.info("event=connect conn=%d address=%s", connection.id, address)
        reason = "client closed"
        try:
            nursery.start_soon(_writer, connection, outbox_receive, send, writer_done)
            timeout = hub.settings.idle_timeout
            # One scope for the connection's life, its deadline pushed on by every
            # message: cheaper than a new timeout scope per frame.
            with trio.CancelScope(deadline=trio.current_time() + timeout) as idle:
                while True:
                    message = await receive()
                    idle.deadline = trio.current_time() + timeout
                    if message["type"] == "websocket.disconnect":
                        break
                    if message["type"] == "websocket.receive":
                        frame = message.get("text")
                        await connection.receive(frame if frame is not None else message.get("bytes", b""))
            if idle.cancelled_caught:
                reason = "idle timeout"
                connection.close(CLOSE_IDLE, "idle timeout")
                with trio.move_on_after(1):
                    await writer_done.wait()
        finally:
            connection.closed()
            hub.release(connection)
            log.info("event=disconnect conn=%d reason=%r", connection.id, reason)
            nursery.cancel_scope.cancel()
