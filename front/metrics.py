"""Operational numbers: ``/__nowaki/metrics`` (Prometheus text) and ``/__nowaki/health``.

prometheus-client is the reference implementation of the exposition format;
each front gets its own registry so several fronts (or tests) in one process
never share counters. The numbers updated on every event (events, their
latency and patch sizes, predictions) are plain Python counters turned into
metric families only when scraped: prometheus-client's own counters take a
lock and a label lookup per update, which an event's critical path does not
need.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Tally:
    """A counter by one label, exposed as ``<name>_total{<label>=…}``."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.counts: dict[str, int] = {}

    def add(self, value: str) -> None:
        self.counts[value] = self.counts.get(value, 0) + 1

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, count in sorted(self.counts.items()):
            family.add_metric([value], count)
        return family


class Buckets:
    """A histogram with fixed upper bounds (``+Inf`` added)."""

    def __init__(self, name: str, documentation: str, bounds: tuple[float, ...]) -> None:
        self.name, self.documentation, self.bounds = name, documentation, bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def family(self) -> Metric:
        cumulative, running = [], 0
        for bound, count in zip((*map(_le, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=self.sum)


def _le(bound: float) -> str:
    return repr(float(bound))


class _Hot(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        yield from (m.events.family(), m.latency.family(), m.patch_bytes.family(), m.predictions.family())


class Metrics:
    """The front's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.live = Gauge("nowaki_live_connections", "Live connections joined right now", registry=r)
        self.refused = Counter(
            "nowaki_refused_connections", "Live connections refused (cap, origin)", ["reason"], registry=r
        )
        self.restarts = Counter(
            "nowaki_renderer_restarts", "Renderers replaced after dying or missing a deadline",
            registry=r,
        )
        self.renderers_up = Gauge("nowaki_renderers_up", "Renderers alive", registry=r)
        self.events = Tally("nowaki_events", "Island events by outcome (ok or an error code)", "outcome")
        self.latency = Buckets(
            "nowaki_event_patch_seconds", "Time from receiving an event to queueing its patch",
            (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.patch_bytes = Buckets(
            "nowaki_patch_bytes", "Size of each patch frame sent",
            (32, 64, 128, 256, 512, 1024, 4096, 16384, 65536),
        )
        self.predictions = Tally(
            "nowaki_predictions",
            "Replies computed ahead (made), then used at once (hit), awaited (joined) or not",
            "outcome",
        )
        r.register(_Hot(self))

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return bytes(generate_latest(self.registry))
