"""Pending and failure feedback on the island: aria-busy, data-live-error, nowaki:error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import island
from tests.support import Front

pytestmark = pytest.mark.browser

ANY = re.compile(".*")  # with not_to_have_attribute: the attribute is absent


def test_aria_busy_while_an_event_is_in_flight(front: Front, open_page) -> None:
    """Slow.slow sleeps 0.8 s: its island is busy until the patch lands, the other never."""
    page = open_page(front.url + "/slow")
    slow, other = island(page, "Slow", 0), island(page, "Slow", 1)
    expect(slow).not_to_have_attribute("aria-busy", "true")
    # Record every aria-busy change of both islands, to see the order of things.
    page.evaluate(
        """() => {
          window.__busy = [];
          document.querySelectorAll('nowaki-live').forEach((e, i) =>
            new MutationObserver(() => window.__busy.push(
              [i, e.getAttribute('aria-busy'), e.querySelector('output').textContent]
            )).observe(e, {attributes: true, attributeFilter: ['aria-busy'],
                           childList: true, subtree: true, characterData: true}));
        }"""
    )
    slow.get_by_role("button", name="slow").click()
    expect(slow).to_have_attribute("aria-busy", "true", timeout=500)
    expect(slow.locator("output")).to_have_text("n=0")
    expect(other).not_to_have_attribute("aria-busy", "true")
    # The other island is not blocked by this one's slow event.
    other.get_by_role("button", name="inc").click()
    expect(other.locator("output")).to_have_text("n=1")
    expect(slow).to_have_attribute("aria-busy", "true")

    expect(slow.locator("output")).to_have_text("n=1", timeout=3_000)
    expect(slow).not_to_have_attribute("aria-busy", "true")
    expect(other).not_to_have_attribute("aria-busy", "true")
    records = page.evaluate("window.__busy.filter(r => r[0] === 0)")
    # Busy was set before the new HTML arrived and cleared no earlier than it.
    assert records[0][1] == "true" and records[0][2] == "n=0", records
    assert records[-1][1] is None and records[-1][2] == "n=1", records


def test_aria_busy_stays_while_events_are_queued(front: Front, open_page) -> None:
    """Two quick clicks: busy until the second reply, and both are applied in order."""
    page = open_page(front.url + "/slow")
    slow = island(page, "Slow")
    page.evaluate(
        """() => { const b = document.querySelector('nowaki-live [data-live=slow]');
                   b.click(); b.click(); }"""
    )
    expect(slow).to_have_attribute("aria-busy", "true", timeout=500)
    expect(slow.locator("output")).to_have_text("n=1", timeout=3_000)
    expect(slow).to_have_attribute("aria-busy", "true")
    expect(slow.locator("output")).to_have_text("n=2", timeout=3_000)
    expect(slow).not_to_have_attribute("aria-busy", "true")


def test_raising_handler_marks_the_island_then_recovers(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    faulty = island(page, "Faulty")
    page.evaluate(
        """() => {
          window.__errors = [];
          document.addEventListener('nowaki:error', e => window.__errors.push({
            island: e.target.dataset?.island ?? null,
            code: e.detail?.code, message: e.detail?.message,
          }));
        }"""
    )
    faulty.get_by_role("button", name="ok").click()
    expect(faulty.locator("span")).to_have_text("n=1")

    faulty.get_by_role("button", name="boom").click()
    expect(faulty).to_have_attribute("data-live-error", re.compile("ZeroDivisionError: division by zero"))
    message = faulty.get_attribute("data-live-error")
    page.wait_for_function("window.__errors.length > 0", timeout=5_000)
    assert page.evaluate("window.__errors") == [
        {"island": "Faulty", "code": "handler_failed", "message": message}
    ]
    # The island keeps its last good state and HTML, and is no longer busy.
    expect(faulty.locator("span")).to_have_text("n=1")
    expect(faulty).not_to_have_attribute("aria-busy", "true")
    # The other islands are untouched.
    expect(page.locator("nowaki-live[data-live-error]")).to_have_count(1)

    faulty.get_by_role("button", name="ok").click()
    expect(faulty.locator("span")).to_have_text("n=2")
    expect(faulty).not_to_have_attribute("data-live-error", ANY)
    assert len(page.evaluate("window.__errors")) == 1


def test_unchanged_render_also_clears_the_error(front: Front, open_page) -> None:
    """A reply without HTML (nothing changed) is still a success: the marker goes."""
    page = open_page(front.url + "/")
    counter = island(page, "Counter")
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 1")
    # An unknown handler on a button added by script: the front answers with an error.
    page.evaluate(
        """() => {
          const root = document.querySelector('nowaki-live[data-island=Counter] div');
          for (const h of ['nope', 'noop']) {
            const b = document.createElement('button');
            b.dataset.live = h; b.textContent = h; root.append(b);
          }
        }"""
    )
    counter.get_by_role("button", name="nope").click()
    expect(counter).to_have_attribute("data-live-error", re.compile("nope"))
    counter.get_by_role("button", name="noop").click()
    expect(counter).not_to_have_attribute("data-live-error", ANY)
    expect(counter.locator("strong")).to_have_text("live: 1")


def test_handler_over_the_deadline_clears_busy_and_marks_error(front: Front, open_page) -> None:
    """Faulty.hang never returns: the front's 2 s deadline answers `timeout`."""
    page = open_page(front.url + "/")
    faulty = island(page, "Faulty")
    page.evaluate(
        """() => {
          const b = document.createElement('button');
          b.dataset.live = 'hang'; b.textContent = 'hang';
          document.querySelector('nowaki-live[data-island=Faulty] div').append(b);
        }"""
    )
    faulty.get_by_role("button", name="hang").click()
    expect(faulty).to_have_attribute("aria-busy", "true", timeout=500)
    expect(faulty).to_have_attribute("data-live-error", re.compile("."), timeout=4_000)
    expect(faulty).not_to_have_attribute("aria-busy", "true")
    # The renderer that hung was replaced; the island takes events again.
    faulty.get_by_role("button", name="ok").click()
    expect(faulty.locator("span")).to_have_text("n=1")
    expect(faulty).not_to_have_attribute("data-live-error", ANY)
