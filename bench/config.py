"""How big each measurement is: the full run (``make bench``) and ``--quick`` for development."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """Counts and durations of every measurement; every loop also has a time limit."""

    mode: str
    budget: float = 540.0  # seconds for the whole run; later sections are skipped past it
    # event round trip: sequential on one connection, in interleaved blocks
    rtt_events: int = 5000
    rtt_blocks: int = 25
    rtt_warmup: int = 200
    rtt_time_limit: float = 40.0  # per side, over all its blocks
    # throughput: closed-loop clients
    clients: int = 50
    thr_seconds: float = 5.0
    thr_blocks: int = 2
    thr_warmup: float = 0.5
    # idle connections and scaling
    idle_conns: int = 5000
    scale_small: int = 10
    scale_events: int = 2000
    scale_blocks: int = 20
    scale_time_limit: float = 30.0  # per front, over all its blocks
    open_time_limit: float = 150.0
    settle: float = 2.0
    # presence churn
    churn_connected: int = 1000
    churn_ops: int = 1000
    # shared fan-out
    viewers: int = 1000
    # wire bytes
    wire_events: int = 20
    # browser
    clicks: int = 300
    click_warmup: int = 30
    click_blocks: int = 30
    # renderer over pipes
    renderer_seconds: float = 3.0


FULL = Sizes(mode="full")
"""``make bench``: the sizes the issue asks for, in under 10 minutes on 2 cores."""

QUICK = Sizes(
    mode="quick", budget=150.0,
    rtt_events=400, rtt_blocks=4, rtt_warmup=50, rtt_time_limit=10.0,
    thr_seconds=1.0, thr_blocks=1, thr_warmup=0.3,
    idle_conns=400, scale_events=300, scale_blocks=3, scale_time_limit=10.0, open_time_limit=60.0,
    settle=1.0,
    churn_connected=150, churn_ops=150,
    viewers=150,
    wire_events=5,
    clicks=40, click_warmup=10, click_blocks=2,
    renderer_seconds=0.7,
)


def override(sizes: Sizes, items: Iterable[str]) -> Sizes:
    """``sizes`` with ``NAME=VALUE`` overrides (development only: such runs write results-quick.*)."""
    types = {f.name: f.type for f in fields(Sizes)}
    changes: dict[str, Any] = {}
    for item in items:
        name, _, raw = item.partition("=")
        if name not in types or name == "mode" or not raw:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE with NAME one of {', '.join(types)}")
        changes[name] = float(raw) if types[name] in (float, "float") else int(raw)
    return replace(sizes, **changes)
