"""Fixtures for the service and CLI tests: one headless Chromium in its own thread."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.services.chromium import ChromiumThread
from tests.support import CHROMIUM


@pytest.fixture(scope="session")
def chromium() -> Iterator[ChromiumThread]:
    """Debian's chromium, launched once for the browser tests of this folder."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    browser = ChromiumThread()
    try:
        yield browser
    finally:
        browser.close()
