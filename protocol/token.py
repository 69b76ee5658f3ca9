"""Signed island tokens: the only form in which state travels through a browser.

``base64url(cbor({"i": island, "s": state, "t": issued_at})) "." base64url(hmac)``
with HMAC-SHA256 over the first part. The front signs at SSR and verifies on
join; the renderer never sees the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import cbor2


class TokenError(Exception):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class IslandToken:
    """What a verified token says."""

    island: str
    state: Any
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, island: str, state: Any, now: float | None = None) -> str:
    """Make a token for ``island`` holding ``state``."""
    issued = int(time.time() if now is None else now)
    body = _b64(cbor2.dumps({"i": island, "s": state, "t": issued}))
    mac = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: bytes, token: str, max_age: float, now: float | None = None) -> IslandToken:
    """Check a token's signature and age; return what it holds or raise TokenError."""
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
        island, state, issued = claims["i"], claims["s"], claims["t"]
    except Exception as exc:  # signed by us, so only a bug or a key reuse gets here
        raise TokenError("token body is unreadable") from exc
    if not isinstance(island, str) or not isinstance(issued, int):
        raise TokenError("token body is unreadable")
    current = time.time() if now is None else now
    if current - issued > max_age:
        raise TokenError("token has expired")
    return IslandToken(island, state, issued)
