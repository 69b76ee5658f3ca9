"""Confinement applied to a renderer before it imports any app code.

Each step is best effort where the OS may refuse it; ``apply`` returns what is
active so the renderer can log it at start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import stat
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

DEFAULT_MEMORY = 1024 * 1024 * 1024
"""Address-space limit in bytes (``NOWAKI_RENDER_MEMORY``)."""

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "PYTHONHASHSEED")
"""Variables a renderer keeps; everything else is scrubbed (the secret above all)."""


def scrubbed_env(environ: dict[str, str], extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment a renderer is started with: only ``KEEP_ENV`` and ``NOWAKI_APP_*``."""
    keep = set(KEEP_ENV) | set(extra)
    return {
        key: value
        for key, value in environ.items()
        if key in keep or key.startswith("NOWAKI_APP_")
    }


def _unshare(flags: int) -> bool:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return bool(libc.unshare(flags) == 0)


def isolate_network() -> bool:
    """Move into a new, empty network namespace: no interface is up, not even loopback."""
    if not hasattr(os, "fork") or os.uname().sysname != "Linux":
        return False
    return _unshare(CLONE_NEWNET) or _unshare(CLONE_NEWUSER | CLONE_NEWNET)


def limit_resources(memory: int) -> list[str]:
    """Cap address space, open files and file size; return what was applied."""
    applied = []
    for name, limit, label in (
        ("RLIMIT_AS", memory, f"memory {memory // (1024 * 1024)} MiB"),
        ("RLIMIT_NOFILE", 256, "256 open files"),
        ("RLIMIT_FSIZE", 64 * 1024 * 1024, "64 MiB files"),
        ("RLIMIT_CORE", 0, "no core dumps"),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (limit, limit))
            applied.append(label)
        except (ValueError, OSError, AttributeError):
            pass
    try:
        # CPU seconds over a renderer's whole life: at the soft limit SIGXCPU asks
        # it to finish its request and exit, and the pool starts a fresh one.
        seconds = int(os.environ.get("NOWAKI_RENDER_CPU") or CPU_SECONDS)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 60))
        signal.signal(signal.SIGXCPU, _recycle_soon)
        applied.append(f"recycled after {seconds} CPU seconds")
    except (ValueError, OSError, AttributeError):
        pass
    return applied


CPU_SECONDS = 3600
"""A renderer's CPU-time budget for its whole life (RLIMIT_CPU soft limit; NOWAKI_RENDER_CPU)."""

recycle = False
"""Set when the CPU budget is spent: the serve loop exits after the current reply."""


def _recycle_soon(signum: int, frame: object) -> None:
    global recycle
    recycle = True


NOBODY = 65534
"""The unprivileged user and group a renderer started as root switches to."""


def _world_readable(path: Path) -> bool:
    """Whether any user may read ``path`` (a folder) and reach it from ``/``."""
    try:
        if path.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def drop_privileges(needed: list[Path]) -> bool:
    """Become ``nobody`` if running as root and everything the renderer reads stays readable.

    Where the app or Python lives in a folder only root may enter (a checkout
    under /root, say), dropping would break the renderer, so it keeps root and
    the start log says so.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    if not all(_world_readable(path) for path in needed if path.exists()):
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return True


def apply(memory: int, network: bool = True, readable: list[Path] | None = None) -> list[str]:
    """Confine this process; return the protections now active, for the start log."""
    active = limit_resources(memory)
    if network and isolate_network():
        active.append("no network")
    if os.geteuid() != 0:
        active.append("unprivileged user")
    elif drop_privileges(readable or []):
        active.append("user nobody")
    else:
        active.append("still root: the app or Python is not readable by nobody")
    return active
