"""RFC 6455 frames, server side: client frames in, whole messages out; server frames encoded.

Why not wsproto here: the live socket handles every event's frame on its
critical path, where the machine is often cold (an idle front between two
clicks); wsproto's layers (connection, frame protocol, buffer, decoder
objects) cost several times this flat parser there. wsproto stays the
reference: the tests check this parser against it on generated frame streams.

No extension is ever negotiated, so reserved bits are errors; client frames
must be masked; a message (all its fragments) may not exceed ``max_message``
bytes, checked from the headers before any payload is buffered.
"""

from __future__ import annotations

import struct
from typing import Any

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
FAILED = -1
"""Pseudo-opcode of the last event when the stream broke the protocol: ``(code, reason)``."""

PROTOCOL_ERROR, INVALID_DATA, TOO_BIG = 1002, 1007, 1009
NO_STATUS = 1005
"""The close code reported for a close frame without one (it is never sent)."""

_VALID_CLOSE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


class FrameError(Exception):
    """The client broke RFC 6455; close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def unmask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key repeated: one big-integer operation in C."""
    size = len(payload)
    if not size:
        return payload
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(size, "little")


def encode(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame."""
    size = len(payload)
    if size < 126:
        return bytes((0x80 | opcode, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, size) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, size) + payload


def encode_text(text: str) -> bytes:
    return encode(TEXT, text.encode())


def encode_close(code: int, reason: str = "") -> bytes:
    """A close frame; ``NO_STATUS`` sends none (an empty payload), reasons are cut to fit 125 bytes."""
    if code == NO_STATUS:
        return encode(CLOSE, b"")
    data = reason.encode()[:123]
    while True:  # never cut inside a UTF-8 sequence
        try:
            data.decode()
            break
        except UnicodeDecodeError:
            data = data[:-1]
    return encode(CLOSE, struct.pack("!H", code) + data)


class FrameReader:
    """Feed bytes as they arrive; get ``(opcode, value)`` for each whole message or control frame.

    Values: TEXT → str, BINARY → bytes, PING/PONG → bytes, CLOSE → (code, reason),
    FAILED → (code, reason), after which the reader takes nothing more.
    """

    __slots__ = ("_buffer", "_failed", "_max", "_opcode", "_parts", "_size")

    def __init__(self, max_message: int) -> None:
        self._buffer = b""
        self._parts: list[bytes] = []
        self._opcode = 0  # of the fragmented message being assembled; 0: none
        self._size = 0
        self._max = max_message
        self._failed = False

    def feed(self, data: bytes) -> list[tuple[int, Any]]:
        if self._failed:
            return []
        events: list[tuple[int, Any]] = []
        buffer = self._buffer + data if self._buffer else data
        try:
            position = self._parse(buffer, events)
        except FrameError as exc:
            self._failed = True
            self._buffer = b""
            events.append((FAILED, (exc.code, exc.reason)))
            return events
        self._buffer = buffer[position:]
        return events

    def _parse(self, buffer: bytes, events: list[tuple[int, Any]]) -> int:
        position, available = 0, len(buffer)
        while available - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            if first & 0x70:
                raise FrameError(PROTOCOL_ERROR, "reserved bits set: no extension was agreed")
            if not second & 0x80:
                raise FrameError(PROTOCOL_ERROR, "client frames must be masked")
            opcode, final, size, head = first & 0x0F, first & 0x80, second & 0x7F, 2
            if size == 126:
                if available - position < 4:
                    break
                size, head = int.from_bytes(buffer[position + 2:position + 4], "big"), 4
            elif size == 127:
                if available - position < 10:
                    break
                size, head = int.from_bytes(buffer[position + 2:position + 10], "big"), 10
            self._check(opcode, final, size)
            end = position + head + 4 + size
            if available < end:
                break
            key = buffer[position + head:position + head + 4]
            payload = unmask(buffer[position + head + 4:end], key)
            position = end
            if opcode >= CLOSE:
                events.append(_control(opcode, payload))
                continue
            if opcode:
                self._opcode = opcode
            self._parts.append(payload)
            self._size += size
            if final:
                events.append(self._message())
        return position

    def _check(self, opcode: int, final: int, size: int) -> None:
        if opcode >= CLOSE:
            if opcode not in (CLOSE, PING, PONG):
                raise FrameError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
            if not final or size > 125:
                raise FrameError(PROTOCOL_ERROR, "control frames must be whole and at most 125 bytes")
            return
        if opcode not in (CONTINUATION, TEXT, BINARY):
            raise FrameError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if opcode == CONTINUATION and not self._opcode:
            raise FrameError(PROTOCOL_ERROR, "a continuation frame without a message to continue")
        if opcode != CONTINUATION and self._opcode:
            raise FrameError(PROTOCOL_ERROR, "a new message before the fragmented one ended")
        if self._size + size > self._max:
            raise FrameError(TOO_BIG, f"message over {self._max} bytes")

    def _message(self) -> tuple[int, Any]:
        parts, opcode = self._parts, self._opcode
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._parts, self._opcode, self._size = [], 0, 0
        if opcode == BINARY:
            return BINARY, data
        try:
            return TEXT, data.decode()
        except UnicodeDecodeError:
            raise FrameError(INVALID_DATA, "a text message that is not UTF-8") from None


def _control(opcode: int, payload: bytes) -> tuple[int, Any]:
    if opcode != CLOSE:
        return opcode, payload
    if not payload:
        return CLOSE, (NO_STATUS, "")
    if len(payload) == 1:
        raise FrameError(PROTOCOL_ERROR, "a close frame with a 1-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if code not in _VALID_CLOSE and not 3000 <= code <= 4999:
        raise FrameError(PROTOCOL_ERROR, f"close code {code} may not be sent")
    try:
        return CLOSE, (code, payload[2:].decode())
    except UnicodeDecodeError:
        raise FrameError(INVALID_DATA, "a close reason that is not UTF-8") from None
