"""The live socket's frame codec against wsproto, the reference implementation.

Client streams are made by wsproto's client side (masked, fragmented, with
control frames between fragments), cut at arbitrary points and fed to
``FrameReader``; server frames from ``encode`` are read back by wsproto.
"""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsproto.frame_protocol import FrameProtocol, Opcode

from nowaki.front.wsframes import (
    BINARY,
    CLOSE,
    FAILED,
    NO_STATUS,
    PING,
    PONG,
    TEXT,
    FrameReader,
    encode,
    encode_close,
    encode_text,
)

messages = st.one_of(
    st.tuples(st.just(TEXT), st.text(max_size=300)),
    st.tuples(st.just(BINARY), st.binary(max_size=300)),
)
controls = st.tuples(st.sampled_from([PING, PONG]), st.binary(max_size=125))


def _client_stream(
    items: list[tuple[tuple[int, str | bytes], int, list[tuple[int, bytes]]]],
) -> tuple[bytes, list[tuple[int, object]]]:
    """wsproto client frames, each message in ``pieces`` fragments with the controls after its
    first fragment; and the events a reader must report, in order."""
    client = FrameProtocol(client=True, extensions=[])
    stream, expected = b"", []
    for (kind, value), pieces, between in items:
        bounds = [0, *sorted({len(value) * i // pieces for i in range(1, pieces)}), len(value)]
        chunks = [value[a:b] for a, b in itertools.pairwise(bounds)]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            stream += client.send_data(chunk, last)
            if last:
                expected.append((kind, value))
            if index == 0:
                for opcode, payload in between:
                    stream += client.ping(payload) if opcode == PING else client.pong(payload)
                    expected.append((opcode, payload))
    return stream, expected


@given(
    items=st.lists(st.tuples(messages, st.integers(1, 4), st.lists(controls, max_size=2)), max_size=6),
    cuts=st.lists(st.integers(0, 4000), max_size=8),
)
def test_any_client_stream_cut_anywhere_reads_as_its_messages(
    items: list[tuple[tuple[int, str | bytes], int, list[tuple[int, bytes]]]], cuts: list[int]
) -> None:
    stream, expected = _client_stream(items)
    reader = FrameReader(1 << 20)
    got: list[tuple[int, object]] = []
    previous = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        got += reader.feed(stream[previous:cut])
        previous = cut
    assert got == expected


def test_fragments_of_an_empty_text_still_make_one_message() -> None:
    client = FrameProtocol(client=True, extensions=[])
    stream = client.send_data("", False) + client.send_data("", True)
    assert FrameReader(100).feed(stream) == [(TEXT, "")]


def _masked(first: int, payload: bytes, key: bytes = b"\x01\x02\x03\x04") -> bytes:
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    if len(payload) < 126:
        return bytes((first, 0x80 | len(payload))) + key + masked
    return struct.pack("!BBH", first, 0x80 | 126, len(payload)) + key + masked


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        (bytes((0x81, 0x03)) + b"abc", 1002),  # not masked
        (_masked(0xC1, b"x"), 1002),  # RSV1 without an extension
        (_masked(0x83, b"x"), 1002),  # reserved data opcode
        (_masked(0x8B, b""), 1002),  # reserved control opcode
        (_masked(0x09, b"x"), 1002),  # a fragmented ping
        (_masked(0x89, b"x" * 126), 1002),  # a ping over 125 bytes
        (_masked(0x80, b"x"), 1002),  # a continuation of nothing
        (_masked(0x01, b"a") + _masked(0x81, b"b"), 1002),  # a new message inside a fragmented one
        (_masked(0x81, b"\xff\xfe"), 1007),  # text that is not UTF-8
        (_masked(0x88, b"\x03"), 1002),  # a 1-byte close payload
        (_masked(0x88, struct.pack("!H", 1005)), 1002),  # a code that may not be sent
        (_masked(0x88, struct.pack("!H", 1000) + b"\xff"), 1007),  # a reason that is not UTF-8
        (_masked(0x81, b"x" * 101), 1009),  # over the limit
        (_masked(0x01, b"x" * 60) + _masked(0x80, b"x" * 41), 1009),  # over the limit in fragments
    ],
)
def test_protocol_errors_end_the_stream_with_their_close_code(stream: bytes, code: int) -> None:
    reader = FrameReader(100)
    events = reader.feed(_masked(0x81, b"fine") + stream)
    assert events[0] == (TEXT, "fine"), "what came before the error is still delivered"
    assert events[-1][0] == FAILED and events[-1][1][0] == code, events
    assert reader.feed(_masked(0x81, b"more")) == [], "nothing is read after an error"


def test_too_big_is_refused_from_the_header_before_the_payload_arrives() -> None:
    header = struct.pack("!BBH", 0x81, 0x80 | 126, 60_000) + b"\x00\x00\x00\x00"
    assert FrameReader(32 * 1024).feed(header)[-1] == (FAILED, (1009, "message over 32768 bytes"))


def test_close_frames() -> None:
    reader = FrameReader(100)
    assert reader.feed(_masked(0x88, b"")) == [(CLOSE, (NO_STATUS, ""))]
    assert FrameReader(100).feed(_masked(0x88, struct.pack("!H", 4001) + "bye ✓".encode())) == [
        (CLOSE, (4001, "bye ✓"))
    ]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_server_frames_read_back_by_wsproto(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    client = FrameProtocol(client=True, extensions=[])
    client.receive_bytes(encode_text(text) + encode(BINARY, b"\x00" * size))
    frames = list(client.received_frames())
    assert [(f.opcode, f.payload, f.message_finished) for f in frames] == [
        (Opcode.TEXT, text, True), (Opcode.BINARY, bytearray(size), True)
    ]


def test_close_reason_is_cut_to_fit_without_splitting_a_character() -> None:
    frame = encode_close(4408, "é" * 100)
    assert len(frame) <= 127
    client = FrameProtocol(client=True, extensions=[])
    client.receive_bytes(frame)
    (closing,) = list(client.received_frames())
    code, reason = closing.payload
    assert code == 4408 and reason == "é" * 61
    assert encode_close(NO_STATUS) == b"\x88\x00"
