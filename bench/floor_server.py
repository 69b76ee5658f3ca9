"""The floor servers: bare trio-websocket on loopback, in their own process.

``python -m bench.floor_server echo|chain|hyper --reply TEXT --html-bytes N``

- ``echo``: answers every message with ``--reply`` (a frame the size of
  nowaki's patch reply).
- ``chain``: parses each message (JSON), forwards it as a length-framed CBOR
  ``event`` request to one bare subprocess (``bench.floor_pipe``) over a pipe,
  waits for its ~N-byte HTML reply, then answers with ``--reply``. The least any
  front⇄renderer design can cost.
- ``hyper``: a diagnostic, not a floor: the ``echo`` server as a bare ASGI app
  on hypercorn (configured as nowaki's front configures it), to tell the ASGI
  server's share of nowaki's cost from nowaki's own.

Prints ``floor listening on PORT [pipe PID]`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import resource
import struct
import subprocess
import sys
from typing import Any

import cbor2
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

_HEADER = struct.Struct(">I")


class PipeLink:
    """Request/reply over the bare subprocess's pipes; a reader task wakes each waiter by id."""

    def __init__(self, process: trio.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._send = process.stdin
        self._receive = process.stdout
        self._lock = trio.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, list[Any]] = {}

    async def read_replies(self) -> None:
        buf = bytearray()
        while True:
            data = await self._receive.receive_some(262144)
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                (length,) = _HEADER.unpack_from(buf)
                if len(buf) < 4 + length:
                    break
                reply = cbor2.loads(bytes(buf[4 : 4 + length]))
                del buf[: 4 + length]
                slot = self._waiting.pop(reply["id"], None)
                if slot is not None:
                    slot[1] = reply
                    slot[0].set()

    async def call(self, fields: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        slot: list[Any] = [trio.Event(), None]
        self._waiting[request_id] = slot
        payload = cbor2.dumps({"id": request_id, **fields})
        async with self._lock:
            await self._send.send_all(_HEADER.pack(len(payload)) + payload)
        await slot[0].wait()
        return slot[1]  # type: ignore[no-any-return]


async def hyper(reply: str) -> None:
    """``echo`` as a bare ASGI app on hypercorn (trio worker), bound to a free loopback port."""
    import logging

    from hypercorn.config import Config
    from hypercorn.trio import serve

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            while (await receive())["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": reply})
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.backlog = 2048
    config.websocket_max_message_size = 32768
    async with trio.open_nursery() as nursery:
        asgi: Any = app  # hypercorn types want its own TypedDicts
        binds = await nursery.start(lambda task_status: serve(asgi, config, task_status=task_status))
        print(f"floor listening on {binds[0].rsplit(':', 1)[1]}", flush=True)


async def main(mode: str, reply: str, html_bytes: int) -> None:
    __soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if mode == "hyper":
        await hyper(reply)
        return
    async with trio.open_nursery() as nursery:
        link: PipeLink | None = None
        pipe_note = ""
        if mode == "chain":
            process = await trio.lowlevel.open_process(
                [sys.executable, "-m", "bench.floor_pipe", str(html_bytes)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
            link = PipeLink(process)
            nursery.start_soon(link.read_replies)
            pipe_note = f" pipe {process.pid}"

        async def handler(request: WebSocketRequest) -> None:
            ws = await request.accept()
            state = {"count": 0}
            try:
                while True:
                    message = await ws.get_message()
                    if link is not None:
                        event = json.loads(message)
                        answer = await link.call({
                            "op": "event", "island": "Counter", "handler": event.get("handler"),
                            "state": state, "payload": event.get("payload") or {},
                        })
                        state = answer["ok"]["state"]
                        if not isinstance(answer["ok"]["html"], str):
                            raise RuntimeError("no html")
                    await ws.send_message(reply)
            except ConnectionClosed:
                pass

        server = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, None)
        print(f"floor listening on {server.port}{pipe_note}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["echo", "chain", "hyper"])
    parser.add_argument("--reply", required=True)
    parser.add_argument("--html-bytes", type=int, default=150)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        trio.run(main, args.mode, args.reply, args.html_bytes)
