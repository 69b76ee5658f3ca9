"""``/__nowaki/live`` served straight on the TCP socket: handshake, frames, a send buffer.

Why not through hypercorn: there every message crosses hypercorn's reader
task, its ASGI queue and a send lock before our code sees it, and every idle
socket carries hypercorn's per-connection tasks. Here one task per socket
reads and parses (``front/wsframes.py``); frames leave from whichever task
made them, with no hop, unless the kernel buffer is full, when a flusher task
drains what is left in order. ``front/listener.py`` hands this module the sockets whose first
request line asks for the live path; hypercorn serves everything else, and
still serves a live socket that arrives on a reused keep-alive connection
(``front/websocket.py``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections import deque
from dataclasses import dataclass

import h11
import trio
from wsproto.utilities import generate_accept_token

from nowaki.front.hub import Hub
from nowaki.front.live import CLOSE_IDLE, HIGH_WATER, SLOW_CLIENT_GRACE, LiveConnection
from nowaki.front.origin import origin_allowed
from nowaki.front.wsframes import (
    BINARY,
    CLOSE,
    FAILED,
    PING,
    PONG,
    TEXT,
    FrameReader,
    encode,
    encode_close,
    encode_text,
)

log = logging.getLogger("nowaki.front")

HEAD_MAX = 16 * 1024
"""Bytes an upgrade request's head may take."""

HANDSHAKE_TIMEOUT = 10.0
CLOSE_LINGER = 1.0
"""Seconds a closing socket waits for its last bytes to leave and the client's close."""

READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What the front needs from a WebSocket upgrade request."""

    key: bytes
    origin: str | None
    host: str | None


class HandshakeError(Exception):
    """The request is not a WebSocket upgrade we accept; ``status`` says how to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_upgrade(head: bytes) -> Upgrade:
    """Check a request head (through its blank line) is a version-13 upgrade to the live path."""
    parser = h11.Connection(h11.SERVER)
    parser.receive_data(head)
    try:
        request = parser.next_event()
    except h11.RemoteProtocolError as exc:
        raise HandshakeError(400, f"malformed request: {exc}") from exc
    if not isinstance(request, h11.Request):
        raise HandshakeError(400, "incomplete request head")
    headers: dict[bytes, bytes] = {}
    for name, value in request.headers:
        headers[name] = headers[name] + b", " + value if name in headers else value
    connection = {token.strip().lower() for token in headers.get(b"connection", b"").split(b",")}
    if request.method != b"GET" or b"websocket" not in headers.get(b"upgrade", b"").lower() \
            or b"upgrade" not in connection:
        raise HandshakeError(426, "this path only speaks WebSocket")
    if headers.get(b"sec-websocket-version") != b"13":
        raise HandshakeError(426, "WebSocket version 13 only")
    key = headers.get(b"sec-websocket-key")
    if not key:
        raise HandshakeError(400, "no Sec-WebSocket-Key")
    origin, host = headers.get(b"origin"), headers.get(b"host")
    return Upgrade(key, origin.decode("latin-1") if origin is not None else None,
                   host.decode("latin-1") if host is not None else None)


def accept_response(key: bytes) -> bytes:
    """The 101 answer; no subprotocol, no extensions (the runtime asks for neither)."""
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + generate_accept_token(key) + b"\r\n\r\n")


def refusal_response(error: HandshakeError) -> bytes:
    body = f"{error}\n".encode()
    reason = {400: b"Bad Request", 426: b"Upgrade Required"}[error.status]
    extra = b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" if error.status == 426 else b""
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s"
            b"Connection: close\r\n\r\n%s") % (error.status, reason, len(body), extra, body)


async def receive_some(sock: socket.socket) -> bytes:
    """The bytes the kernel has for ``sock`` (b"" at end of stream), waiting until there are some.

    Always a checkpoint: a client that keeps its socket readable cannot starve the others.
    """
    try:
        data = sock.recv(READ_SIZE)
    except (BlockingIOError, InterruptedError):
        pass
    else:
        await trio.lowlevel.checkpoint()
        return data
    while True:
        await trio.lowlevel.wait_readable(sock)
        try:
            return sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            continue


