"""The smallest-span patch between two HTML strings, in JavaScript string units.

The front keeps the HTML it last sent each client and sends only the span
that changed: ``(start, delete_count, inserted)`` such that the client's
``old[:start] + inserted + old[start + delete_count:]`` equals ``new``.
Offsets count UTF-16 code units because the runtime splices JavaScript
strings; for ASCII (the usual case) they equal Python indexes.
"""

from __future__ import annotations

Patch = tuple[int, int, str]


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix, by binary search over C-speed slice compares."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    la, lb = len(a), len(b)
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def diff(old: str, new: str) -> Patch | None:
    """The patch turning ``old`` into ``new``, or None when they are equal."""
    if old == new:
        return None
    limit = min(len(old), len(new))
    prefix = _common_prefix(old, new, limit)
    suffix = _common_suffix(old, new, limit - prefix)
    # Keep the prefix off a surrogate pair's middle: Python indexes code points,
    # so a split here always falls between whole characters.
    start = _utf16_len(old[:prefix])
    deleted = _utf16_len(old[prefix : len(old) - suffix])
    return start, deleted, new[prefix : len(new) - suffix]


def apply(old: str, patch: Patch) -> str:
    """Apply a patch the way the runtime does (UTF-16 offsets), for tests and tools."""
    start, deleted, inserted = patch
    units = old.encode("utf-16-le")
    head = units[: 2 * start].decode("utf-16-le")
    tail = units[2 * (start + deleted) :].decode("utf-16-le")
    return head + inserted + tail
