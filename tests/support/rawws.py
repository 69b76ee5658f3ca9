"""Raw RFC 6455 WebSocket clients (client side only), for the tests and the bench alike.

One upgrade and one frame encoder serve three clients:

- ``WebSocket``: the bench's lean client on a trio socket, light enough for
  5,000 connections. Its per-message paths (``send_text``, ``recv_bytes``
  and the ``frame_bytes``/``payload_bytes`` counts) are what every benchmark
  ratio includes on both sides, so they stay as cheap as they are: no checks
  added there.
- ``RawWebSocket``: the tests' strict client on the same base. It asserts
  what the server sends (unmasked frames, text only), keeps fragments and the
  close reason, echoes the server's close, and can misbehave on purpose: stop
  calling ``recv`` and the peer is half-open; ``abort`` drops TCP with no close.
- ``BlockingWebSocket``: a plain blocking socket that only writes after its
  upgrade, for a thread that floods a front which must drop it.

No extensions are offered, so what a server sends is the uncompressed payload.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import socket
import struct
from typing import Any, Self
from urllib.parse import urlsplit

import trio

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
READ_SIZE = 65536


class Closed(Exception):
    """The connection ended: a close frame (``code``, ``reason``) or the TCP stream (``code`` None)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"closed: {code} {reason!r}")
        self.code = code
        self.reason = reason


class UpgradeRefused(ConnectionError):
    """The server did not switch protocols (or answered with a wrong accept token)."""


# -- the upgrade ---------------------------------------------------------------


def upgrade_request(host: str, port: int, path: str, key: str) -> bytes:
    """The HTTP/1.1 GET asking ``host:port`` to switch ``path`` to a WebSocket."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def check_upgrade(head: bytes, key: str) -> None:
    """Raise UpgradeRefused unless ``head`` (the response head) is a 101 with the right accept token."""
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 101"):
        raise UpgradeRefused(f"upgrade refused: {lines[0]!r}")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    if headers.get("sec-websocket-accept") != accept:
        raise UpgradeRefused(f"bad Sec-WebSocket-Accept: {headers}")


async def open_upgraded(url: str, timeout: float) -> tuple[trio.SocketStream, bytes]:
    """TCP connect and upgrade within ``timeout``; the stream and what came after the response head."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with trio.fail_after(timeout):
        stream = await trio.open_tcp_stream(host, port)
        try:
            key = new_key()
            await stream.send_all(upgrade_request(host, port, parts.path or "/", key))
            received = bytearray()
            while b"\r\n\r\n" not in received:
                chunk = await stream.receive_some(READ_SIZE)
                if not chunk:
                    raise UpgradeRefused(f"closed during the upgrade: {bytes(received)[:200]!r}")
                received += chunk
            head, _, rest = bytes(received).partition(b"\r\n\r\n")
            check_upgrade(head, key)
        except BaseException:
            stream.socket.close()
            raise
    return stream, rest


