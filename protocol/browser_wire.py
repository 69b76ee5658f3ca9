"""Wire B messages (browser ⇄ front): JSON text frames, one object each.

``parse_client`` turns a received frame into a typed message or raises
ProtocolError (``bad_message``) saying what is wrong; the ``encode_*``
functions build the front's messages in compact JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nowaki.protocol import errors
from nowaki.protocol.errors import ProtocolError

MAX_ISLAND_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Join:
    """Start live updates for ``islands`` (``(id, token)`` pairs), maybe resuming state."""

    islands: list[tuple[int, str]]
    render: bool = False
    resume: str | None = None
    snapshot: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """Apply ``handler`` to island ``id`` with ``payload``."""

    id: int
    handler: str
    payload: dict[str, str]


@dataclass(frozen=True, slots=True)
class Ping:
    """Heartbeat from the client."""


@dataclass(frozen=True, slots=True)
class Leave:
    """The page is going away: keep nothing for a reconnect."""


ClientMessage = Join | Event | Ping | Leave


def _island_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ISLAND_ID:
        raise ProtocolError("island id must be an integer in [0, 2**31)")
    return value


def _payload(value: Any, island_id: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ProtocolError("payload must be an object of text values", errors.BAD_PAYLOAD, island_id)
    return value


def parse_client(frame: str | bytes) -> ClientMessage:
    """Decode and check one client frame. Binary frames are refused."""
    if isinstance(frame, bytes):
        raise ProtocolError("binary frames are not part of the protocol")
    try:
        message = json.loads(frame)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    kind = message.get("type")
    if kind == "event":
        handler = message.get("handler")
        if not isinstance(handler, str) or not handler:
            raise ProtocolError("event: 'handler' must be a non-empty string")
        island_id = _island_id(message.get("id"))
        return Event(island_id, handler, _payload(message.get("payload"), island_id))
    if kind == "join":
        items = message.get("islands")
        if not isinstance(items, list):
            raise ProtocolError("join: 'islands' must be a list of [id, token] pairs")
        islands = []
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
                raise ProtocolError("join: each island must be an [id, token] pair")
            islands.append((_island_id(item[0]), item[1]))
        render, resume, snapshot = message.get("render"), message.get("resume"), message.get("snapshot")
        if render is not None and not isinstance(render, bool):
            raise ProtocolError("join: 'render' must be true or false")
        if resume is not None and not isinstance(resume, str):
            raise ProtocolError("join: 'resume' must be a string")
        if snapshot is not None and not isinstance(snapshot, str):
            raise ProtocolError("join: 'snapshot' must be a string")
        return Join(islands, render is True, resume, snapshot)
    if kind == "ping":
        return Ping()
    if kind == "leave":
        return Leave()
    raise ProtocolError(f"unknown message type {kind!r}")


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def encode_joined(ids: list[int], heartbeat: float, session: str | None = None) -> str:
    """``joined``: these islands are live; ping every ``heartbeat`` seconds; resume with ``session``."""
    message: dict[str, Any] = {"type": "joined", "ids": ids, "heartbeat": heartbeat}
    if session is not None:
        message["session"] = session
    return _dump(message)


def encode_snapshot(token: str) -> str:
    """``snapshot``: the front is going away; present this token to the next one."""
    return _dump({"type": "snapshot", "token": token})


def encode_patch(
    island_id: int,
    html: str | None = None,
    at: tuple[int, int] | None = None,
    push: bool = False,
) -> str:
    """``patch``: no html = unchanged; html alone = full; html with ``at`` = splice.

    ``push`` marks a patch that answers no event of this client (a timer, a
    publish, another viewer of a shared island, a re-join render).
    """
    message: dict[str, Any] = {"type": "patch", "id": island_id}
    if push:
        message["push"] = True
    if at is not None:
        message["at"] = list(at)
    if html is not None:
        message["html"] = html
    return _dump(message)


def encode_error(
    code: str, message: str, island_id: int | None = None, push: bool = False
) -> str:
    """``error``: an island's event failed (with id) or a message was refused."""
    body: dict[str, Any] = {"type": "error"}
    if island_id is not None:
        body["id"] = island_id
    if push:
        body["push"] = True
    body["code"] = code
    body["message"] = message
    return _dump(body)


def encode_pong() -> str:
    """``pong``: answers ``ping``."""
    return '{"type":"pong"}'


def encode_reload() -> str:
    """``reload``: the app's code changed (dev mode); reload the page."""
    return '{"type":"reload"}'


def encode_presence(count: int) -> str:
    """``presence``: live connections on this front."""
    return _dump({"type": "presence", "count": count})
