"""Where renderers come from: child processes over pipes, or services over sockets.

A source opens one peer for a pool slot and cleans it up afterwards; the pool
does the rest (hello, supervision, deadlines) the same way for both.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import trio


@dataclass(frozen=True, slots=True)
class Peer:
    """An open renderer: its byte streams, a name for logs, and how to end it now."""

    send: trio.abc.SendStream
    receive: trio.abc.ReceiveStream
    name: str
    kill: Callable[[], None]
    pipe_fds: tuple[int, int] | None = None
    """The non-blocking pipe descriptors (write end, read end), for child renderers."""


class Source(Protocol):
    """Opens a renderer peer for a slot; ``key`` is sent in ``hello`` when set."""

    key: str | None

    def open(self, slot: int) -> AbstractAsyncContextManager[Peer]: ...


def renderer_command(app: Path, sandbox: bool = True) -> list[str]:
    """The command that starts one pipe renderer for ``app``."""
    command = [sys.executable, "-m", "nowaki.renderer", "--app", str(app)]
    return command if sandbox else [*command, "--no-sandbox"]


class ProcessSource:
    """Spawn ``command`` with a scrubbed ``env``; speak over its stdin and stdout."""

    key: str | None = None

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.command = list(command)
        self.env = env

    @asynccontextmanager
    async def open(self, slot: int) -> AsyncIterator[Peer]:
        process = await trio.lowlevel.open_process(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env
        )
        assert isinstance(process.stdin, trio.lowlevel.FdStream)
        assert isinstance(process.stdout, trio.lowlevel.FdStream)
        fds = (process.stdin.fileno(), process.stdout.fileno())
        try:
            yield Peer(process.stdin, process.stdout, f"{slot}/pid {process.pid}", process.kill, fds)
        finally:
            with trio.CancelScope(shield=True):
                process.kill()
                await process.wait()


class SocketSource:
    """Connect to a renderer service at ``unix:PATH`` or ``tcp:HOST:PORT``."""

    def __init__(self, address: str, key: str | None = None) -> None:
        kind, _, where = address.partition(":")
        if kind not in ("unix", "tcp") or not where:
            raise ValueError(f"renderer address must be unix:PATH or tcp:HOST:PORT, not {address!r}")
        self.address = address
        self.key = key

    async def _connect(self) -> trio.SocketStream:
        kind, _, where = self.address.partition(":")
        if kind == "unix":
            return await trio.open_unix_socket(where)
        host, _, port = where.rpartition(":")
        return await trio.open_tcp_stream(host.strip("[]"), int(port))

    @asynccontextmanager
    async def open(self, slot: int) -> AsyncIterator[Peer]:
        stream = await self._connect()

        def kill() -> None:
            # Synchronous abort: the reader sees EOF at once and the link dies.
            stream.socket.close()

        try:
            yield Peer(stream, stream, f"{slot}/{self.address}", kill)
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()
