"""One connection to one renderer over a pair of byte streams (pipes or a socket).

Requests carry ids; a reader task matches replies to waiters and drops late
ones. There are two ways to ask:

- ``start`` writes a small request at once, from the calling task, when the
  link is free and the pipe takes the frame whole (pipe writes up to PIPE_BUF
  are atomic); the reader task hands the reply to a callback. An event then
  costs no task switch beyond the two reads that wake the front up.
- ``call`` awaits the reply: for big requests, busy links, socket renderers,
  and everything that must wait. Callers write their own frames, one at a
  time and shielded from cancellation, so a caller cancelled mid-write can
  never leave half a frame on the wire (a write that stalls past
  WRITE_TIMEOUT kills the renderer instead).

If the renderer goes away, every waiter learns whether its request was ever
written (safe to retry elsewhere) or was in flight (report, don't retry).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import select
from collections.abc import Callable
from typing import Any

import trio

from nowaki.protocol import errors
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.framing import FrameBuffer, encode_frame
from nowaki.protocol.renderer_wire import RendererError, check_reply, request

log = logging.getLogger("nowaki.front")

WRITE_TIMEOUT = 10.0
"""Seconds a request frame may take to enter the pipe (a renderer not reading at all)."""

READ_SIZE = 64 * 1024
"""Bytes asked of the pipe per read: below glibc's mmap threshold, so a read costs no mmap."""

Outcome = dict[str, Any] | RendererError
OnReply = Callable[[Outcome], None]


class NotSent(Exception):
    """The renderer was gone before the request reached it: safe to retry elsewhere."""


class _Waiter:
    __slots__ = ("deadline", "done", "on_reply", "op", "reply", "sent")

    def __init__(self, op: str, on_reply: OnReply | None = None, deadline: float = math.inf) -> None:
        self.op = op
        self.on_reply = on_reply
        self.deadline = deadline
        self.done = trio.Event() if on_reply is None else None
        self.reply: Outcome | None = None
        self.sent = False  # the writer began writing it: the renderer may have run it


async def read_fd(fd: int, size: int) -> bytes:
    """Read what a non-blocking descriptor has (b"" at its end), waiting until it has some.

    One yield per read: trio's pipe stream adds a checkpoint before every read.
    """
    try:
        data = os.read(fd, size)
    except (BlockingIOError, InterruptedError):
        pass
    else:
        await trio.lowlevel.checkpoint()
        return data
    while True:
        await trio.lowlevel.wait_readable(fd)
        try:
            return os.read(fd, size)
        except (BlockingIOError, InterruptedError):
            continue


def fits_start(op: str, fields: dict[str, Any]) -> bool:
    """Whether ``start`` can write this request (whatever its id) in one atomic pipe write."""
    return len(encode_frame(request(0, op, **fields))) <= select.PIPE_BUF - 8  # ids grow to 9 bytes


