"""Front-wide state: settings, the renderer pool and the table of live connections."""

from __future__ import annotations

from dataclasses import dataclass, field

from nowaki.front.config import Settings
from nowaki.front.live import LiveConnection
from nowaki.front.pool import RendererPool


@dataclass(slots=True)
class Hub:
    """Shared by every request the front serves."""

    settings: Settings
    pool: RendererPool
    connections: dict[int, LiveConnection] = field(default_factory=dict)
