"""A minimal WebSocket client on raw trio sockets (RFC 6455, client side), light enough for 5,000.

HTTP/1.1 upgrade, masked client frames, unmasked server frames; text, ping,
pong and close. No extensions are offered, so what the server sends is the
uncompressed payload (what ``frame_bytes`` counts). The same client drives the
floors and nowaki, so its own cost is the same on both sides of every ratio.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from urllib.parse import urlsplit

import trio

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
READ_SIZE = 65536


class Closed(Exception):
    """The connection ended: a close frame (``code``) or the TCP stream (``code`` None)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"websocket closed ({code})")
        self.code = code


def _mask(payload: bytes, key: bytes) -> bytes:
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


class WebSocket:
    """One client connection. Not for concurrent readers; one sender at a time (``send_lock``)."""

    __slots__ = ("_buf", "close_code", "frame_bytes", "payload_bytes", "send_lock", "stream")

    def __init__(self, stream: trio.SocketStream, leftover: bytes) -> None:
        self.stream = stream
        self._buf = bytearray(leftover)
        self.frame_bytes = 0  # size on the wire (header + payload) of the last message read
        self.payload_bytes = 0  # its payload alone
        self.close_code: int | None = None
        self.send_lock = trio.Lock()

    @classmethod
    async def connect(cls, url: str, timeout: float = 10.0) -> WebSocket:
        """TCP connect and upgrade, bounded by ``timeout``; raises on anything but 101."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(host, port)
            try:
                key = base64.b64encode(os.urandom(16)).decode()
                await stream.send_all(
                    (
                        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                    ).encode()
                )
                received = bytearray()
                while b"\r\n\r\n" not in received:
                    chunk = await stream.receive_some(READ_SIZE)
                    if not chunk:
                        raise ConnectionError(f"closed during the upgrade: {bytes(received)[:200]!r}")
                    received += chunk
                head, _, rest = bytes(received).partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                if not lines[0].startswith("HTTP/1.1 101"):
                    raise ConnectionError(f"upgrade refused: {lines[0]!r}")
                expected = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
                if expected.encode() not in head:
                    raise ConnectionError("bad Sec-WebSocket-Accept")
            except BaseException:
                stream.socket.close()
                raise
        return cls(stream, rest)

    async def _fill(self, size: int) -> None:
        while len(self._buf) < size:
            chunk = await self.stream.receive_some(READ_SIZE)
            if not chunk:
                raise Closed(None)
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
