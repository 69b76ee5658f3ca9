"""Unit-test settings: a bounded, file-free hypothesis profile for property tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "nowaki-unit",
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nowaki-unit")
