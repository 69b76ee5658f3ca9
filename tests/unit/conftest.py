"""Unit-test settings: bounded, file-free hypothesis profiles for property tests.

``make test`` uses ``nowaki-unit`` (300 examples); ``make fuzz`` sets
``NOWAKI_FUZZ=1`` for ``nowaki-fuzz`` (50,000 examples each).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "nowaki-unit",
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nowaki-fuzz",
    max_examples=50_000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nowaki-fuzz" if os.environ.get("NOWAKI_FUZZ") else "nowaki-unit")
