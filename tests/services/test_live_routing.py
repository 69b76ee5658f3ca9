"""The front's listener: live upgrades on our own socket loop, everything else on hypercorn.

Real front process, raw TCP: a page request and then an upgrade on the same
keep-alive connection (what a proxy reusing connections does) still gets a
working live socket through hypercorn's ASGI path; requests that are not
WebSocket upgrades get plain HTTP refusals from the live path (that part of
SPEC is in the conformance suite).
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import trio

from tests.conformance.live_client import http_response, islands_in
from tests.support import Front, run_front
from tests.support.rawws import RawWebSocket, new_key, upgrade_request


@pytest.fixture(scope="module")
def front() -> Iterator[Front]:
    with run_front() as running:
        yield running


def _address(front: Front) -> tuple[str, int]:
    parts = urlsplit(front.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


async def test_an_upgrade_on_a_reused_keep_alive_connection_still_goes_live(front: Front) -> None:
    host, port = _address(front)
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        status, _, body = await http_response(stream)
        assert status.startswith("HTTP/1.1 200"), status
        counter = next(i for i in islands_in(body.decode()) if i.name == "Counter")

        await stream.send_all(upgrade_request(host, port, "/__nowaki/live", new_key()))
        status, headers, rest = await http_response(stream)
        assert status.startswith("HTTP/1.1 101") and "sec-websocket-accept" in headers, status
        live = RawWebSocket(stream, rest)
        with trio.fail_after(10):
            await live.send_json({"type": "join", "islands": [[0, counter.token]]})
            while (message := await live.recv_json())["type"] != "joined":
                pass
            assert message["ids"] == [0]
            await live.send_json({"type": "event", "id": 0, "handler": "inc"})
            while (message := await live.recv_json())["type"] != "patch":
                pass
            assert message["id"] == 0 and "push" not in message, message
            await live.close()
    assert "event=live_socket_failed" not in front.log()


async def test_pages_and_live_sockets_share_the_port(front: Front) -> None:
    """A page over HTTP and a live socket, one after the other, on fresh connections."""
    host, port = _address(front)
    async with await trio.open_tcp_stream(host, port) as stream:
        await stream.send_all(f"GET /__nowaki/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        status, _, body = await http_response(stream)
        assert status.startswith("HTTP/1.1 200") and json.loads(body)["renderers_up"] >= 1
    live = await RawWebSocket.connect(front.ws_url)
    await live.send_json({"type": "ping"})
    with trio.fail_after(5):
        assert (await live.recv_json())["type"] == "pong"
    await live.close()


async def test_a_client_that_resets_its_connection_is_just_gone(front: Front) -> None:
    """A TCP reset (SO_LINGER 0) mid-connection: logged as a disconnect, not as a failure."""
    live = await RawWebSocket.connect(front.ws_url)
    await live.send_json({"type": "ping"})
    with trio.fail_after(5):
        assert (await live.recv_json())["type"] == "pong"
    sock = live.stream.socket
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # an RST, not a FIN
    with trio.fail_after(5):
        while "reason='connection lost" not in front.log():
            await trio.sleep(0.05)
    assert "live_socket_failed" not in front.log() and "Traceback" not in front.log()
