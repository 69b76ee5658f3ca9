"""The live socket's handshake and the listener's routing, as pure functions and over socketpairs."""

from __future__ import annotations

import socket

import pytest
import trio

from nowaki.front.listener import wants_live
from nowaki.front.live_socket import HandshakeError, accept_response, parse_upgrade

UPGRADE = (
    b"GET /__nowaki/live HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n"
    b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\nOrigin: http://example.test\r\n\r\n"
)


def test_accept_token_is_rfc_6455s_example() -> None:
    response = accept_response(b"dGhlIHNhbXBsZSBub25jZQ==")
    assert response.startswith(b"HTTP/1.1 101 ")
    assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert response.endswith(b"\r\n\r\n")


def test_a_browser_upgrade_is_accepted_with_its_origin_and_host() -> None:
    upgrade = parse_upgrade(UPGRADE)
    assert upgrade.key == b"dGhlIHNhbXBsZSBub25jZQ=="
    assert (upgrade.origin, upgrade.host) == ("http://example.test", "example.test")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ((b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"), 426),
        ((b"Upgrade: websocket\r\n", b""), 426),
        ((b"Connection: keep-alive, Upgrade", b"Connection: keep-alive"), 426),
        ((b"GET ", b"POST "), 426),
        ((b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""), 400),
        ((b"HTTP/1.1", b"HTTP/x"), 400),
    ],
)
def test_what_is_not_a_version_13_upgrade_is_refused(change: tuple[bytes, bytes], status: int) -> None:
    with pytest.raises(HandshakeError) as refused:
        parse_upgrade(UPGRADE.replace(*change))
    assert refused.value.status == status


async def _peek(chunks: list[bytes]) -> tuple[bool, bytes]:
    """Route a socket whose peer sends ``chunks`` (a pause between each); what was left unread."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    with ours, theirs:
        async def feed() -> None:
            for chunk in chunks:
                theirs.send(chunk)
                await trio.sleep(0.02)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            routed = await wants_live(ours)
        await trio.lowlevel.wait_readable(ours)
        return routed, ours.recv(4096)


@pytest.mark.parametrize(
    ("chunks", "live"),
    [
        ([UPGRADE], True),
        ([b"GET /__nowaki/live?x=1 HTTP/1.1\r\n\r\n"], True),
        ([b"GET /__nowa", b"ki/li", b"ve HTTP/1.1\r\n\r\n"], True),  # the line arrives in pieces
        ([b"GET / HTTP/1.1\r\n\r\n"], False),
        ([b"GET /__nowaki/livex HTTP/1.1\r\n\r\n"], False),
        ([b"GET /__nowaki/runtime.js HTTP/1.1\r\n\r\n"], False),
        ([b"POST /__nowaki/live HTTP/1.1\r\n\r\n"], False),
    ],
)
async def test_the_first_request_line_routes_and_nothing_is_consumed(chunks: list[bytes], live: bool) -> None:
    routed, unread = await _peek(chunks)
    assert routed is live
    assert unread == b"".join(chunks)  # hypercorn (or the live socket) still reads every byte
