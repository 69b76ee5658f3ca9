"""The shared key between a front and a TCP renderer service (wire R ``hello``)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from nowaki.protocol.framing import FrameBuffer, encode_frame
from tests.services.procs import SECRET, Service, renderer_services, run_cli
from tests.support import FIXTURE_APP
from tests.support.processes import clean_env, free_port

KEY = "the-right-key"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")  # logging's format: not a report
REQUEST = {"path": "/", "query": {}, "headers": {}}


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    """One TCP renderer service for the fixture app, with the shared key ``KEY``."""
    with renderer_services(FIXTURE_APP) as services:
        yield services.start(f"tcp:127.0.0.1:{free_port()}", KEY)


def _host_port(service: Service) -> tuple[str, int]:
    host, _, port = service.address.removeprefix("tcp:").rpartition(":")
    return host, int(port)


async def _exchange(service: Service, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    """Send each framed CBOR message on one connection and read its reply (bounded)."""
    replies = []
    frames = FrameBuffer()
    with trio.fail_after(10):
        stream = await trio.open_tcp_stream(*_host_port(service))
        async with stream:
            for message in messages:
                await stream.send_all(encode_frame(message))
                got: list[dict[str, Any]] = []
                while not got:
                    data = await stream.receive_some(65536)
                    assert data, f"the service closed the connection instead of answering {message}"
                    got = list(frames.feed(bytes(data)))
                assert len(got) == 1, got
                replies.extend(got)
    return replies


def _assert_forbidden(reply: dict[str, Any], request_id: int) -> None:
    assert set(reply) == {"id", "error"}, reply  # no "ok": no data at all
    assert reply["id"] == request_id
    assert reply["error"]["code"] == "forbidden", reply
    assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]


@pytest.mark.parametrize(
    "request_",
    [
        {"id": 1, "op": "page", "route": "/", "request": REQUEST},
        {"id": 2, "op": "init", "island": "Counter", "props": {}},
        {"id": 3, "op": "event", "island": "Counter", "handler": "inc", "state": {"count": 1}, "payload": {}},
        {"id": 4, "op": "render", "island": "Counter", "state": {"count": 1}},
    ],
    ids=lambda r: r["op"],
)
async def test_requests_before_hello_are_forbidden(service: Service, request_: dict[str, Any]) -> None:
    """Nothing but ``hello`` is served on a fresh connection to a keyed service."""
    (reply,) = await _exchange(service, request_)
    _assert_forbidden(reply, request_["id"])


@pytest.mark.parametrize("key", ["wrong-key", "", None], ids=["wrong", "empty", "missing"])
async def test_hello_without_the_right_key_is_forbidden(service: Service, key: str | None) -> None:
    """A hello with a wrong or missing key is refused, and does not unlock the connection."""
    hello: dict[str, Any] = {"id": 7, "op": "hello", "version": 1}
    if key is not None:
        hello["key"] = key
    refused, after = await _exchange(
        service, hello, {"id": 8, "op": "page", "route": "/", "request": REQUEST}
    )
    _assert_forbidden(refused, 7)
    _assert_forbidden(after, 8)


async def test_hello_with_the_right_key_is_served(service: Service) -> None:
    """Control: the same service answers a front that knows the key."""
    hello, page = await _exchange(
        service,
        {"id": 1, "op": "hello", "version": 1, "key": KEY},
        {"id": 2, "op": "page", "route": "/", "request": REQUEST},
    )
    assert hello["id"] == 1 and "Counter" in hello["ok"]["islands"], hello
    assert page["id"] == 2 and "parts" in page["ok"], page


@pytest.mark.parametrize("key", ["not-the-key", None], ids=["wrong", "missing"])
def test_front_with_a_wrong_key_fails_to_start(service: Service, key: str | None) -> None:
    """``nowaki front --renderer tcp:… --renderer-key WRONG`` exits non-zero with one clear line."""
    args = ["front", str(FIXTURE_APP), "--port", "0", "--renderer", service.address]
    if key is not None:
        args += ["--renderer-key", key]
    result = run_cli(args, env=clean_env(NOWAKI_SECRET=SECRET), timeout=45)
    print(result.stderr)
    assert result.returncode != 0, result.stderr
    assert "nowaki front on" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    reports = [line for line in result.stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(reports) == 1, result.stderr
    assert "forbidden" in reports[0] or "key" in reports[0], reports


def test_tcp_service_without_a_key_refuses_to_start() -> None:
    """A TCP renderer would run app code for anyone: without --key it exits 2 and binds nothing."""
    port = free_port()
    result = run_cli(["renderer", "--app", str(FIXTURE_APP), "--listen", f"tcp:127.0.0.1:{port}"])
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "--key" in result.stderr and "Traceback" not in result.stderr, result.stderr
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.settimeout(5)
        probe.connect(("127.0.0.1", port))