# -- frames ----------------------------------------------------------------------


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (one big-int operation)."""
    size = len(payload)
    if not size:
        return payload
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = os.urandom(4)
    return head + key + _mask(payload, key)


# -- the clients -------------------------------------------------------------------


class WebSocket:
    """One client connection. Not for concurrent readers; one sender at a time (``send_lock``)."""

    __slots__ = ("_buf", "close_code", "frame_bytes", "payload_bytes", "send_lock", "stream")

    def __init__(self, stream: trio.SocketStream, leftover: bytes) -> None:
        self.stream = stream
        self._buf = bytearray(leftover)
        self.frame_bytes = 0  # size on the wire (header + payload) of the last message read
        self.payload_bytes = 0  # its payload alone
        self.close_code: int | None = None
        self.send_lock = trio.Lock()  # a reader's pong or close may race a writer's frame

    @classmethod
    async def connect(cls, url: str, timeout: float = 10.0) -> Self:
        """TCP connect and upgrade, bounded by ``timeout``; UpgradeRefused on anything but 101."""
        stream, rest = await open_upgraded(url, timeout)
        return cls(stream, rest)

    async def _fill(self, size: int) -> None:
        while len(self._buf) < size:
            chunk = await self.stream.receive_some(READ_SIZE)
            if not chunk:
                raise Closed(None, "stream ended")
            self._buf += chunk

    async def _send(self, opcode: int, payload: bytes) -> None:
        async with self.send_lock:
            await self.stream.send_all(client_frame(opcode, payload))

    async def send_text(self, text: str) -> None:
        """One text message."""
        await self._send(OP_TEXT, text.encode())

    async def send_close(self, code: int = 1000) -> None:
        """A close frame with ``code`` (the reader then sees the server's close)."""
        await self._send(OP_CLOSE, struct.pack("!H", code))

    async def recv_bytes(self) -> bytes:
        """The next text message's payload (UTF-8 bytes); answers pings; raises Closed at the end."""
        parts: list[bytes] = []
        total = 0
        while True:
            await self._fill(2)
            buf = self._buf
            first, size = buf[0], buf[1] & 0x7F
            offset = 2
            if size == 126:
                await self._fill(4)
                size, offset = struct.unpack_from("!H", buf, 2)[0], 4
            elif size == 127:
                await self._fill(10)
                size, offset = struct.unpack_from("!Q", buf, 2)[0], 10
            await self._fill(offset + size)
            payload = bytes(buf[offset : offset + size])
            del buf[: offset + size]
            opcode = first & 0x0F
            if opcode == OP_PING:
                await self._send(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(self.close_code)
            parts.append(payload)
            total += offset + size
            if first & 0x80:
                message = parts[0] if len(parts) == 1 else b"".join(parts)
                self.frame_bytes, self.payload_bytes = total, len(message)
                return message

    async def recv_text(self) -> str:
        """The next text message."""
        return (await self.recv_bytes()).decode()

    async def close(self, code: int = 1000, timeout: float = 2.0) -> None:
        """Close handshake (bounded), then drop the TCP connection. No other reader may be active."""
        try:
            with trio.move_on_after(timeout):
                await self._send(OP_CLOSE, struct.pack("!H", code))
                while True:
                    await self.recv_bytes()
        except (Closed, trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection now, no close frame (synchronous: safe in cleanup)."""
        self.stream.socket.close()


class RawWebSocket(WebSocket):
    """The tests' client: ``recv`` returns text messages, checks every frame, raises ``Closed`` at the end.

    Once closed it stays closed: every later ``recv`` raises the same ``Closed``.
    """

    __slots__ = ("_fragments", "close_sent", "closed")

    def __init__(self, stream: trio.SocketStream, leftover: bytes) -> None:
        super().__init__(stream, leftover)
        self._fragments: list[bytes] = []  # kept across calls: a cancelled recv loses no fragment
        self.close_sent = False
        self.closed: Closed | None = None

    @classmethod
    async def connect(cls, url: str, timeout: float = math.inf) -> Self:
        """TCP connect and upgrade, unbounded unless told (the test's own deadline bounds it)."""
        return await super().connect(url, timeout)

    async def _frame(self) -> tuple[bool, int, bytes]:
        """``(fin, opcode, payload)`` of the next frame, which the server must not have masked."""
        await self._fill(2)
        header = self._buf
        first, second = header[0], header[1]
        assert not second & 0x80, "the server must not mask its frames"
        length, start = second & 0x7F, 2
        if length >= 126:
            start = 4 if length == 126 else 10
            await self._fill(start)
            length = struct.unpack_from("!H" if length == 126 else "!Q", header, 2)[0]
        await self._fill(start + length)
        payload = bytes(header[start : start + length])
        del header[: start + length]
        return bool(first & 0x80), first & 0x0F, payload

    async def recv(self) -> str:
        """The next text message; answers pings; raises ``Closed`` on a close frame or EOF."""
        if self.closed is not None:
            raise self.closed
        while True:
            try:
                fin, opcode, payload = await self._frame()
            except Closed as exc:
                self.closed = exc
                raise
            if opcode == OP_PING:
                await self._send(OP_PONG, payload)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = Closed(code, payload[2:].decode("utf-8", "replace"))
                if not self.close_sent:  # echo the close, as RFC 6455 asks
                    self.close_sent = True
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await self._send(OP_CLOSE, payload[:2])
                raise self.closed
            else:
                assert opcode in (OP_TEXT, OP_CONT), f"unexpected frame opcode {opcode}"
                self._fragments.append(payload)
                if fin:
                    text = b"".join(self._fragments).decode()
                    self._fragments.clear()
                    return text

    async def recv_json(self) -> dict[str, Any]:
        message = json.loads(await self.recv())
        assert isinstance(message, dict), message
        return message

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def close(self, code: int = 1000, timeout: float = 5.0) -> None:
        """Close handshake: send close, read until the server's close or EOF (bounded), drop TCP.

        No other task may be reading this socket meanwhile.
        """
        try:
            if not self.close_sent and self.closed is None:
                self.close_sent = True
                await self._send(OP_CLOSE, struct.pack("!H", code))
            with trio.move_on_after(timeout):
                while True:
                    await self.recv()
        except (Closed, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.abort()


class BlockingWebSocket:
    """A blocking socket that upgrades, then only writes: it never reads what the server sends.

    With a small ``SO_RCVBUF`` the server's replies back up at once, which is the
    point: the hostile tests flood a front from a thread with it.
    """

    def __init__(self, ws_url: str, rcvbuf: int = 4096) -> None:
        parts = urlsplit(ws_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        key = new_key()
        self.sock.sendall(upgrade_request(host, port, parts.path or "/", key))
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # a byte at a time: nothing after the head is read
            chunk = self.sock.recv(1)
            if not chunk:
                raise UpgradeRefused(f"handshake cut: {head!r}")
            head += chunk
        check_upgrade(head[:-4], key)

    def send_text(self, text: str) -> None:
        """Send one masked text frame (blocks while the server does not read)."""
        self.sock.sendall(client_frame(OP_TEXT, text.encode()))

    def close(self) -> None:
        """Abort the socket."""
        with contextlib.suppress(OSError):
            self.sock.close()
