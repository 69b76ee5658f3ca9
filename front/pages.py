"""Server-side rendering of pages: ask a renderer, then wrap and sign each island."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from nowaki.protocol.token import sign

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def wrap_island(secret: bytes, island: dict[str, Any]) -> str:
    """``<nowaki-live>`` around an island's first render, carrying its signed state."""
    name = str(island["island"])
    props = island.get("props")
    token = sign(secret, name, island["state"], props=props if isinstance(props, dict) else None)
    return (
        f'<nowaki-live data-island="{escape(name)}" data-token="{token}">'
        f"{island['html']}</nowaki-live>"
    )


def assemble(parts: list[Any], secret: bytes, script: str) -> str:
    """Join a renderer's ``page`` parts into the page the browser gets.

    Text parts pass through; island parts become live wrappers. The runtime
    ``<script>`` is added before ``</body>`` (or at the end) only when the page
    has at least one live island: pages without islands ship no JavaScript.
    """
    chunks: list[str] = []
    has_islands = False
    for part in parts:
        if isinstance(part, str):
            chunks.append(part)
        elif isinstance(part, dict):
            chunks.append(wrap_island(secret, part))
            has_islands = True
    page = "".join(chunks)
    if not has_islands:
        return page
    ends = list(_BODY_END.finditer(page))
    if not ends:
        return page + script
    cut = ends[-1].start()
    return page[:cut] + script + page[cut:]
