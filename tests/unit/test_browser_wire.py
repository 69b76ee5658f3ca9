"""Wire B: parsing client frames (every bad input) and the front's exact bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nowaki.protocol.browser_wire import (
    MAX_ISLAND_ID,
    Event,
    Join,
    Ping,
    encode_error,
    encode_joined,
    encode_patch,
    encode_pong,
    encode_presence,
    parse_client,
)
from nowaki.protocol.errors import ProtocolError


def _bad(frame: str | bytes, code: str = "bad_message") -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_client(frame)
    assert caught.value.code == code
    return caught.value


# -- good frames ---------------------------------------------------------------


def test_join() -> None:
    """A join lists [id, token] pairs; render defaults to false."""
    message = parse_client('{"type":"join","islands":[[0,"a.b"],[7,"c.d"]]}')
    assert message == Join([(0, "a.b"), (7, "c.d")], False)


def test_join_render_and_empty() -> None:
    """``render: true`` is carried; an empty island list is fine."""
    assert parse_client('{"type":"join","islands":[],"render":true}') == Join([], True)


def test_event_with_and_without_payload() -> None:
    """An event's payload is optional (empty) or an object of strings."""
    assert parse_client('{"type":"event","id":3,"handler":"inc"}') == Event(3, "inc", {})
    assert parse_client('{"type":"event","id":3,"handler":"inc","payload":null}') == Event(3, "inc", {})
    assert parse_client('{"type":"event","id":3,"handler":"add","payload":{"by":"5","é":"🌊"}}') == Event(
        3, "add", {"by": "5", "é": "🌊"}
    )


def test_ping_and_extra_fields() -> None:
    """Ping has no fields; unknown extra fields are ignored."""
    assert parse_client('{"type":"ping"}') == Ping()
    assert parse_client('{"type":"ping","x":1}') == Ping()


def test_island_id_bounds() -> None:
    """Ids span [0, 2**31)."""
    assert parse_client(json.dumps({"type": "event", "id": 0, "handler": "h"})).id == 0  # type: ignore[union-attr]
    top = {"type": "event", "id": MAX_ISLAND_ID, "handler": "h"}
    assert parse_client(json.dumps(top)).id == 2**31 - 1  # type: ignore[union-attr]


# -- bad frames ----------------------------------------------------------------


@pytest.mark.parametrize("frame", ["", "{", "nope", '{"type":"ping"', "{'type':'ping'}", "\x00"])
def test_not_json(frame: str) -> None:
    """Text that is not JSON is bad_message."""
    _bad(frame)


@pytest.mark.parametrize("frame", ["[]", '["ping"]', "1", '"ping"', "null", "true"])
def test_not_an_object(frame: str) -> None:
    """JSON that is not an object is bad_message."""
    _bad(frame)


@pytest.mark.parametrize("frame", [b'{"type":"ping"}', b"", b"\xff"])
def test_binary_frames_refused(frame: bytes) -> None:
    """Binary frames are refused even when they hold valid JSON."""
    _bad(frame)


@pytest.mark.parametrize("kind", [None, "", "PING", "pong", "patch", 1, ["ping"], "joined"])
def test_unknown_type(kind: Any) -> None:
    """Unknown, missing or non-text types are bad_message."""
    message: dict[str, Any] = {"islands": [], "id": 1, "handler": "h"}
    if kind is not None:
        message["type"] = kind
    _bad(json.dumps(message))


@pytest.mark.parametrize(
    "island_id",
    [None, True, False, -1, 2**31, 2**63, 10**30, 1.0, 1.5, "1", [1], {}],
    ids=["null", "true", "false", "negative", "2**31", "2**63", "huge", "float-int", "float", "text", "list",
         "object"],
)
def test_event_bad_ids(island_id: Any) -> None:
    """An event's id must be an integer in [0, 2**31), never a bool."""
    _bad(json.dumps({"type": "event", "id": island_id, "handler": "inc"}))


def test_event_missing_id() -> None:
    """An event without an id is bad_message."""
    _bad('{"type":"event","handler":"inc"}')


