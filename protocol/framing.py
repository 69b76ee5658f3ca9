"""Length-prefixed CBOR frames (wire R): a uint32 big-endian length, then one CBOR map."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import cbor2

from nowaki.protocol.errors import ProtocolError

MAX_FRAME = 16 * 1024 * 1024
"""Default largest payload either side accepts, in bytes."""

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size


def encode_frame(message: dict[str, Any]) -> bytes:
    """One message as a complete frame, header included."""
    payload = cbor2.dumps(message)
    return _HEADER.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> dict[str, Any]:
    """Decode one frame's payload; it must be a CBOR map with text keys."""
    stream = io.BytesIO(payload)
    try:
        message = cbor2.CBORDecoder(stream).decode()
    except Exception as exc:  # cbor2 raises several types for garbage input
        raise ProtocolError(f"payload is not valid CBOR: {exc}", "bad_request") from exc
    if stream.tell() != len(payload):
        raise ProtocolError("payload has bytes after its CBOR item", "bad_request")
    if not isinstance(message, dict):
        raise ProtocolError("payload is not a CBOR map", "bad_request")
    return message


class FrameBuffer:
    """Collects bytes as they arrive and yields each complete message.

    Reads may split a frame or carry several; this buffer makes that
    invisible. A header announcing more than ``max_frame`` bytes raises at
    once, before the payload is buffered, so a hostile peer cannot make the
    receiver hold a huge frame.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self._max = max_frame

    def feed(self, data: bytes) -> Iterator[dict[str, Any]]:
        """Add ``data`` and yield every message completed by it."""
        self._buf += data
        while len(self._buf) >= HEADER_SIZE:
            (length,) = _HEADER.unpack_from(self._buf)
            if length > self._max:
                raise ProtocolError(
                    f"frame of {length} bytes exceeds the limit of {self._max}", "bad_request"
                )
            end = HEADER_SIZE + length
            if len(self._buf) < end:
                return
            payload = bytes(self._buf[HEADER_SIZE:end])
            del self._buf[:end]
            yield decode_payload(payload)

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buf)
