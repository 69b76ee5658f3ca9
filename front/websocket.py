"""``/__nowaki/live`` through hypercorn's ASGI WebSocket: the fallback path.

The listener serves live sockets itself (``front/live_socket.py``); this path
only runs when an upgrade arrives on a connection hypercorn already serves (a
proxy reusing a keep-alive connection). Sockets are accepted before any
refusal so the browser can be told why with an application close code
(hypercorn turns a pre-accept close into an HTTP 403 the browser sees as 1006).
"""

from __future__ import annotations

from collections import deque

import trio

from nowaki.front.http import Receive, Scope, Send, header
from nowaki.front.hub import Hub
from nowaki.front.live import CLOSE_IDLE, HIGH_WATER, SLOW_CLIENT_GRACE, LiveConnection
from nowaki.front.origin import origin_allowed


class AsgiSocket:
    """A ``Transport`` over ASGI ``send``: frames queue here and one writer task sends them."""

    def __init__(self, send: Send, scope: trio.CancelScope) -> None:
        self.backlog = 0
        self._send = send
        self._scope = scope
        self._queue: deque[str | tuple[int, str]] = deque()
        self._wake = trio.Event()
        self._drained = trio.Event()
        self.closing = False

    def send_text(self, text: str) -> None:
        if not self.closing:
            self._queue.append(text)
            self.backlog += len(text)
            self._wake.set()

    def close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            self._queue.append((code, reason))
            self._wake.set()

    def abort(self) -> None:
        self._scope.cancel()

    async def write(self) -> None:
        """Run until the close frame is sent: send what is queued, in order."""
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self._queue:
                item = self._queue.popleft()
                if isinstance(item, tuple):
                    await self._send({"type": "websocket.close", "code": item[0], "reason": item[1]})
                    self._scope.cancel()
                    return
                await self._send({"type": "websocket.send", "text": item})
                self.backlog -= len(item)
                if self.backlog <= HIGH_WATER // 2:
                    self._drained.set()

    async def wait_drained(self) -> bool:
        with trio.move_on_after(SLOW_CLIENT_GRACE):
            while self.backlog > HIGH_WATER // 2:
                self._drained = trio.Event()
                await self._drained.wait()
            return True
        return False


async def serve_live(hub: Hub, scope: Scope, receive: Receive, send: Send) -> None:
    """Run one ``/__nowaki/live`` socket until the client leaves or is dropped."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    address = (scope.get("client") or ("", 0))[0]
    async with trio.open_nursery() as nursery:
        transport = AsgiSocket(send, nursery.cancel_scope)
        nursery.start_soon(transport.write)
        connection = LiveConnection(hub, transport, address)
        if not origin_allowed(header(scope, b"origin"), header(scope, b"host"), hub.settings.allowed_origins):
            connection.refuse_origin(header(scope, b"origin"))
            return
        if not connection.admit():
            return
        reason = "closed by the server"
        try:
            timeout = hub.settings.idle_timeout
            with trio.CancelScope(deadline=trio.current_time() + timeout) as idle:
                while True:
                    if transport.backlog > HIGH_WATER and not await transport.wait_drained():
                        connection.slow_client()
                        reason = "slow client"
                        transport.abort()
                        break
                    message = await receive()
                    idle.deadline = trio.current_time() + timeout
                    if message["type"] == "websocket.disconnect":
                        reason = "client closed"
                        break
                    if message["type"] == "websocket.receive":
                        frame = message.get("text")
                        connection.receive(frame if frame is not None else message.get("bytes", b""))
            if idle.cancelled_caught:
                reason = "idle timeout"
                connection.close(CLOSE_IDLE, "idle timeout")
        finally:
            connection.closed(reason)
            if transport.closing:  # the writer ends after the close frame, within a second
                nursery.cancel_scope.deadline = min(nursery.cancel_scope.deadline, trio.current_time() + 1)
            else:
                nursery.cancel_scope.cancel()
