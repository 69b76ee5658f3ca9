"""Fixtures for the survival tests: real fronts on loopback and one Chromium in its own thread."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.chromium_thread import ChromiumThread
from tests.support import CHROMIUM, Front
from tests.survival.helpers import PUBLISH_TOKEN, running_front


@pytest.fixture(scope="session")
def main_front() -> Iterator[Front]:
    """The fixture app with publishing on (NOWAKI_PUBLISH_TOKEN=tok) and two renderers."""
    with running_front(env={"NOWAKI_PUBLISH_TOKEN": PUBLISH_TOKEN}, renderers=2) as front:
        yield front


@pytest.fixture(scope="session")
def short_front() -> Iterator[Front]:
    """States kept for 1 s only (NOWAKI_LIVE_RESUME=1) and publishing off."""
    with running_front(env={"NOWAKI_LIVE_RESUME": "1"}) as front:
        yield front


@pytest.fixture(scope="session")
def browser_front() -> Iterator[Front]:
    """A front for the browser tests only, so its shared Poll starts at zero."""
    with running_front(env={"NOWAKI_PUBLISH_TOKEN": PUBLISH_TOKEN}, renderers=2) as front:
        yield front


@pytest.fixture(scope="session")
def chromium() -> Iterator[ChromiumThread]:
    """Debian's chromium through Playwright, driven from a thread of its own."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium")
    browser = ChromiumThread()
    try:
        yield browser
    finally:
        browser.close()
