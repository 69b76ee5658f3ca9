"""Shared fixtures: real fronts on loopback, started and stopped by PID, and one
headless Chromium for the whole session (a second sync Playwright in the same
thread cannot start, so every folder's browser tests share this one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.support import CHROMIUM, CHROMIUM_ARGS, FIXTURE_APP, Front, run_front


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def front() -> Iterator[Front]:
    """One front serving the conformance fixture app, shared by read-only tests."""
    with run_front(FIXTURE_APP, renderers=2, env={"NOWAKI_RENDER_TIMEOUT": "2"}) as running:
        yield running
