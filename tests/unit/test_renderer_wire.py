"""Wire R message shapes: request/reply builders and their checks (sans-IO)."""

from __future__ import annotations

from typing import Any

import pytest

from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.renderer_wire import (
    OPS,
    RendererError,
    check_reply,
    check_request,
    error,
    ok,
    request,
)

VALID: dict[str, dict[str, Any]] = {
    "hello": {"version": 1},
    "page": {"route": "/", "request": {"path": "/", "query": {}, "headers": {}}},
    "init": {"island": "Counter", "props": {"start": 3}},
    "event": {"island": "Counter", "handler": "inc", "state": {"count": 0}, "payload": {}},
    "render": {"island": "Counter", "state": {"count": 0}},
}


def test_builders_shapes() -> None:
    """request/ok/error build exactly the maps SPEC shows."""
    assert request(7, "hello", version=1) == {"id": 7, "op": "hello", "version": 1}
    assert ok(7, {"html": "x"}) == {"id": 7, "ok": {"html": "x"}}
    assert error(7, "boom", "why") == {"id": 7, "error": {"code": "boom", "message": "why"}}


def test_every_op_is_known() -> None:
    """The op table covers exactly SPEC's five ops."""
    assert set(OPS) == set(VALID)


@pytest.mark.parametrize("op", sorted(VALID))
def test_valid_requests(op: str) -> None:
    """Each well-formed request checks out with its id and op."""
    assert check_request(request(42, op, **VALID[op])) == (42, op)


@pytest.mark.parametrize("op", ["event", "render"])
def test_state_may_be_any_value_but_must_be_present(op: str) -> None:
    """``state`` is any CBOR value, null included, but required for event and render."""
    fields = {**VALID[op], "state": None}
    assert check_request(request(1, op, **fields)) == (1, op)
    del fields["state"]
    with pytest.raises(ProtocolError) as caught:
        check_request(request(1, op, **fields))
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize("bad_id", [None, -1, True, False, "1", 1.0, [1]])
def test_bad_request_ids(bad_id: Any) -> None:
    """The id must be an unsigned integer (bools are not integers here)."""
    message = {"id": bad_id, "op": "hello", "version": 1}
    with pytest.raises(ProtocolError) as caught:
        check_request(message)
    assert caught.value.code == "bad_request"


def test_missing_id() -> None:
    """A request without an id is malformed."""
    with pytest.raises(ProtocolError):
        check_request({"op": "hello", "version": 1})


@pytest.mark.parametrize("op", [None, "", "HELLO", "shutdown", 5, "__class__"])
def test_unknown_ops(op: Any) -> None:
    """Only the five ops exist."""
    with pytest.raises(ProtocolError) as caught:
        check_request({"id": 1, "op": op, "version": 1})
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize(
    ("op", "field", "value"),
    [
        ("hello", "version", "1"),
        ("hello", "version", True),
        ("hello", "version", 1.0),
        ("hello", "version", None),
        ("page", "route", 5),
        ("page", "request", [1]),
        ("page", "request", None),
        ("init", "island", None),
        ("init", "props", []),
        ("event", "handler", 1),
        ("event", "payload", "x"),
        ("event", "island", b"Counter"),
        ("render", "island", 3),
    ],
)
def test_mistyped_fields(op: str, field: str, value: Any) -> None:
    """A required field with the wrong type is a bad_request naming the field."""
    with pytest.raises(ProtocolError) as caught:
        check_request(request(1, op, **{**VALID[op], field: value}))
    assert caught.value.code == "bad_request"
    assert field in str(caught.value)


@pytest.mark.parametrize(("op", "field"), [(op, f) for op, spec in OPS.items() for f, _ in spec])
def test_missing_fields(op: str, field: str) -> None:
    """Every required field is required."""
    fields = dict(VALID[op])
    del fields[field]
    with pytest.raises(ProtocolError):
        check_request(request(1, op, **fields))


def test_check_reply_ok() -> None:
    """A success reply yields its id and body."""
    assert check_reply({"id": 3, "ok": {"html": "<p></p>"}}) == (3, {"html": "<p></p>"})


def test_check_reply_error() -> None:
    """A failure reply yields a RendererError with code and message."""
    request_id, outcome = check_reply(error(4, "handler_failed", "ZeroDivisionError: x"))
    assert request_id == 4
    assert isinstance(outcome, RendererError)
    assert (outcome.code, outcome.message) == ("handler_failed", "ZeroDivisionError: x")


@pytest.mark.parametrize(
    "message",
    [
        {"id": 1},
        {"id": 1, "ok": [1]},
        {"id": 1, "ok": None},
        {"id": 1, "error": "boom"},
        {"id": 1, "error": {"code": "x"}},
        {"id": 1, "error": {"code": 1, "message": "m"}},
        {"id": 1, "error": {"code": "x", "message": None}},
        {"id": "1", "ok": {}},
        {"id": True, "ok": {}},
        {"ok": {}},
    ],
)
def test_check_reply_malformed(message: dict[str, Any]) -> None:
    """Replies without a usable id, a map ``ok`` or a well-formed ``error`` are refused."""
    with pytest.raises(ProtocolError) as caught:
        check_reply(message)
    assert caught.value.code == "bad_request"
