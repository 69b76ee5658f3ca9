"""Server push and surviving state in real headless Chromium (Playwright sync API, own thread)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.chromium_thread import ChromiumThread
from tests.support import Front
from tests.support.processes import free_port
from tests.survival.browser import Pages, with_pages
from tests.survival.helpers import PUBLISH_TOKEN, launch, port_of, proxy_to, stop

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms: bounded auto-waits


def island(page: Page, name: str) -> Locator:
    """The ``<nowaki-live>`` wrapper of island ``name``."""
    return page.locator(f'nowaki-live[data-island="{name}"]')


def connected(page: Page) -> None:
    """Wait for the runtime's ``connected`` state."""
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected", timeout=WAIT)


def wait_reconnected(page: Page, timeout: float = WAIT) -> None:
    """The page went ``disconnected`` and then back to ``connected`` (recorded by the init script)."""
    page.wait_for_function(
        """() => {
          const s = window.__liveStates, i = s.lastIndexOf("disconnected");
          return i >= 0 && s.slice(i).includes("connected")
            && document.documentElement.dataset.nowakiLive == "connected";
        }""",
        timeout=timeout,
    )


class Frames:
    """Every JSON frame each live socket of a page received, socket by socket."""

    def __init__(self, page: Page) -> None:
        self.sockets: list[list[dict[str, Any]]] = []
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/__nowaki/live"):
            return
        received: list[dict[str, Any]] = []
        self.sockets.append(received)
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))

    def pushed_counter(self, page: Page, timeout: float = 5.0) -> str:
        """The first Counter (island id 4) HTML pushed on the latest socket; waits for it."""
        deadline = time.monotonic() + timeout
        while True:
            pushed = [
                m["html"] for m in self.sockets[-1]
                if m.get("type") == "patch" and m.get("id") == 4 and m.get("push") and "html" in m
            ]
            if pushed:
                return str(pushed[0])
            assert time.monotonic() < deadline, f"no Counter render after the rejoin: {self.sockets[-1]}"
            page.wait_for_timeout(50)  # lets Playwright deliver the frames received meanwhile


def click_inc(page: Page, to: int) -> None:
    """Click Counter's + until it shows ``to`` (from 0), one reply at a time."""
    counter = island(page, "Counter")
    for n in range(1, to + 1):
        counter.locator('button[data-live="inc"]').click()
        expect(counter.locator("strong")).to_have_text(f"live: {n}")


def counting_on(page: Page, frames: Frames, count: int, after: str) -> None:
    """After a rejoin: the pushed Counter shows ``count``, the page too, and the next + makes it count + 1."""
    pushed = frames.pushed_counter(page)
    assert f"live: {count}" in pushed, f"{after} lost the count: {pushed}"
    counter = island(page, "Counter")
    expect(counter.locator("strong")).to_have_text(f"live: {count}")
    counter.locator('button[data-live="inc"]').click()
    expect(counter.locator("strong")).to_have_text(f"live: {count + 1}")


def post(front_url: str, body: dict[str, str], token: str) -> httpx.Response:
    """Publish ``body`` on topic ``orders`` with a bearer token."""
    return httpx.post(
        f"{front_url}/__nowaki/publish/orders", json=body,
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )


def test_two_tabs_see_one_shared_poll(chromium: ChromiumThread, browser_front: Front) -> None:
    """A vote in one tab shows in the other with no action there, both ways."""

    def work(pages: Pages) -> None:
        one, two = pages.new(browser_front.url + "/live"), pages.new(browser_front.url + "/live")
        connected(one)
        connected(two)
        poll_one, poll_two = island(one, "Poll"), island(two, "Poll")
        expect(poll_two.locator("b.yes")).to_have_text("0")
        poll_one.locator('button[data-live-value-choice="yes"]').click()
        expect(poll_one.locator("b.yes")).to_have_text("1")
        expect(poll_two.locator("b.yes")).to_have_text("1", timeout=WAIT)
        poll_two.locator('button[data-live-value-choice="no"]').click()
        expect(poll_one.locator("b.no")).to_have_text("1", timeout=WAIT)
        expect(poll_two.locator("b.no")).to_have_text("1")
        expect(poll_one.locator("b.yes")).to_have_text("1")

    chromium.run(with_pages(work))


