"""Wire R messages (front ⇄ renderer): requests, replies and their checks.

Requests are plain dicts ``{"id", "op", ...}``; replies are ``{"id", "ok"}``
or ``{"id", "error": {"code", "message"}}``. These helpers build them and
check their shape, so neither side hand-writes a message.
"""

from __future__ import annotations

from typing import Any

from nowaki.protocol import errors
from nowaki.protocol.errors import ProtocolError

OPS: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    "hello": (("version", int),),
    "page": (("route", str), ("request", dict)),
    "init": (("island", str), ("props", dict)),
    "event": (("island", str), ("handler", str), ("payload", dict)),
    "render": (("island", str),),
}
"""Each op's required fields and their types (``state`` may be any CBOR value)."""

_NEEDS_STATE = {"event", "render"}


class RendererError(Exception):
    """A typed failure: the error half of a wire R reply, raised on the front."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def request(request_id: int, op: str, **fields: Any) -> dict[str, Any]:
    """Build a request message."""
    return {"id": request_id, "op": op, **fields}


def ok(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Build a success reply."""
    return {"id": request_id, "ok": body}


def error(request_id: int, code: str, message: str) -> dict[str, Any]:
    """Build a failure reply."""
    return {"id": request_id, "error": {"code": code, "message": message}}


def check_request(message: dict[str, Any]) -> tuple[int, str]:
    """Validate a request's shape; return its id and op.

    Raises ProtocolError (code ``bad_request``) naming what is wrong. A
    message without a usable id is reported with id 0.
    """
    request_id = message.get("id")
    if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id < 0:
        raise ProtocolError("request id must be an unsigned integer", errors.BAD_REQUEST)
    op = message.get("op")
    if op not in OPS:
        raise ProtocolError(f"unknown op {op!r}", errors.BAD_REQUEST)
    for name, kind in OPS[op]:
        value = message.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ProtocolError(f"{op}: field {name!r} missing or mistyped", errors.BAD_REQUEST)
    if op in _NEEDS_STATE and "state" not in message:
        raise ProtocolError(f"{op}: field 'state' missing", errors.BAD_REQUEST)
    return request_id, op


def check_reply(message: dict[str, Any]) -> tuple[int, dict[str, Any] | RendererError]:
    """Validate a reply; return its id and either the ``ok`` body or the error."""
    request_id = message.get("id")
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise ProtocolError("reply id must be an integer", errors.BAD_REQUEST)
    if "ok" in message:
        body = message["ok"]
        if not isinstance(body, dict):
            raise ProtocolError("reply 'ok' must be a map", errors.BAD_REQUEST)
        return request_id, body
    failure = message.get("error")
    if (
        isinstance(failure, dict)
        and isinstance(failure.get("code"), str)
        and isinstance(failure.get("message"), str)
    ):
        return request_id, RendererError(failure["code"], failure["message"])
    raise ProtocolError("reply has neither 'ok' nor a well-formed 'error'", errors.BAD_REQUEST)
