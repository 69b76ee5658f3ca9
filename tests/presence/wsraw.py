"""A minimal WebSocket client on raw trio sockets (RFC 6455, client side only).

Light enough to hold thousands of connections in one test process, and raw
enough to misbehave on purpose: join, then stop reading and writing while the
TCP connection stays open (a half-open peer). Frames from the client are
masked, frames from the server are not; text, close, ping and pong only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import struct
from typing import Any
from urllib.parse import urlsplit

import trio

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The server closed the WebSocket (``code`` None: the TCP stream ended without a close frame)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed: {code} {reason!r}")
        self.code = code
        self.reason = reason


def _mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated (one big-int operation, fast enough here)."""
    if not data:
        return data
    size = len(data)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def frame(opcode: int, payload: bytes) -> bytes:
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


class RawWebSocket:
    """One client connection; ``recv`` returns text messages and raises ``Closed`` at the end."""

    def __init__(self, stream: trio.SocketStream, leftover: bytes) -> None:
        self.stream = stream
        self._buffer = bytearray(leftover)
        self._fragments: list[bytes] = []
        self.close_sent = False
        self.closed: Closed | None = None
        self._sending = trio.Lock()  # a reader's pong or close echo may race a writer's frame

    @classmethod
    async def connect(cls, ws_url: str) -> RawWebSocket:
        """TCP connect and HTTP upgrade; raises AssertionError unless the server answers 101."""
        parts = urlsplit(ws_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        stream = await trio.open_tcp_stream(host, port)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            await stream.send_all(request.encode())
            received = bytearray()
            while b"\r\n\r\n" not in received:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    raise AssertionError(f"the server closed during the upgrade: {bytes(received)!r}")
                received += chunk
            head, _, rest = bytes(received).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            assert lines[0].startswith("HTTP/1.1 101"), f"upgrade refused: {lines[0]!r}"
            headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            assert headers.get("sec-websocket-accept") == accept, headers
        except BaseException:
            await stream.aclose()
            raise
        return cls(stream, rest)

    async def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise Closed(None, "stream ended")
            self._buffer += chunk

    async def _frame(self) -> tuple[bool, int, bytes]:
        await self._fill(2)
        first, second = self._buffer[0], self._buffer[1]
        assert not second & 0x80, "the server must not mask its frames"
        size, offset = second & 0x7F, 2
        if size == 126:
            await self._fill(4)
            size, offset = struct.unpack_from("!H", self._buffer, 2)[0], 4
        elif size == 127:
            await self._fill(10)
            size, offset = struct.unpack_from("!Q", self._buffer, 2)[0], 10
        await self._fill(offset + size)
        payload = bytes(self._buffer[offset:offset + size])
        del self._buffer[:offset + size]
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
                await self._send_frame(OP_PONG, payload)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = Closed(code, payload[2:].decode("utf-8", "replace"))
                if not self.close_sent:  # echo the close, as RFC 6455 asks
                    self.close_sent = True
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await self._send_frame(OP_CLOSE, payload[:2])
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

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        async with self._sending:
            await self.stream.send_all(frame(opcode, payload))

    async def send_text(self, text: str) -> None:
        await self._send_frame(OP_TEXT, text.encode())

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def close(self, code: int = 1000, timeout: float = 5.0) -> None:
        """Close handshake: send close, read until the server's close or EOF (bounded), drop TCP.

        No other task may be reading this socket meanwhile.
        """
        try:
            if not self.close_sent and self.closed is None:
                self.close_sent = True
                await self._send_frame(OP_CLOSE, struct.pack("!H", code))
            with trio.move_on_after(timeout):
                while True:
                    await self.recv()
        except (Closed, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await self.stream.aclose()

    async def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        await self.stream.aclose()
