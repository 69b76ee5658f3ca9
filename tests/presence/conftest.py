"""Fronts shared by the presence tests (each started and stopped by PID through tests.support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.presence.helpers import PRESENCE_INTERVAL
from tests.support import Front, run_front


@pytest.fixture(scope="session")
def presence_front() -> Iterator[Front]:
    """A front with a short presence interval and the default (long) heartbeat and idle timeout."""
    with run_front(env={"NOWAKI_PRESENCE_INTERVAL": str(PRESENCE_INTERVAL)}) as front:
        yield front
