"""Wire R framing: uint32 big-endian length + one CBOR map, buffered across reads."""

from __future__ import annotations

import struct
from typing import Any

import cbor2
import pytest

from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.framing import HEADER_SIZE, MAX_FRAME, FrameBuffer, decode_payload, encode_frame

MESSAGES: list[dict[str, Any]] = [
    {"id": 1, "op": "hello", "version": 1},
    {"id": 2, "ok": {"html": "<p>héllo 🌊</p>", "state": {"n": [1, 2.5, None, True]}}},
    {"id": 3, "error": {"code": "boom", "message": "x" * 1000}},
]


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def test_encode_frame_exact_bytes() -> None:
    """Header is the payload length, big-endian, then the CBOR map."""
    assert encode_frame({"a": 1}) == b"\x00\x00\x00\x04\xa1\x61\x61\x01"
    assert HEADER_SIZE == 4
    assert MAX_FRAME == 16 * 1024 * 1024


def test_round_trip_one_frame() -> None:
    """A frame fed whole comes back as the same message."""
    buffer = FrameBuffer()
    assert list(buffer.feed(encode_frame(MESSAGES[1]))) == [MESSAGES[1]]
    assert buffer.pending == 0


def test_split_byte_by_byte() -> None:
    """Frames fed one byte per read come out whole, each exactly once, in order."""
    data = b"".join(encode_frame(m) for m in MESSAGES)
    buffer = FrameBuffer()
    out: list[dict[str, Any]] = []
    for index in range(len(data)):
        out += buffer.feed(data[index : index + 1])
    assert out == MESSAGES
    assert buffer.pending == 0


def test_several_frames_in_one_read() -> None:
    """One read carrying several frames and the start of another yields the complete ones."""
    data = b"".join(encode_frame(m) for m in MESSAGES)
    tail = encode_frame({"id": 9, "op": "render"})
    buffer = FrameBuffer()
    assert list(buffer.feed(data + tail[:6])) == MESSAGES
    assert buffer.pending == 6
    assert list(buffer.feed(tail[6:])) == [{"id": 9, "op": "render"}]
    assert buffer.pending == 0


def test_partial_header_waits() -> None:
    """Fewer than four bytes is not yet a header: nothing yielded, nothing raised."""
    buffer = FrameBuffer()
    assert list(buffer.feed(b"\x00\x00\x00")) == []
    assert buffer.pending == 3


def test_oversized_header_rejected_before_payload() -> None:
    """A header over the limit raises as soon as the four header bytes are in."""
    buffer = FrameBuffer(max_frame=10)
    with pytest.raises(ProtocolError) as caught:
        list(buffer.feed(struct.pack(">I", 11)))
    assert caught.value.code == "bad_request"


def test_default_limit_is_16_mib() -> None:
    """Exactly MAX_FRAME is accepted (waits for the payload); one byte more is refused."""
    buffer = FrameBuffer()
    assert list(buffer.feed(struct.pack(">I", MAX_FRAME))) == []
    with pytest.raises(ProtocolError):
        list(FrameBuffer().feed(struct.pack(">I", MAX_FRAME + 1)))
    with pytest.raises(ProtocolError):
        list(FrameBuffer().feed(b"\xff\xff\xff\xff"))


def test_frame_at_custom_limit_accepted() -> None:
    """A payload of exactly ``max_frame`` bytes is allowed."""
    payload = cbor2.dumps({"k": "v" * 20})
    buffer = FrameBuffer(max_frame=len(payload))
    assert list(buffer.feed(_frame(payload))) == [{"k": "v" * 20}]


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xff\xff", b"\x1c", b"\x7f\x61", b"", b"\xa1\x61"],
    ids=["break-codes", "reserved-info", "unterminated-text", "empty", "truncated-map"],
)
def test_garbage_cbor(payload: bytes) -> None:
    """A payload that is not one valid CBOR item is a bad_request protocol error."""
    with pytest.raises(ProtocolError) as caught:
        list(FrameBuffer().feed(_frame(payload)))
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize("value", [[1, 2], 5, "text", None, b"bytes", 1.5, True])
def test_non_map_payload(value: Any) -> None:
    """Valid CBOR that is not a map is refused."""
    with pytest.raises(ProtocolError) as caught:
        list(FrameBuffer().feed(_frame(cbor2.dumps(value))))
    assert caught.value.code == "bad_request"
    with pytest.raises(ProtocolError):
        decode_payload(cbor2.dumps(value))


def test_trailing_bytes_after_the_item_are_refused() -> None:
    """SPEC: the payload is *one* CBOR data item; bytes after it mean the framing is off."""
    with pytest.raises(ProtocolError):
        decode_payload(cbor2.dumps({"id": 1, "op": "hello", "version": 1}) + b"\x00")


def test_good_frame_before_garbage_is_delivered() -> None:
    """Frames completed before a bad one are yielded before the error is raised."""
    buffer = FrameBuffer()
    got: list[dict[str, Any]] = []
    with pytest.raises(ProtocolError):
        for message in buffer.feed(encode_frame(MESSAGES[0]) + _frame(b"\xff")):
            got.append(message)
    assert got == [MESSAGES[0]]
