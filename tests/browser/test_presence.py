"""The presence mirror and the connection cap, seen from real pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import island
from tests.support import DEMO_APP, FIXTURE_APP, run_front

pytestmark = pytest.mark.browser

RECORD_PRESENCE = """
window.__presence = [];
document.addEventListener('nowaki:presence', e => window.__presence.push(e.detail.count));
"""


def _presence(page: Page) -> list[int]:
    return page.evaluate("window.__presence")


def test_presence_mirror_counts_live_pages(open_page) -> None:
    # Its own front: the count is exactly the pages of this test.
    with run_front(DEMO_APP, renderers=1) as front:
        a = open_page(front.url + "/", init_script=RECORD_PRESENCE)
        mirror_a = a.locator("[data-nowaki-presence]")
        expect(mirror_a).to_have_text("1")
        b = open_page(front.url + "/", init_script=RECORD_PRESENCE)
        expect(b.locator("[data-nowaki-presence]")).to_have_text("2")
        expect(mirror_a).to_have_text("2")
        b.close()
        expect(mirror_a).to_have_text("1")
        seen = _presence(a)
        assert seen[0] == 1 and 2 in seen and seen[-1] == 1, seen


def test_over_the_connection_cap_is_refused(open_page) -> None:
    with run_front(FIXTURE_APP, renderers=1, env={"NOWAKI_LIVE_MAX": "1"}) as front:
        first = open_page(front.url + "/")
        second = open_page(front.url + "/", live=False)
        expect(second.locator("html")).to_have_attribute("data-nowaki-live", "refused")
        # The refused page keeps its server-rendered view and sends nothing.
        counter = island(second, "Counter")
        counter.get_by_role("button", name="+").click()
        expect(counter.locator("strong")).to_have_text("live: 0")
        expect(second.locator("nowaki-live[aria-busy]")).to_have_count(0)
        # The page within the cap is unaffected.
        island(first, "Counter").get_by_role("button", name="+").click()
        expect(island(first, "Counter").locator("strong")).to_have_text("live: 1")
        expect(first.locator("html")).to_have_attribute("data-nowaki-live", "connected")
        expect(second.locator("html")).to_have_attribute("data-nowaki-live", "refused")
