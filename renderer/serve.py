"""The renderer's I/O shell: read frames, let the worker answer, write replies.

Deliberately synchronous: a renderer does one thing at a time, and the front
owns concurrency, deadlines and retries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from nowaki.protocol import errors
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.framing import FrameBuffer, encode_frame
from nowaki.protocol.renderer_wire import error
from nowaki.renderer import sandbox
from nowaki.renderer.worker import Worker

READ_SIZE = 64 * 1024
"""Bytes asked per read: below glibc's mmap threshold, so a read costs no mmap/munmap."""


def _encode(reply: dict[str, Any]) -> bytes:
    try:
        return encode_frame(reply)
    except Exception as exc:  # a value the worker let through that CBOR cannot carry
        return encode_frame(error(reply.get("id", 0), errors.STATE_INVALID, str(exc)))


def serve_stream(worker: Worker, read: Callable[[int], bytes], write: Callable[[bytes], Any]) -> int:
    """Serve one peer until it closes (returns 0) or breaks the framing (returns 3)."""
    frames = FrameBuffer()
    while True:
        data = read(READ_SIZE)
        if not data:
            return 0
        try:
            for message in frames.feed(data):
                write(_encode(worker.handle(message)))
        except ProtocolError as exc:
            print(f"nowaki renderer: protocol error from the front: {exc}", file=sys.stderr)
            return 3
        if sandbox.recycle and not frames.pending:  # CPU budget spent: let the pool replace us
            print("nowaki renderer: CPU budget spent, exiting to be replaced", file=sys.stderr)
            return 0


def _write_all(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def serve_pipes(worker: Worker, fd_in: int, fd_out: int) -> int:
    """Serve the front that spawned us, over the descriptors saved before app import."""
    try:
        return serve_stream(worker, lambda n: os.read(fd_in, n), _write_all(fd_out))
    except BrokenPipeError:
        return 0


def _die_with_parent() -> None:
    """Linux: end this connection's child when the service process ends, however it ends."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


PR_SET_PDEATHSIG = 1


def serve_listener(make_worker: Callable[[], Worker], listener: socket.socket) -> int:
    """Serve fronts on a bound, listening socket: a forked child per connection.

    A child that crashes (island code calling ``os._exit``, a memory limit)
    takes only its own connection down; the front reconnects and the service
    goes on.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            _die_with_parent()
            listener.close()
            try:
                serve_stream(make_worker(), conn.recv, conn.sendall)
            except OSError as exc:
                print(f"nowaki renderer: connection lost: {exc}", file=sys.stderr)
            finally:
                os._exit(0)
        conn.close()
