"""Operational numbers: ``/__nowaki/metrics`` (Prometheus text) and ``/__nowaki/health``.

prometheus-client is the reference implementation of the exposition format;
each front gets its own registry so several fronts (or tests) in one process
never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The front's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.live = Gauge("nowaki_live_connections", "Live connections joined right now", registry=r)
        self.refused = Counter(
            "nowaki_refused_connections", "Live connections refused (cap, origin)", ["reason"], registry=r
        )
        self.events = Counter(
            "nowaki_events", "Island events by outcome (ok or an error code)", ["outcome"], registry=r
        )
        self.latency = Histogram(
            "nowaki_event_patch_seconds",
            "Time from receiving an event to queueing its patch",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.patch_bytes = Histogram(
            "nowaki_patch_bytes",
            "Size of each patch frame sent",
            buckets=(32, 64, 128, 256, 512, 1024, 4096, 16384, 65536),
            registry=r,
        )
        self.restarts = Counter(
            "nowaki_renderer_restarts", "Renderers replaced after dying or missing a deadline",
            registry=r,
        )
        self.renderers_up = Gauge("nowaki_renderers_up", "Renderers alive", registry=r)
        self.predictions = Counter(
            "nowaki_predictions",
            "Replies computed ahead (made), then used at once (hit), awaited (joined) or not",
            ["outcome"], registry=r,
        )

        self.events_ok = self.events.labels("ok")  # the per-event hot path skips the label lookup

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return bytes(generate_latest(self.registry))
