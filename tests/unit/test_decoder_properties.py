"""Property tests for both wire decoders: hostile input gives a typed error, never a crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nowaki.protocol.browser_wire import parse_client
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.framing import FrameBuffer, encode_frame

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.dictionaries(st.text(max_size=8), cbor_values, max_size=5)


@given(st.binary(max_size=300))
def test_frame_decoder_never_crashes_on_garbage(data: bytes) -> None:
    """Any bytes: whole messages (maps) or ProtocolError, nothing else."""
    frames = FrameBuffer(max_frame=1024)
    try:
        for message in frames.feed(data):
            assert isinstance(message, dict)
    except ProtocolError:
        pass


@given(st.lists(messages, min_size=1, max_size=5), st.data())
def test_frame_decoder_is_indifferent_to_how_bytes_arrive(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    """However the stream is cut into reads, the same messages come out, in order."""
    stream = b"".join(encode_frame(message) for message in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    frames = FrameBuffer()
    received: list[dict[str, Any]] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received.extend(frames.feed(stream[start:end]))
    assert received == batch
    assert frames.pending == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
client_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["join", "event", "ping", "leave", "other"])},
    optional={"id": json_values, "handler": json_values, "payload": json_values, "islands": json_values,
              "render": json_values, "resume": json_values, "snapshot": json_values},
)


@given(st.one_of(st.text(max_size=200), st.binary(max_size=50), client_like.map(json.dumps)))
def test_browser_decoder_types_every_input(frame: str | bytes) -> None:
    """Any frame: a typed client message or ProtocolError with a wire error code."""
    try:
        message = parse_client(frame)
    except ProtocolError as exc:
        assert exc.code in {"bad_message", "bad_payload"}
    else:
        assert type(message).__name__ in {"Join", "Event", "Ping", "Leave"}
