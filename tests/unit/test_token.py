"""Island tokens: sign, verify, and every way a token can be bad."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nowaki.protocol.token import IslandToken, TokenError, sign, verify

SECRET = b"unit-secret"
TTL = 86_400.0
NOW = 1_700_000_000.0


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _flip(char: str) -> str:
    return "B" if char == "A" else "A"


def test_round_trip() -> None:
    """What is signed comes back, issued_at included."""
    state: Any = {"count": 3, "list": [1, "é🌊", None, True, 2.5], "nested": {"a": {"b": []}}}
    token = sign(SECRET, "Counter", state, now=NOW)
    assert verify(SECRET, token, TTL, now=NOW + 5) == IslandToken("Counter", state, int(NOW))


def test_format_matches_spec() -> None:
    """base64url(cbor({i, s, t})) "." base64url(hmac_sha256(secret, first part)), unpadded."""
    token = sign(SECRET, "Echo", {"said": []}, now=NOW)
    body, mac = token.split(".")
    assert "=" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    claims = cbor2.loads(_unb64(body))
    assert isinstance(claims, dict)
    assert (claims["i"], claims["s"], claims["t"]) == ("Echo", {"said": []}, int(NOW))
    assert _unb64(mac) == hmac.new(SECRET, body.encode(), hashlib.sha256).digest()


def test_tampered_body() -> None:
    """A body changed after signing (same mac) is refused."""
    token = sign(SECRET, "Counter", {"count": 0}, now=NOW)
    body, mac = token.split(".")
    forged = base64.urlsafe_b64encode(cbor2.dumps({"i": "Counter", "s": {"count": 999}, "t": int(NOW)}))
    with pytest.raises(TokenError):
        verify(SECRET, forged.decode().rstrip("=") + "." + mac, TTL, now=NOW)
    with pytest.raises(TokenError):
        verify(SECRET, _flip(body[0]) + body[1:] + "." + mac, TTL, now=NOW)


@pytest.mark.parametrize("position", [0, 10, -1, -2])
def test_tampered_mac(position: int) -> None:
    """Any changed signature character is refused."""
    token = sign(SECRET, "Counter", {"count": 0}, now=NOW)
    body, mac = token.split(".")
    chars = list(mac)
    chars[position] = _flip(chars[position])
    with pytest.raises(TokenError):
        verify(SECRET, body + "." + "".join(chars), TTL, now=NOW)


def test_wrong_secret() -> None:
    """A token from another secret is refused."""
    token = sign(b"other-secret", "Counter", {"count": 0}, now=NOW)
    with pytest.raises(TokenError):
        verify(SECRET, token, TTL, now=NOW)


def test_expiry() -> None:
    """Valid up to ``max_age`` seconds old; refused one second later."""
    token = sign(SECRET, "Counter", {"count": 0}, now=NOW)
    assert verify(SECRET, token, TTL, now=NOW + TTL).island == "Counter"
    with pytest.raises(TokenError, match="expired"):
        verify(SECRET, token, TTL, now=NOW + TTL + 1)
    with pytest.raises(TokenError):
        verify(SECRET, token, 10, now=NOW + 11)


def test_default_clock() -> None:
    """Without ``now`` the current time is used: a fresh token verifies, an old one expires."""
    assert verify(SECRET, sign(SECRET, "A", 1), TTL).state == 1
    with pytest.raises(TokenError):
        verify(SECRET, sign(SECRET, "A", 1, now=1000), TTL)


def _signed_body(claims: Any) -> str:
    body = base64.urlsafe_b64encode(cbor2.dumps(claims)).decode().rstrip("=")
    mac = base64.urlsafe_b64encode(hmac.new(SECRET, body.encode(), hashlib.sha256).digest()).decode()
    return body + "." + mac.rstrip("=")


@pytest.mark.parametrize(
    "claims",
    [[1, 2], "text", None,
     {"i": "A", "s": 1}, {"i": 1, "s": 1, "t": 1}, {"i": "A", "s": 1, "t": "now"},
     {"k": "i", "i": "A", "s": 1}, {"k": "i", "i": 1, "s": 1, "t": 1},
     {"k": "i", "i": "A", "s": 1, "t": "now"}, {"k": "i", "i": None, "s": 1, "t": 1}],
)
def test_correctly_signed_but_unreadable_body(claims: Any) -> None:
    """A body with the right mac but the wrong shape still raises TokenError, nothing else."""
    with pytest.raises(TokenError):
        verify(SECRET, _signed_body(claims), TTL, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["", ".", "abc", "abc.", ".abc", "a.b.c", "é.é", "!!!.???", "a" * 5000, "abc.de=f", "\x00.\x00", "🌊.🌊"],
)
def test_malformed(token: str) -> None:
    """Malformed strings raise TokenError, never another exception."""
    with pytest.raises(TokenError):
        verify(SECRET, token, TTL, now=NOW)


@given(st.text(max_size=120))
def test_property_garbage_only_raises_token_error(token: str) -> None:
    """Any text either verifies (never, without the secret) or raises TokenError."""
    with pytest.raises(TokenError):
        verify(SECRET, token, TTL, now=NOW)
