"""The hot-path metrics: plain counters exposed in the Prometheus text format when scraped."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from nowaki.front.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
    }


def test_histogram_buckets_are_cumulative_and_a_value_on_a_bound_counts_in_it() -> None:
    metrics = Metrics()
    for value in (32, 33, 64, 5000, 10**6):
        metrics.patch_bytes.observe(value)
    samples = _samples(metrics)
    buckets = [samples[("nowaki_patch_bytes_bucket", (("le", le),))]
               for le in ("32.0", "64.0", "4096.0", "16384.0", "+Inf")]
    assert buckets == [1, 3, 3, 4, 5]
    assert samples[("nowaki_patch_bytes_count", ())] == 5
    assert samples[("nowaki_patch_bytes_sum", ())] == 32 + 33 + 64 + 5000 + 10**6


def test_labelled_counters_count_each_outcome() -> None:
    metrics = Metrics()
    for outcome in ("ok", "ok", "timeout"):
        metrics.events.add(outcome)
    metrics.predictions.add("hit")
    samples = _samples(metrics)
    assert samples[("nowaki_events_total", (("outcome", "ok"),))] == 2
    assert samples[("nowaki_events_total", (("outcome", "timeout"),))] == 1
    assert samples[("nowaki_predictions_total", (("outcome", "hit"),))] == 1
