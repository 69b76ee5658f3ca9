"""One connection to one renderer over a pair of byte streams (pipes or a socket).

Requests carry ids; a reader task matches replies to waiters and drops late
ones. Callers write their own frames, one at a time and shielded from
cancellation, so a caller cancelled mid-write can never leave half a frame on
the wire (a write that stalls past WRITE_TIMEOUT kills the renderer instead).
If the renderer goes away, every waiter learns whether its request was ever
written (safe to retry elsewhere) or was in flight (report, don't retry).
"""

from __future__ import annotations

import itertools
import logging
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


class NotSent(Exception):
    """The renderer was gone before the request reached it: safe to retry elsewhere."""


class _Waiter:
    __slots__ = ("done", "reply", "sent")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.reply: dict[str, Any] | RendererError | None = None
        self.sent = False  # the writer began writing it: the renderer may have run it


class RendererLink:
    """Request/reply over framed CBOR; ``kill`` ends the peer (process or socket)."""

    def __init__(
        self,
        send: trio.abc.SendStream,
        receive: trio.abc.ReceiveStream,
        name: str,
        kill: Callable[[], None],
    ) -> None:
        self.name = name
        self.alive = True
        self.ready = False  # set by the pool once hello succeeded
        self.dead = trio.Event()
        self._send = send
        self._receive = receive
        self._kill = kill
        self._ids = itertools.count(1)
        self._pending: dict[int, _Waiter] = {}
        self._send_lock = trio.StrictFIFOLock()

    def kill(self, why: str) -> None:
        """Stop using this renderer and end it; waiters get ``renderer_crashed``."""
        if self.alive:
            log.warning("renderer %s stopped: %s", self.name, why)
        self._mark_dead()
        self._kill()

    def _mark_dead(self) -> None:
        self.alive = False
        self.dead.set()
        for waiter in self._pending.values():
            waiter.done.set()

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

    async def run(self) -> None:
        """Run for the link's lifetime: deliver replies until EOF or garbage."""
        frames = FrameBuffer()
        try:
            while True:
                data = await self._receive.receive_some(READ_SIZE)
                if not data:
                    break
                for message in frames.feed(bytes(data)):
                    request_id, outcome = check_reply(message)
                    waiter = self._pending.get(request_id)
                    if waiter is not None:  # else: a late reply after a deadline
                        waiter.reply = outcome
                        waiter.done.set()
        except ProtocolError as exc:
            self.kill(f"protocol error: {exc}")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self._mark_dead()

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its reply body; raise RendererError on failure."""
        if not self.alive:
            raise NotSent(self.name)
        request_id = next(self._ids)
        waiter = _Waiter()
        self._pending[request_id] = waiter
        try:
            await self._write(encode_frame(request(request_id, op, **fields)), waiter)
            if waiter.sent:
                await waiter.done.wait()
        finally:
            del self._pending[request_id]
        reply = waiter.reply
        if reply is None and not waiter.sent:
            raise NotSent(self.name)
        if reply is None:
            raise RendererError(errors.RENDERER_CRASHED, f"renderer {self.name} died during {op}")
        if isinstance(reply, RendererError):
            raise reply
        return reply
