"""A hostile renderer service behind ``nowaki front --renderer unix:PATH``.

The service is a proxy written here: it forwards frames to a real renderer
service, and on its first connection, once armed, answers the next ``event``
request with garbage, a truncated frame, a 100 MiB header, a stray id, or a
stall mid-frame. Its second connection behaves, so the front must recover.
"""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import cbor2
import pytest
import trio

from nowaki.protocol.framing import encode_frame
from tests.conformance.live_client import connect, page_islands
from tests.hostile.helpers import base_env, front_process, health
from tests.support import FIXTURE_APP
from tests.support.processes import await_ready, nowaki_argv, spawn_logged, stop

HEADER = struct.Struct(">I")
SERVICE_READY = re.compile("listening on")


async def _read_exactly(stream: trio.SocketStream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class HostileProxy:
    """Forwards wire R to a real renderer; misbehaves once on the first connection when armed."""

    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream = upstream
        self.mode = mode
        self.armed = False
        self.connections = 0
        self.misbehaved = trio.Event()

    def _bad_bytes(self, request_id: int) -> bytes:
        if self.mode == "garbage":
            return HEADER.pack(16) + b"\xff" * 16
        if self.mode == "truncated":
            return HEADER.pack(100) + b"\xa2bid"
        if self.mode == "huge_header":
            return HEADER.pack(100 * 1024 * 1024) + b"\x00" * 64
        if self.mode == "unknown_id":
            return encode_frame({"id": request_id + 1000, "ok": {"state": {"count": 99}, "html": "<b>x</b>"}})
        if self.mode == "stall":
            reply = {"id": request_id, "ok": {"state": {"count": 99}, "html": "<b>" + "x" * 200}}
            frame = encode_frame(reply)
            return frame[: len(frame) // 2]
        raise AssertionError(self.mode)

    async def handle(self, front: trio.SocketStream) -> None:
        """Serve one front connection."""
        self.connections += 1
        hostile = self.connections == 1
        upstream = await trio.open_unix_socket(self.upstream)
        async with upstream, front, trio.open_nursery() as nursery:

            async def back() -> None:
                while chunk := await upstream.receive_some(65536):
                    await front.send_all(chunk)
                nursery.cancel_scope.cancel()

            nursery.start_soon(back)
            while True:
                head = await _read_exactly(front, HEADER.size)
                if head is None:
                    break
                payload = await _read_exactly(front, HEADER.unpack(head)[0])
                if payload is None:
                    break
                message = cbor2.loads(payload)
                if hostile and self.armed and message.get("op") == "event" and not self.misbehaved.is_set():
                    await front.send_all(self._bad_bytes(message["id"]))
                    self.misbehaved.set()
                    while await front.receive_some(65536):  # silence until the front hangs up
                        pass
                    break
                await upstream.send_all(head + payload)
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def renderer_service(path: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A real ``nowaki renderer --listen unix:PATH`` for the fixture app; stopped by PID after."""
    argv = nowaki_argv("renderer", "--app", str(FIXTURE_APP), "--listen", f"unix:{path}")
    process, log_path = spawn_logged(argv, base_env(), "nowaki-hostile-svc-")
    try:
        await await_ready(SERVICE_READY, process, log_path, "renderer service", 30)
        yield process
    finally:
        stop(process)


EXPECTED = {
    "garbage": "renderer_crashed",
    "truncated": "timeout",
    "huge_header": "renderer_crashed",
    "unknown_id": "timeout",
    "stall": "timeout",
}


@pytest.mark.parametrize("mode", list(EXPECTED))
async def test_hostile_renderer_output(mode: str) -> None:
    """The event gets an error, the front stays up, drops the renderer, reconnects, and state survives."""
    folder = Path(tempfile.mkdtemp(prefix="nwk-"))
    real, hostile_path = folder / "real.sock", folder / "hostile.sock"
    proxy = HostileProxy(str(real), mode)
    async with renderer_service(str(real)), trio.open_nursery() as nursery:
        sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
        await sock.bind(str(hostile_path))
        sock.listen(16)
        await nursery.start(trio.serve_listeners, proxy.handle, [trio.SocketListener(sock)])
        env = base_env(NOWAKI_RENDER_TIMEOUT="1")
        args = ["front", str(FIXTURE_APP), "--renderer", f"unix:{hostile_path}"]
        async with front_process(args, env) as front:
            islands = await page_islands(front.url)
            async with connect(front.ws_url) as client:
                assert (await client.join([(0, islands[0].token)]))["ids"] == [0]
                first = await client.event(0, "inc")
                assert first["type"] == "patch", first
                proxy.armed = True
                began = time.monotonic()
                failed = await client.event(0, "inc", timeout=10)
                took = time.monotonic() - began
                print(f"MEASURE hostile_renderer mode={mode} reply={failed.get('code')} seconds={took:.2f}")
                assert proxy.misbehaved.is_set()
                assert failed["type"] == "error" and failed["id"] == 0, failed
                assert failed["code"] in ("renderer_crashed", "timeout"), failed
                assert failed["code"] == EXPECTED[mode], failed
                assert took < 4.0, took
                after = await client.event(0, "inc", timeout=20)
                assert after["type"] == "patch", after
                assert "live: 2" in client.copies[0], client.copies[0]
                await client.ping()
            code, body = await health(front)
            assert code == 200 and body["renderers_up"] == 1, (code, body)
            assert front.process.poll() is None
            log = front.log()
            assert "stopped:" in log and "event=renderer_restart" in log, log[-3000:]
            assert proxy.connections >= 2, proxy.connections
        nursery.cancel_scope.cancel()
