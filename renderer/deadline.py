"""A per-request deadline inside the renderer, so a runaway handler ends itself.

The front keeps its own deadline as a backstop (it kills a renderer that does
not answer), but a renderer that interrupts its own runaway Python code stays
alive, and a renderer service whose front went away cannot loop forever.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Deadline(BaseException):
    """The request ran out of time. A BaseException, so app code's ``except Exception`` can't eat it."""


_installed = False


def _expire(signum: int, frame: FrameType | None) -> None:
    raise Deadline()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise Deadline in this (main) thread if the block runs longer than ``seconds``."""
    if not seconds:
        yield
        return
    global _installed
    if not _installed:  # once: getsignal() per request costs enum conversions
        signal.signal(signal.SIGALRM, _expire)
        _installed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