def test_the_clock_advances_without_clicks(chromium: ChromiumThread, browser_front: Front) -> None:
    """Clock ticks about 5 times a second with no user action."""

    def work(pages: Pages) -> None:
        page = pages.new(browser_front.url + "/live")
        connected(page)
        ticks = island(page, "Clock").locator("b")
        page.wait_for_function("() => +document.querySelector('.clock b').textContent > 0", timeout=WAIT)
        first = int(ticks.text_content() or "")
        page.wait_for_timeout(1000)
        second = int(ticks.text_content() or "")
        assert 3 <= second - first <= 7, (first, second)

    chromium.run(with_pages(work))


def test_publish_reaches_the_page_and_a_bad_token_is_refused(
    chromium: ChromiumThread, browser_front: Front
) -> None:
    """A POST from outside shows in the Feed; a wrong token changes nothing."""

    def work(pages: Pages) -> None:
        page = pages.new(browser_front.url + "/live")
        connected(page)
        feed = island(page, "Feed").locator("ul.feed li")
        response = post(browser_front.url, {"item": "tea"}, PUBLISH_TOKEN)
        assert response.status_code == 202 and response.json()["instances"] >= 1, response.text
        expect(feed).to_have_text(["tea"], timeout=WAIT)

        refused = post(browser_front.url, {"item": "forged"}, "wrong-token")
        assert refused.status_code == 401, refused.text
        page.wait_for_timeout(500)
        expect(feed).to_have_text(["tea"])
        assert post(browser_front.url, {"item": "coffee"}, PUBLISH_TOKEN).status_code == 202
        expect(feed).to_have_text(["tea", "coffee"], timeout=WAIT)

    chromium.run(with_pages(work))


def test_debounced_input_keeps_focus_and_caret(chromium: ChromiumThread, browser_front: Front) -> None:
    """data-live-input patches the list while the field keeps focus, value and caret."""

    def work(pages: Pages) -> None:
        page = pages.new(browser_front.url + "/live")
        connected(page)
        box = page.locator("#q")
        rows = island(page, "Search").locator("li")
        expect(rows).to_have_count(9)
        box.click()
        page.keyboard.type("an", delay=30)
        expect(rows).to_have_text(["banana", "mango"], timeout=WAIT)
        assert page.evaluate("document.activeElement.id") == "q"
        assert box.input_value() == "an"
        assert box.evaluate("e => [e.selectionStart, e.selectionEnd]") == [2, 2]

        page.keyboard.press("Home")
        page.keyboard.type("b")
        expect(rows).to_have_text(["banana"], timeout=WAIT)  # "ban": the patch has been applied
        page.wait_for_timeout(150)
        assert page.evaluate("document.activeElement.id") == "q"
        assert box.input_value() == "ban"
        assert box.evaluate("e => [e.selectionStart, e.selectionEnd]") == [1, 1]

    chromium.run(with_pages(work))


def test_a_dropped_socket_resumes_the_count(chromium: ChromiumThread, browser_front: Front) -> None:
    """Through a loopback proxy: cut every TCP connection; the page reconnects and keeps Counter at 3."""

    def work(pages: Pages) -> None:
        with proxy_to(port_of(browser_front.url)) as proxy:
            page = pages.new()
            frames = Frames(page)
            page.goto(proxy.url + "/live")
            connected(page)
            click_inc(page, 3)
            proxy.cut()
            wait_reconnected(page)
            assert len(frames.sockets) >= 2, frames.sockets
            counting_on(page, frames, 3, "the rejoin render")

    chromium.run(with_pages(work))


def test_a_restart_on_the_same_port_keeps_the_count(chromium: ChromiumThread) -> None:
    """SIGTERM the front; a new front (same secret, same port) takes the page's snapshot."""
    port = free_port()
    env = {"NOWAKI_SECRET": "survival-restart-secret"}

    def work(pages: Pages) -> None:
        first = launch(port, env)
        second: Front | None = None
        try:
            page = pages.new()
            frames = Frames(page)
            page.goto(first.url + "/live")
            connected(page)
            click_inc(page, 2)
            assert stop(first) == 0, first.log()
            page.wait_for_function(
                "() => window.__liveStates.includes('disconnected')", timeout=WAIT
            )
            assert any(m.get("type") == "snapshot" for m in frames.sockets[0]), frames.sockets[0]
            second = launch(port, env)
            # The runtime's backoff (full jitter, capped at 15 s) decides when it comes back.
            wait_reconnected(page, timeout=32_000)
            counting_on(page, frames, 2, "the new front")
        finally:
            stop(first)
            if second is not None:
                stop(second)

    chromium.run(with_pages(work))
