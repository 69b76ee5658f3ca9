"""Shared fixtures: real fronts on loopback, started and stopped by PID."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import FIXTURE_APP, Front, run_front


@pytest.fixture(scope="session")
def front() -> Iterator[Front]:
    """One front serving the conformance fixture app, shared by read-only tests."""
    with run_front(FIXTURE_APP, renderers=2, env={"NOWAKI_RENDER_TIMEOUT": "2"}) as running:
        yield running