class RendererLink:
    """Request/reply over framed CBOR; ``kill`` ends the peer (process or socket)."""

    def __init__(
        self,
        send: trio.abc.SendStream,
        receive: trio.abc.ReceiveStream,
        name: str,
        kill: Callable[[], None],
        pipe_fds: tuple[int, int] | None = None,
    ) -> None:
        """``pipe_fds`` (write end, read end): the raw pipes, for ``start`` and cheaper reads."""
        self.name = name
        self.alive = True
        self.ready = False  # set by the pool once hello succeeded
        self.dead = trio.Event()
        self._send = send
        self._receive = receive
        self._kill = kill
        self._pipes = pipe_fds
        self._ids = itertools.count(1)
        self._pending: dict[int, _Waiter] = {}
        self._send_lock = trio.StrictFIFOLock()

    @property
    def fast(self) -> bool:
        """Whether ``start`` may be used (a child over pipes)."""
        return self._pipes is not None

    def kill(self, why: str) -> None:
        """Stop using this renderer and end it; waiters get ``renderer_crashed``."""
        if self.alive:
            log.warning("renderer %s stopped: %s", self.name, why)
        self._mark_dead()
        self._kill()

    def _mark_dead(self) -> None:
        self.alive = False
        self.dead.set()
        for request_id, waiter in list(self._pending.items()):
            if waiter.on_reply is None:
                assert waiter.done is not None
                waiter.done.set()
            else:
                del self._pending[request_id]
                why = f"renderer {self.name} died during {waiter.op}"
                self._deliver(waiter.on_reply, waiter.reply or RendererError(errors.RENDERER_CRASHED, why))

    @staticmethod
    def _deliver(on_reply: OnReply, outcome: Outcome) -> None:
        try:
            on_reply(outcome)
        except Exception:  # a bug in one reply's handling must not end the link
            log.exception("event=reply_handler_failed")

    def expire(self, now: float, timeout: float) -> bool:
        """Mark started requests past their deadline as timed out; True if any (then kill)."""
        late = False
        for waiter in self._pending.values():
            if waiter.on_reply is not None and waiter.deadline < now:
                waiter.reply = RendererError(errors.TIMEOUT, f"{waiter.op} took longer than {timeout:g}s")
                late = True
        return late

    def start(self, op: str, on_reply: OnReply, deadline: float, **fields: Any) -> bool:
        """Write a request now if it fits in one atomic pipe write; False if nothing was written."""
        if not self.alive or self._pipes is None or self._send_lock.locked():
            return False
        request_id = next(self._ids)
        frame = encode_frame(request(request_id, op, **fields))
        if len(frame) > select.PIPE_BUF:
            return False
        try:
            os.write(self._pipes[0], frame)  # all or nothing, up to PIPE_BUF
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self._mark_dead()
            return False
        waiter = _Waiter(op, on_reply, deadline)
        waiter.sent = True
        self._pending[request_id] = waiter
        return True

    async def _write(self, frame: bytes, waiter: _Waiter) -> None:
        """Write one whole frame, or kill the link: never half a frame and go on."""
        async with self._send_lock:
            if not self.alive:
                return
            with trio.CancelScope(shield=True) as scope:
                scope.deadline = trio.current_time() + WRITE_TIMEOUT
                try:
                    await self._send.send_all(frame)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._mark_dead()  # this frame never reached a live renderer: NotSent
                    return
            if scope.cancelled_caught:
                self.kill(f"a request write stalled for {WRITE_TIMEOUT:g}s")
                return
            # No checkpoint between the last write and here, so the reader cannot
            # have seen the renderer die "before" this flag says the frame was sent.
            waiter.sent = True

    async def _read(self) -> bytes:
        if self._pipes is not None:
            return await read_fd(self._pipes[1], READ_SIZE)
        return bytes(await self._receive.receive_some(READ_SIZE))

    async def run(self) -> None:
        """Run for the link's lifetime: deliver replies until EOF or garbage."""
        frames = FrameBuffer()
        pending = self._pending
        try:
            while True:
                data = await self._read()
                if not data:
                    break
                for message in frames.feed(data):
                    request_id, outcome = check_reply(message)
                    waiter = pending.get(request_id)
                    if waiter is None:
                        continue  # a late reply after a deadline
                    if waiter.on_reply is None:
                        assert waiter.done is not None
                        waiter.reply = outcome
                        waiter.done.set()
                    else:
                        del pending[request_id]
                        self._deliver(waiter.on_reply, waiter.reply or outcome)
        except ProtocolError as exc:
            self.kill(f"protocol error: {exc}")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self._mark_dead()

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its reply body; raise RendererError on failure."""
        if not self.alive:
            raise NotSent(self.name)
        request_id = next(self._ids)
        waiter = _Waiter(op)
        assert waiter.done is not None
        self._pending[request_id] = waiter
        try:
            await self._write(encode_frame(request(request_id, op, **fields)), waiter)
            if waiter.sent:
                await waiter.done.wait()
        finally:
            self._pending.pop(request_id, None)
        reply = waiter.reply
        if reply is None and not waiter.sent:
            raise NotSent(self.name)
        if reply is None:
            raise RendererError(errors.RENDERER_CRASHED, f"renderer {self.name} died during {op}")
        if isinstance(reply, RendererError):
            raise reply
        return reply
