"""Real Chromium: presence in two tabs, the refused state, and pages with no live server behind them.

Sync Playwright against Debian's chromium (never ``playwright install``).
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    WebSocketRoute,
    expect,
)

from tests.presence.helpers import PRESENCE_INTERVAL as INTERVAL
from tests.presence.helpers import measure
from tests.support import FIXTURE_APP, ROOT, Front, run_front
from tests.support.processes import stop

pytestmark = pytest.mark.browser


MAX_ATTEMPTS = 13
"""SPEC reconnect schedule: the first connect plus at most 12 retries, then the runtime gives up."""

COUNT_SOCKETS = """
window.__sockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__sockets.push(performance.now()); }
};
"""
"""Init script: the page-clock time of every WebSocket the page opens."""


@dataclass
class Tabs:
    """Pages of one test, with every uncaught page error they raised."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sockets: dict[int, int] = field(default_factory=dict)

    def window(self) -> BrowserContext:
        """A new browser context: its own cookies and its own page clock."""
        context = self.browser.new_context()
        self.contexts.append(context)
        return context

    def open(self, context: BrowserContext | None = None) -> Page:
        """A watched page in ``context`` (default: the test's first context)."""
        page = (context or self.contexts[0]).new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("websocket", lambda _: self.sockets.__setitem__(id(page), self.attempts(page) + 1))
        return page

    def attempts(self, page: Page) -> int:
        """WebSockets this page has opened so far (Playwright's count)."""
        return self.sockets.get(id(page), 0)


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Tabs]:
    pages = Tabs(browser)
    pages.window()
    try:
        yield pages
    finally:
        for context in pages.contexts:
            context.close()


def live_state(page: Page) -> str | None:
    state = page.evaluate("document.documentElement.dataset.nowakiLive ?? null")
    return None if state is None else str(state)


def island_html(page: Page) -> str:
    return page.locator('nowaki-live[data-island="Counter"]').first.inner_html()


def normalized(page: Page, markup: str) -> str:
    """``markup`` as this browser serialises it (so it compares with ``inner_html``)."""
    return str(page.evaluate("(m) => { const t = document.createElement('template'); t.innerHTML = m; "
                             "return t.innerHTML; }", markup))


def ssr_islands(html: str) -> list[str]:
    """The inner HTML of every ``<nowaki-live>`` in a served page."""
    return re.findall(r"<nowaki-live [^>]*>(.*?)</nowaki-live>", html, re.DOTALL)


