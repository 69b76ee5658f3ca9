"""Percentiles and small summaries (nearest-rank, no interpolation)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, mean and count of durations given in seconds, in milliseconds."""
    n = len(seconds)
    return {
        "n": n,
        "p50_ms": percentile(seconds, 50) * 1e3,
        "p90_ms": percentile(seconds, 90) * 1e3,
        "p99_ms": percentile(seconds, 99) * 1e3,
        "mean_ms": (sum(seconds) / n * 1e3) if n else 0.0,
    }


def ratio(ours: float, floor: float) -> float | None:
    """ours / floor, or None when the floor is zero."""
    return ours / floor if floor else None
