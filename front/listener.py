"""The front's listening sockets: live sockets to our own server, the rest to hypercorn.

Each accepted connection's first request line is peeked at (MSG_PEEK, nothing
consumed). ``GET /__nowaki/live`` goes to ``front/live_socket.py``; anything
else is handed, untouched, to hypercorn's per-connection server, so pages,
assets, health, metrics and publish keep hypercorn's HTTP/1.1 handling.
Browsers always open a WebSocket on a fresh connection; an upgrade that comes
on a reused keep-alive connection (some proxies) still works through
hypercorn's ASGI path.

This uses hypercorn's connection-level API (``TCPServer``, ``WorkerContext``)
rather than ``hypercorn.trio.serve``, which owns the accept loop; pyproject
pins the hypercorn versions it was checked against.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import repr_socket_addr, wrap_app

from nowaki.front.hub import Hub
from nowaki.front.live_socket import HANDSHAKE_TIMEOUT, serve_socket

log = logging.getLogger("nowaki.front")

LIVE_REQUEST = b"GET /__nowaki/live"
ACCEPT_BATCH = 64
"""Connections accepted per wake-up before other tasks get a turn."""

_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}


async def wants_live(sock: socket.socket) -> bool:
    """True if the connection's first request line is ``GET /__nowaki/live`` (or ``…?query``)."""
    need = len(LIVE_REQUEST) + 1
    with trio.move_on_after(HANDSHAKE_TIMEOUT):
        while True:
            await trio.lowlevel.wait_readable(sock)
            try:
                data = sock.recv(need, socket.MSG_PEEK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return False
            prefix = data[: len(LIVE_REQUEST)]
            if len(data) >= need or not data or not LIVE_REQUEST.startswith(prefix):
                return prefix == LIVE_REQUEST and data[len(LIVE_REQUEST):need] in (b" ", b"?")
            await trio.sleep(0.005)  # the request line is still arriving
    return False


class Listener:
    """Accepts on hypercorn's configured sockets and routes each connection."""

    def __init__(self, hub: Hub, app: Any, config: Config) -> None:
        self.hub = hub
        self.config = config
        self._app = wrap_app(app, config.wsgi_max_body_size, "asgi")
        self._context = WorkerContext(None)

    async def serve(self, stop: trio.Event, *, task_status: trio.TaskStatus[list[str]]) -> None:
        """Serve until ``stop``; then stop accepting and give open connections the graceful timeout."""
        sockets = self.config.create_sockets()
        binds = []
        for sock in sockets.insecure_sockets:
            sock.listen(self.config.backlog)
            sock.setblocking(False)
            binds.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
        async with trio.open_nursery() as connections:
            async with trio.open_nursery() as accepting:
                for sock in sockets.insecure_sockets:
                    accepting.start_soon(self._accept, sock, connections)
                task_status.started(binds)
                await stop.wait()
                accepting.cancel_scope.cancel()
            for sock in sockets.insecure_sockets:
                trio.lowlevel.notify_closing(sock)
                sock.close()
            await self._context.terminated.set()  # hypercorn's idle keep-alive connections close
            connections.cancel_scope.deadline = trio.current_time() + self.config.graceful_timeout

    async def _accept(self, listener: socket.socket, nursery: trio.Nursery) -> None:
        while True:
            await trio.lowlevel.wait_readable(listener)
            for _ in range(ACCEPT_BATCH):
                try:
                    sock, peer = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    if exc.errno in _OUT_OF_RESOURCES:
                        log.error("event=accept_failed error=%r (waiting 100 ms)", exc)
                        await trio.sleep(0.1)
                        break
                    continue  # e.g. the client gave up while queued
                sock.setblocking(False)
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                address = peer[0] if isinstance(peer, tuple) else ""
                nursery.start_soon(self._route, sock, address, nursery)

    async def _route(self, sock: socket.socket, address: str, nursery: trio.Nursery) -> None:
        if await wants_live(sock):
            try:
                await serve_socket(self.hub, sock, address, nursery)
            except Exception:  # a bug must cost one socket, not the front
                log.exception("event=live_socket_failed address=%s", address)
            return
        stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        # hypercorn types the stream as TLS, but serves a plain SocketStream the same way.
        await TCPServer(self._app, self.config, self._context, ConnectionState({}), stream)  # type: ignore[arg-type]