def live_count(front: Front, expected: int, timeout: float = 5.0) -> int:
    """Poll ``/__nowaki/health`` until ``live == expected`` (bounded); return the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        live = int(httpx.get(front.url + "/__nowaki/health", timeout=10).json()["live"])
        if live == expected or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


def wait_for(check: Callable[[], bool], timeout: float, what: str, page: Page) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(20)


# -- presence in two tabs ---------------------------------------------------------------------------


def test_two_tabs_show_presence(presence_front: Front, tabs: Tabs) -> None:
    """Both tabs show 2; when one closes the other shows 1 within a second or two of the interval."""
    url = presence_front.url + "/presence"
    assert live_count(presence_front, 0) == 0, "another test's connections are still live"
    first = tabs.open()
    first.goto(url)
    expect(first.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    expect(first.locator("[data-nowaki-presence]")).to_have_text("1")

    second = tabs.open()
    second.goto(url)
    expect(second.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    expect(second.locator("[data-nowaki-presence]")).to_have_text("2")
    expect(first.locator("[data-nowaki-presence]")).to_have_text("2")

    closed_at = time.monotonic()
    second.close()
    expect(first.locator("[data-nowaki-presence]")).to_have_text("1", timeout=(INTERVAL + 2) * 1000)
    measure("presence in the remaining tab updated after the other tab closed",
            f"{time.monotonic() - closed_at:.3f} s")
    assert first.evaluate("window.presenceEvents") == [1, 2, 1]
    assert live_state(first) == "connected"
    assert live_count(presence_front, 1) == 1
    assert tabs.errors == []


# -- over the cap: refused ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped_front() -> Iterator[Front]:
    with run_front(env={"NOWAKI_LIVE_MAX": "1", "NOWAKI_PRESENCE_INTERVAL": str(INTERVAL)}) as front:
        yield front


def test_second_tab_over_the_cap_is_refused(capped_front: Front, tabs: Tabs) -> None:
    """With NOWAKI_LIVE_MAX=1 the second tab is `refused`, keeps its SSR view and retries only after 30 s."""
    url = capped_front.url + "/presence"
    served = httpx.get(url, timeout=10).text
    first = tabs.open()
    first.goto(url)
    expect(first.locator("html")).to_have_attribute("data-nowaki-live", "connected")

    second = tabs.open(tabs.window())  # its own context: the clock below must not touch the first tab
    second.clock.install()  # the 30-60 s retry after a refusal is checked on the page's clock
    second.goto(url)
    expect(second.locator("html")).to_have_attribute("data-nowaki-live", "refused")
    assert island_html(second) == normalized(second, ssr_islands(served)[0]), "the SSR view must stay"
    expect(second.locator("[data-nowaki-presence]")).to_have_text("?")
    second.locator('nowaki-live button[data-live="inc"]').click()  # not live: nothing happens
    second.wait_for_timeout(300)
    expect(second.locator("nowaki-live strong")).to_have_text("live: 0")

    # The first tab is unaffected and works.
    first.locator('nowaki-live button[data-live="inc"]').click()
    expect(first.locator("nowaki-live strong")).to_have_text("live: 1")
    assert live_state(first) == "connected"
    expect(first.locator("[data-nowaki-presence]")).to_have_text("1")

    # No retry before 30 s; one after at most 60 s, refused again.
    assert tabs.attempts(second) == 1
    second.clock.run_for(28_000)  # leaves 2 s for the page clock's own real-time drift
    second.wait_for_timeout(500)
    assert tabs.attempts(second) == 1, "a refused tab retried before 30 s"
    second.clock.run_for(33_000)
    wait_for(lambda: tabs.attempts(second) == 2, 5.0, "the one retry after 30-60 s", second)
    expect(second.locator("html")).to_have_attribute("data-nowaki-live", "refused")
    second.wait_for_timeout(300)
    assert tabs.attempts(second) == 2
    assert island_html(second) == normalized(second, ssr_islands(served)[0])
    assert tabs.errors == [], tabs.errors


# -- no live server behind the page: static build, blocked upgrade ----------------------------------------


def build(app: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``nowaki build APP OUT`` as a user runs it."""
    env = {"PATH": "/usr/bin:/bin", "NOWAKI_SECRET": "build-secret"}
    return subprocess.run([sys.executable, "-m", "nowaki.cli", "build", str(app), str(out)],
                          capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)


@dataclass
class StaticSite:
    out: Path
    url: str


@pytest.fixture(scope="module")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """The fixture app's live pages built statically and served by ``python -m http.server``.

    Only pages that render are copied (``/broken`` and ``/tworoots`` fail on purpose; see
    test_static_build.py for what ``nowaki build`` does with those).
    """
    root = tmp_path_factory.mktemp("static")
    app = root / "app"
    shutil.copytree(FIXTURE_APP / "islands", app / "islands", ignore=shutil.ignore_patterns("__pycache__"))
    (app / "pages").mkdir()
    for name in ("index.py", "plain.py", "presence.py"):
        shutil.copy(FIXTURE_APP / "pages" / name, app / "pages" / name)
    out = root / "out"
    done = build(app, out)
    assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0", "--directory", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        match = re.search(r"port (\d+)", banner)
        assert match, f"http.server did not start: {banner!r}"
        yield StaticSite(out, f"http://127.0.0.1:{match.group(1)}")
    finally:
        stop(server, grace=5)


def socket_times(page: Page) -> list[float]:
    return [float(t) for t in page.evaluate("window.__sockets")]


def assert_ssr_view(page: Page, served: str) -> None:
    """Every island still shows exactly what the server rendered."""
    expected = [normalized(page, markup) for markup in ssr_islands(served)]
    assert expected, "the page has no islands"
    shown = page.locator("nowaki-live").evaluate_all("(els) => els.map((e) => e.innerHTML)")
    assert shown == expected


