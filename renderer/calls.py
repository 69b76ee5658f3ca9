"""Call app functions with as many arguments as they accept, the way JavaScript does.

The seed's handlers are written ``() => …``, ``(s) => …`` or ``(s, payload) =>
…``; JavaScript drops extra arguments silently. Python would raise, so we look
at each function's signature once and pass only what it takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _accepts(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments ``fn`` takes; None means any number."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: give them all
        return None
    count = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return None
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` with the leading ``args`` it accepts."""
    accepts = _accepts(fn)
    return fn(*args) if accepts is None else fn(*args[:accepts])
