"""Signed tokens: the only form in which state travels through a browser.

Two kinds, told apart by the ``k`` claim so one can never pass for the other:

- island tokens, made at SSR and checked on join:
  ``{"k": "i", "i": island, "s": state, "p": props, "t": issued_at}``
- snapshots, handed to clients on shutdown and checked by the next front:
  ``{"k": "snap", "x": {id: [island, state, props]}, "t": issued_at}``

Wire form: ``base64url(cbor(claims)) "." base64url(hmac_sha256(secret, first part))``.
The front signs and verifies; the renderer never sees the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import cbor2


class TokenError(Exception):
    """The token is malformed, forged, of the wrong kind or expired."""


@dataclass(frozen=True, slots=True)
class IslandToken:
    """What a verified island token says."""

    island: str
    state: Any
    issued_at: int
    props: dict[str, Any] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seal(secret: bytes, claims: dict[str, Any], now: float | None) -> str:
    claims["t"] = int(time.time() if now is None else now)
    body = _b64(cbor2.dumps(claims))
    mac = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def _open(secret: bytes, token: str, kind: str, max_age: float, now: float | None) -> dict[str, Any]:
    body, dot, mac = token.partition(".")
    if not dot or not body or not mac:
        raise TokenError("token is malformed")
    try:
        given = _unb64(mac)
    except ValueError as exc:
        raise TokenError("token signature is malformed") from exc
    expected = hmac.new(secret, body.encode("ascii", "replace"), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise TokenError("token signature does not match")
    try:
        claims = cbor2.loads(_unb64(body))
    except Exception as exc:  # signed by us, so only a bug or a key reuse gets here
        raise TokenError("token body is unreadable") from exc
    if not isinstance(claims, dict) or claims.get("k") != kind or not isinstance(claims.get("t"), int):
        raise TokenError("token is not of the expected kind")
    current = time.time() if now is None else now
    if current - claims["t"] > max_age:
        raise TokenError("token has expired")
    return claims


def sign(
    secret: bytes, island: str, state: Any, now: float | None = None,
    props: dict[str, Any] | None = None,
) -> str:
    """Make a token for ``island`` holding ``state`` (and its ``props``, if any)."""
    claims: dict[str, Any] = {"k": "i", "i": island, "s": state}
    if props:
        claims["p"] = props
    return _seal(secret, claims, now)


def verify(secret: bytes, token: str, max_age: float, now: float | None = None) -> IslandToken:
    """Check an island token's signature and age; return what it holds or raise TokenError."""
    claims = _open(secret, token, "i", max_age, now)
    island, props = claims.get("i"), claims.get("p", {})
    if not isinstance(island, str) or "s" not in claims or not isinstance(props, dict):
        raise TokenError("token body is unreadable")
    return IslandToken(island, claims["s"], claims["t"], props)


def sign_snapshot(secret: bytes, islands: dict[int, list[Any]], now: float | None = None) -> str:
    """Seal a connection's island states (``id → [island, state, props]``) for the next front."""
    return _seal(secret, {"k": "snap", "x": islands}, now)


def verify_snapshot(
    secret: bytes, token: str, max_age: float, now: float | None = None
) -> dict[int, tuple[str, Any, dict[str, Any]]]:
    """Check a snapshot; return ``id → (island, state, props)`` or raise TokenError."""
    claims = _open(secret, token, "snap", max_age, now)
    islands = claims.get("x")
    if not isinstance(islands, dict):
        raise TokenError("snapshot body is unreadable")
    restored: dict[int, tuple[str, Any, dict[str, Any]]] = {}
    for island_id, entry in islands.items():
        if not (isinstance(island_id, int) and isinstance(entry, list) and len(entry) == 3
                and isinstance(entry[0], str) and isinstance(entry[2], dict)):
            raise TokenError("snapshot body is unreadable")
        restored[island_id] = (entry[0], entry[1], entry[2])
    return restored