async def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head and whatever followed it; HandshakeError if it is too long or cut."""
    buffer = b""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if len(buffer) > HEAD_MAX:
            raise HandshakeError(400, "request head too long")
        data = await receive_some(sock)
        if not data:
            raise HandshakeError(400, "connection closed during the handshake")
        buffer += data
    return buffer[: end + 4], buffer[end + 4:]


class LiveSocket:
    """One accepted WebSocket: frames parsed as they arrive, writes straight to the socket.

    ``send_text`` writes at once when nothing is waiting; what the kernel does
    not take joins ``pending`` and a flusher task (in ``nursery``) sends it in
    order. ``backlog`` counts those bytes: the reader stops reading while it is
    over HIGH_WATER, and drops a client that keeps it there SLOW_CLIENT_GRACE.
    """

    def __init__(self, sock: socket.socket, nursery: trio.Nursery, trailing: bytes, frame_max: int) -> None:
        self.sock = sock
        self.frames = FrameReader(frame_max)
        self._trailing = trailing
        self.backlog = 0
        self.scope = trio.CancelScope()
        """The reader's scope: cancelled by close and abort."""
        self.closing = False
        self._nursery = nursery
        self._pending: deque[bytes] = deque()
        self._drained: trio.Event | None = None
        self._broken = False

    # -- sending -------------------------------------------------------------

    def send_text(self, text: str) -> None:
        if not self.closing:
            self._write(encode_text(text))

    def close(self, code: int, reason: str) -> None:
        """Close after everything already sent; the reader stops."""
        if not self.closing:
            self._write(encode_close(code, reason))
            self.closing = True
        self.scope.cancel()

    def abort(self) -> None:
        """Stop at once: no close frame, pending bytes dropped."""
        self.closing = self._broken = True
        self.scope.cancel()

    def _write(self, data: bytes) -> None:
        if self._broken:
            return
        if not self._pending:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.abort()
                return
            if sent == len(data):
                return
            data = data[sent:]
            self._nursery.start_soon(self._flush)
        self._pending.append(data)
        self.backlog += len(data)

    async def _flush(self) -> None:
        pending = self._pending
        try:
            while pending and not self._broken:
                await trio.lowlevel.wait_writable(self.sock)
                data = b"".join(pending)
                pending.clear()
                try:
                    sent = self.sock.send(data)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                if sent < len(data):
                    pending.append(data[sent:])
                self.backlog = len(data) - sent
                if self._drained is not None and self.backlog <= HIGH_WATER // 2:
                    self._drained.set()
        except (OSError, trio.ClosedResourceError):
            self.abort()
        if self._drained is not None:
            self._drained.set()

    async def wait_drained(self) -> bool:
        """Wait for the backlog to fall to half of HIGH_WATER; False after SLOW_CLIENT_GRACE."""
        self._drained = trio.Event()
        try:
            with trio.move_on_after(SLOW_CLIENT_GRACE):
                while self.backlog > HIGH_WATER // 2 and not self._broken:
                    await self._drained.wait()
                    self._drained = trio.Event()
                return not self._broken
            return False
        finally:
            self._drained = None

    # -- reading ---------------------------------------------------------------

    async def run(self, connection: LiveConnection, idle_timeout: float) -> str:
        """Read frames and hand whole messages to ``connection``; say why it ended."""
        reader = self.frames
        events = reader.feed(self._trailing)
        with self.scope:
            idle = trio.CancelScope(deadline=trio.current_time() + idle_timeout)
            with idle:
                while True:
                    if self.backlog > HIGH_WATER and not await self.wait_drained():
                        connection.slow_client()
                        self.abort()
                        return "slow client"
                    for opcode, value in events:
                        if opcode in (TEXT, BINARY):
                            idle.deadline = trio.current_time() + idle_timeout
                            connection.receive(value)
                        elif opcode == PING:
                            self._write(encode(PONG, value))
                        elif opcode == CLOSE:
                            if not self.closing:
                                self._write(encode_close(value[0]))
                                self.closing = True
                            return "client closed"
                        elif opcode == FAILED:
                            self.close(*value)
                            return f"protocol error: {value[1]}"
                    try:
                        data = await receive_some(self.sock)
                    except OSError as exc:  # reset by the peer, say
                        self.closing = True
                        return f"connection lost: {exc.strerror or exc}"
                    if not data:
                        self.closing = True
                        return "connection lost"
                    events = reader.feed(data)
            if idle.cancelled_caught:
                self.close(CLOSE_IDLE, "idle timeout")
                return "idle timeout"
        return "closed by the server"

    async def finish(self) -> None:
        """Let queued bytes leave, half-close, read until the client closes too (bounded)."""
        sock = self.sock
        with trio.move_on_after(CLOSE_LINGER):
            while self._pending and not self._broken:
                self._drained = trio.Event()
                await self._drained.wait()
            if not self._broken:
                try:
                    sock.shutdown(socket.SHUT_WR)
                    while await receive_some(sock):
                        pass  # unread bytes at close() would make the kernel reset the connection
                except OSError:
                    pass
        self._broken = True
        trio.lowlevel.notify_closing(sock)
        sock.close()


async def serve_socket(hub: Hub, sock: socket.socket, address: str, nursery: trio.Nursery) -> None:
    """Run one live socket from its upgrade request until it closes."""
    try:
        with trio.fail_after(HANDSHAKE_TIMEOUT):
            head, trailing = await read_head(sock)
        upgrade = parse_upgrade(head)
    except HandshakeError as exc:
        with contextlib.suppress(OSError):
            sock.send(refusal_response(exc))
        trio.lowlevel.notify_closing(sock)
        sock.close()
        return
    except (trio.TooSlowError, OSError):
        trio.lowlevel.notify_closing(sock)
        sock.close()
        return
    try:
        sock.send(accept_response(upgrade.key))  # a fresh socket's buffer takes these 130 bytes
    except OSError:
        trio.lowlevel.notify_closing(sock)
        sock.close()
        return
    live = LiveSocket(sock, nursery, trailing, hub.settings.frame_max)
    connection = LiveConnection(hub, live, address)
    try:
        if not origin_allowed(upgrade.origin, upgrade.host, hub.settings.allowed_origins):
            connection.refuse_origin(upgrade.origin)
            return
        if not connection.admit():
            return
        reason = "closed by the server"
        try:
            reason = await live.run(connection, hub.settings.idle_timeout)
        finally:
            connection.closed(reason)
    finally:
        with trio.CancelScope(shield=True):
            await live.finish()
