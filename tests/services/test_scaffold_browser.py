"""``nowaki new NAME`` then ``nowaki start NAME``: the scaffold works as it is, in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.services.chromium import ChromiumThread
from tests.services.procs import nowaki_front, run_cli
from tests.support import Front

pytestmark = pytest.mark.browser


def _click_plus(page: Page, front: Front) -> None:
    page.goto(front.url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected", timeout=10_000)
    expect(page.locator("h1")).to_have_text("hello-app")
    counter = page.locator('nowaki-live[data-island="Counter"]')
    expect(counter.locator("strong")).to_have_text("live: 0")
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 1")
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 2")
    expect(page.locator("[data-nowaki-presence]")).to_have_text("1")


def test_new_app_is_served_and_live(chromium: ChromiumThread, tmp_path: Path) -> None:
    """The scaffolded app starts with `nowaki start NAME` and its counter counts in a browser."""
    created = run_cli(["new", "hello-app"], cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    for part in ("islands/Counter.py", "pages/index.py", "README.md"):
        assert (tmp_path / "hello-app" / part).is_file(), part
    with nowaki_front("start", "hello-app", "--renderers", "1", cwd=tmp_path) as front:
        chromium.run_page(lambda page: _click_plus(page, front))
        assert "Traceback" not in front.log(), front.log()
