"""Which pages may open a live socket: the Origin check both live servers share."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """Same host as the request (any scheme), or listed in ``NOWAKI_ALLOWED_ORIGINS``.

    No Origin header at all is allowed: browsers always send one on a
    WebSocket, so its absence means a non-browser client, which could forge
    any Origin anyway; the check exists to stop other sites' pages.
    """
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return True
    host = (host or "").lower()
    return bool(host) and urlsplit(origin).netloc == host