@pytest.mark.parametrize("handler", [None, "", 1, ["inc"], {"h": 1}, True])
def test_event_bad_handler(handler: Any) -> None:
    """The handler must be a non-empty string."""
    message: dict[str, Any] = {"type": "event", "id": 1}
    if handler is not None:
        message["handler"] = handler
    _bad(json.dumps(message))


@pytest.mark.parametrize(
    "payload",
    [[], ["a"], "text", 1, True, {"a": 1}, {"a": None}, {"a": ["b"]}, {"a": {"b": "c"}}, {"a": "ok", "b": 2}],
)
def test_event_bad_payload(payload: Any) -> None:
    """A payload that is not an object of text values is bad_payload."""
    _bad(json.dumps({"type": "event", "id": 1, "handler": "inc", "payload": payload}), "bad_payload")


@pytest.mark.parametrize(
    "islands",
    [None, "x", {}, 5, [["a.b"]], [[1]], [[1, "t", 2]], [[1, 2]], [[1, None]], [["1", "t"]],
     [[True, "t"]], [[-1, "t"]], [[2**31, "t"]], [(0, "t"), "t"], [{"id": 1, "token": "t"}]],
)
def test_join_bad_islands(islands: Any) -> None:
    """``islands`` must be a list of [id, token] pairs with valid ids and text tokens."""
    message: dict[str, Any] = {"type": "join"}
    if islands is not None:
        message["islands"] = islands
    _bad(json.dumps(message))


@pytest.mark.parametrize("render", ["yes", 1])
def test_join_mistyped_render(render: Any) -> None:
    """SPEC: a mistyped field is bad_message; ``render`` is an optional *bool*."""
    _bad(json.dumps({"type": "join", "islands": [], "render": render}))


def test_join_render_false_and_null() -> None:
    """``render: false`` is a bool and means a lazy join."""
    assert parse_client('{"type":"join","islands":[],"render":false}') == Join([], False)


# -- encoders: exact bytes -----------------------------------------------------


def test_encode_patch_exact() -> None:
    """Patches: no html (unchanged), full html, or a splice with ``at``."""
    assert encode_patch(0, "2", (59, 1)) == '{"type":"patch","id":0,"at":[59,1],"html":"2"}'
    assert encode_patch(3) == '{"type":"patch","id":3}'
    assert encode_patch(3, "<p a=\"b\">x</p>") == '{"type":"patch","id":3,"html":"<p a=\\"b\\">x</p>"}'
    assert encode_patch(1, "", (0, 5)) == '{"type":"patch","id":1,"at":[0,5],"html":""}'


def test_encode_patch_non_ascii_is_raw() -> None:
    """Non-ASCII text goes out as UTF-8, not \\u escapes (smaller frames)."""
    assert encode_patch(2, "é🌊") == '{"type":"patch","id":2,"html":"é🌊"}'


def test_encode_joined_exact() -> None:
    """``joined`` carries ids and the heartbeat."""
    assert encode_joined([0, 1], 25.0) == '{"type":"joined","ids":[0,1],"heartbeat":25.0}'
    assert encode_joined([], 0.5) == '{"type":"joined","ids":[],"heartbeat":0.5}'


def test_encode_error_exact() -> None:
    """Errors with and without an island id."""
    assert encode_error("bad_message", "m") == '{"type":"error","code":"bad_message","message":"m"}'
    assert encode_error("timeout", "slow", 4) == '{"type":"error","id":4,"code":"timeout","message":"slow"}'
    assert encode_error("x", "m", 0) == '{"type":"error","id":0,"code":"x","message":"m"}'


def test_encode_pong_and_presence_exact() -> None:
    """``pong`` and ``presence`` are compact JSON."""
    assert encode_pong() == '{"type":"pong"}'
    assert encode_presence(3) == '{"type":"presence","count":3}'


def test_encoded_frames_are_valid_json_objects() -> None:
    """Every encoder output parses back to what it says."""
    for frame in (encode_patch(1, "\"\\\n</script>", (2, 3)), encode_error("c", "\u2028", 9)):
        assert isinstance(json.loads(frame), dict)
    assert json.loads(encode_patch(1, "\"\\\n", (2, 3)))["html"] == "\"\\\n"
