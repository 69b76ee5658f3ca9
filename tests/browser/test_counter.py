"""Clicks, connection state, independence of islands and tabs, and DOM identity."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import island
from tests.support import Front

pytestmark = pytest.mark.browser


def _counter_round(page: Page, name: str, start: int = 0, nth: int = 0) -> None:
    """``+`` twice then ``-`` once on one counter island; each step shows in its <strong>."""
    counter = island(page, name, nth)
    strong = counter.locator("strong")
    expect(strong).to_have_text(f"live: {start}")
    counter.get_by_role("button", name="+").click()
    expect(strong).to_have_text(f"live: {start + 1}")
    counter.get_by_role("button", name="+").click()
    expect(strong).to_have_text(f"live: {start + 2}")
    counter.get_by_role("button", name="-").click()
    expect(strong).to_have_text(f"live: {start + 1}")


def test_fixture_counter_clicks_update_the_count(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    _counter_round(page, "Counter")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")


def test_demo_live_counter_clicks_update_the_count(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    _counter_round(page, "LiveCounter")


def test_connection_state_and_runtime_module(front: Front, open_page) -> None:
    """The runtime is one module script from /__nowaki/runtime.js; the page goes live."""
    page = open_page()
    runtime_responses = []
    page.on(
        "response",
        lambda r: runtime_responses.append(r) if "/__nowaki/runtime.js" in r.url else None,
    )
    page.goto(front.url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    scripts = page.evaluate(
        """[...document.scripts].filter(s => s.src.includes('/__nowaki/runtime.js'))
           .map(s => ({type: s.type, path: new URL(s.src).pathname}))"""
    )
    assert scripts == [{"type": "module", "path": "/__nowaki/runtime.js"}]
    assert [r.status for r in runtime_responses] == [200]
    assert runtime_responses[0].request.resource_type == "script"


def test_page_without_islands_ships_no_runtime(front: Front, open_page) -> None:
    page = open_page(front.url + "/plain", live=False)
    expect(page.locator("p")).to_have_text("no islands, q=")
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.documentElement.dataset.nowakiLive ?? null") is None


def test_two_instances_on_one_page_are_independent(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    first = island(page, "Counter", 0).locator("strong")
    second = island(page, "Counter", 1).locator("strong")
    expect(first).to_have_text("live: 0")
    expect(second).to_have_text("live: 10")
    island(page, "Counter", 0).get_by_role("button", name="+").click()
    island(page, "Counter", 0).get_by_role("button", name="+").click()
    expect(first).to_have_text("live: 2")
    island(page, "Counter", 1).get_by_role("button", name="-").click()
    expect(second).to_have_text("live: 9")
    expect(first).to_have_text("live: 2")
    island(page, "Counter", 0).get_by_role("button", name="+").click()
    expect(first).to_have_text("live: 3")
    expect(second).to_have_text("live: 9")


def _tabs_are_independent(a: Page, b: Page) -> None:
    # Tabs of one window: the user switches to the tab they click in (background
    # tabs get throttled timers, which would only slow the test down).
    a_count = island(a, "Counter").locator("strong")
    b_count = island(b, "Counter").locator("strong")
    a.bring_to_front()
    for _ in range(3):
        island(a, "Counter").get_by_role("button", name="+").click()
    expect(a_count).to_have_text("live: 3")
    b.bring_to_front()
    island(b, "Counter").get_by_role("button", name="-").click()
    expect(b_count).to_have_text("live: -1")
    a.bring_to_front()
    island(a, "Counter").get_by_role("button", name="+").click()
    expect(a_count).to_have_text("live: 4")
    expect(b_count).to_have_text("live: -1")
    # A reload starts that tab over from its page's token; the other tab is untouched.
    b.bring_to_front()
    b.reload()
    expect(b.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    expect(b_count).to_have_text("live: 0")
    island(b, "Counter").get_by_role("button", name="+").click()
    expect(b_count).to_have_text("live: 1")
    expect(a_count).to_have_text("live: 4")


def test_two_tabs_in_one_context_are_independent(front: Front, open_page, new_context) -> None:
    context = new_context()
    a = open_page(front.url + "/", context=context)
    b = open_page(front.url + "/", context=context)
    _tabs_are_independent(a, b)


def test_two_tabs_in_two_contexts_are_independent(front: Front, open_page) -> None:
    a = open_page(front.url + "/")
    b = open_page(front.url + "/")
    _tabs_are_independent(a, b)


def test_morph_keeps_element_identity(front: Front, open_page) -> None:
    """Unchanged markup keeps its nodes: expandos set before the click survive it."""
    page = open_page(front.url + "/")
    counter = island(page, "Counter")
    page.evaluate(
        """() => {
          const root = document.querySelector('nowaki-live[data-island="Counter"]');
          window.__nodes = {
            root: root.firstElementChild,
            plus: root.querySelector('[data-live=inc]'),
            minus: root.querySelector('[data-live=dec]'),
            strong: root.querySelector('strong'),
          };
          for (const [k, n] of Object.entries(window.__nodes)) n.__tag = k;
        }"""
    )
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 1")
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 2")
    kept = page.evaluate(
        """() => {
          const root = document.querySelector('nowaki-live[data-island="Counter"]');
          const now = {
            root: root.firstElementChild,
            plus: root.querySelector('[data-live=inc]'),
            minus: root.querySelector('[data-live=dec]'),
            strong: root.querySelector('strong'),
          };
          return Object.fromEntries(Object.keys(now).map(k => [k,
            now[k] === window.__nodes[k] && now[k].__tag === k && now[k].isConnected]));
        }"""
    )
    assert kept == {"root": True, "plus": True, "minus": True, "strong": True}


def test_patch_spans_utf16_offsets(front: Front, open_page) -> None:
    """Astral characters before the changing part: the splice must count UTF-16 units."""
    page = open_page(front.url + "/")
    unicode = island(page, "Unicode")
    for n in (1, 2, 3):
        # Unicode renders no button: put one inside the island (not in the server's
        # markup, so each patch removes it again) and click it.
        page.evaluate(
            """() => {
              const b = document.createElement('button');
              b.dataset.live = 'inc';
              document.querySelector('nowaki-live[data-island=Unicode] p').append(b);
              b.click();
            }"""
        )
        expect(unicode.locator("p b")).to_have_text(str(n))
        expect(unicode.locator("p")).to_have_text(re.compile(rf"^héllo 🌊 wörld {n} ✓$"))
        expect(unicode.locator("button")).to_have_count(0)


XLINK = "http://www.w3.org/1999/xlink"


def test_patches_are_parsed_where_nothing_loads_or_runs(front: Front, open_page) -> None:
    """The page's own <img onerror> fires once; the markup of each patch is parsed inertly, so the
    image is not fetched again and its handler does not run again for the parsed copies. A changed
    ``xlink:href`` keeps its namespace."""
    page = open_page(front.url + "/parsing")
    page.wait_for_function("window.nwImageErrors === 1")
    parsing = island(page, "Parsing")
    for n in range(1, 6):
        parsing.get_by_role("button", name="inc").click()
        expect(parsing.locator("b.n")).to_have_text(str(n))
    page.wait_for_timeout(300)  # time for a stray load to fail and report
    assert page.evaluate("window.nwImageErrors") == 1
    href = parsing.locator("use").evaluate(f"u => u.getAttributeNS('{XLINK}', 'href')")
    assert href == "#shape5"
