"""A renderer command run as a real child process, spoken to over its stdin/stdout pipes."""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from nowaki.protocol.framing import FrameBuffer, encode_frame


class RendererGone(Exception):
    """The renderer closed its stdout (exited) before the awaited reply."""


class PipeRenderer:
    """One renderer process; every read is bounded by a timeout (``select``), never a bare block."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin
        self._out = self.process.stdout.fileno()
        self._frames = FrameBuffer()
        self._inbox: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.eof = False

    # -- writing ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Raw bytes to the renderer's stdin."""
        self._in.write(data)
        self._in.flush()

    def send(self, message: dict[str, Any]) -> None:
        """One framed request."""
        self.write(encode_frame(message))

    def next_id(self) -> int:
        """A request id not used before on this renderer."""
        return next(self._ids)

    def close_stdin(self) -> None:
        """EOF on the renderer's stdin."""
        self._in.close()

    # -- reading ---------------------------------------------------------------

    def _pump(self, deadline: float) -> None:
        """Read once (waiting at most until ``deadline``) into the inbox; raise on EOF or timeout."""
        if self.eof:
            raise RendererGone(self.log())
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply from the renderer in time; its stderr:\n{self.log()}")
        ready, _, _ = select.select([self._out], [], [], remaining)
        if not ready:
            raise TimeoutError(f"no reply from the renderer in time; its stderr:\n{self.log()}")
        data = os.read(self._out, 1 << 20)
        if not data:
            self.eof = True
            raise RendererGone(self.log())
        self._inbox.extend(self._frames.feed(data))

    def reply(self, request_id: int | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The next reply (with ``request_id`` when given), waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self._inbox):
                if request_id is None or message.get("id") == request_id:
                    return self._inbox.pop(index)
            self._pump(deadline)

    def call(self, op: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """Send one request and return its reply (the whole reply map)."""
        request_id = self.next_id()
        self.send({"id": request_id, "op": op, **fields})
        return self.reply(request_id, timeout)

    def read_to_eof(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Every frame until the renderer closes stdout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._pump(deadline)
        except RendererGone:
            pass
        out, self._inbox = self._inbox, []
        return out

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete frame received so far."""
        return self._frames.pending

    # -- lifetime --------------------------------------------------------------

    def wait(self, timeout: float = 5.0) -> int:
        """The exit status, waiting at most ``timeout``."""
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        """What the renderer wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        """Stop this renderer (EOF, then SIGKILL by its PID if it lingers) and release its pipes."""
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self._in.close()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()