def check_retry_schedule(times: list[float], window: float) -> None:
    """Bounded attempts over ``window`` ms, the first two retries after 100 ms and 300 ms."""
    assert 3 <= len(times) <= MAX_ATTEMPTS, f"{len(times)} WebSocket attempts in {window / 1000:.0f} s"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[0] >= 95, f"first retry after {gaps[0]:.0f} ms, SPEC says 100 ms"
    assert gaps[1] >= 295, f"second retry after {gaps[1]:.0f} ms, SPEC says 300 ms"
    for n, gap in enumerate(gaps[2:]):  # full jitter below min(15 s, 0.5 s * 2^n), plus event-loop slack
        assert gap < min(15_000, 500 * 2 ** n) + 250, f"retry {n + 3} after {gap:.0f} ms"


def test_static_build_keeps_its_ssr_view(static_site: StaticSite, tabs: Tabs) -> None:
    """A static build shows its SSR view, raises nothing and makes few, spaced WebSocket attempts."""
    assert (static_site.out / "index.html").is_file()
    assert (static_site.out / "__nowaki" / "runtime.js").is_file()
    served = httpx.get(static_site.url + "/", timeout=10).text
    assert "<nowaki-live " in served and "/__nowaki/runtime.js" in served
    page = tabs.open()
    page.add_init_script(COUNT_SOCKETS)
    page.goto(static_site.url + "/")
    page.wait_for_timeout(3_000)
    times = socket_times(page)
    measure("WebSocket attempts of a static build in 3 s", f"{len(times)} at {[round(t) for t in times]} ms")
    check_retry_schedule(times, 3_000)
    assert live_state(page) in ("connecting", "disconnected")
    assert_ssr_view(page, served)
    expect(page.locator("nowaki-live strong").first).to_have_text("live: 0")
    assert tabs.errors == [], tabs.errors


def test_static_build_gives_up_after_the_schedule(static_site: StaticSite, tabs: Tabs) -> None:
    """On the page's clock: 1 + 12 attempts, then none, however long; one more when the tab is shown."""
    page = tabs.open()
    page.clock.install()
    page.goto(static_site.url + "/presence/")
    served = httpx.get(static_site.url + "/presence/", timeout=10).text
    wait_for(lambda: tabs.attempts(page) >= 1, 5.0, "the first attempt", page)
    for _ in range(3 * MAX_ATTEMPTS):
        before = tabs.attempts(page)
        expect(page.locator("html")).to_have_attribute("data-nowaki-live", "disconnected")
        page.clock.run_for(15_000)  # past the longest delay of the schedule
        if live_state(page) == "disconnected" and tabs.attempts(page) == before:
            break
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "disconnected")
    page.clock.run_for(600_000)
    page.wait_for_timeout(500)
    measure("WebSocket attempts of a static build before it gives up", str(tabs.attempts(page)))
    assert tabs.attempts(page) == MAX_ATTEMPTS
    assert_ssr_view(page, served)

    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # headless: always visible
    wait_for(lambda: tabs.attempts(page) == MAX_ATTEMPTS + 1, 5.0, "one more attempt when shown", page)
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "disconnected")
    page.clock.run_for(600_000)
    page.wait_for_timeout(500)
    assert tabs.attempts(page) == MAX_ATTEMPTS + 1
    assert tabs.errors == [], tabs.errors


def test_blocked_upgrade_keeps_the_ssr_view(presence_front: Front, tabs: Tabs) -> None:
    """A front whose upgrade is blocked on the way (every socket refused): SSR view, bounded attempts."""
    blocked: list[str] = []

    def refuse(route: WebSocketRoute) -> None:
        blocked.append(route.url)
        route.close(code=1011, reason="blocked by a proxy")

    assert live_count(presence_front, 0) == 0, "another test's connections are still live"
    page = tabs.open()
    page.route_web_socket(re.compile(r".*/__nowaki/live$"), refuse)
    page.add_init_script(COUNT_SOCKETS)  # after the route: Playwright's mock WebSocket is what it wraps
    url = presence_front.url + "/"
    served = httpx.get(url, timeout=10).text
    page.goto(url)
    page.wait_for_timeout(3_000)
    times = socket_times(page)
    measure("WebSocket attempts with a blocked upgrade in 3 s", f"{len(times)} ({len(blocked)} blocked)")
    check_retry_schedule(times, 3_000)
    assert len(times) - 1 <= len(blocked) <= len(times), "every attempt goes to the blocked route"
    assert live_state(page) in ("connecting", "disconnected")
    assert_ssr_view(page, served)
    assert live_count(presence_front, 0, timeout=0) == 0, "a blocked page must not count"
    assert tabs.errors == [], tabs.errors
