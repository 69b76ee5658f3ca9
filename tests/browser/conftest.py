"""Real headless Chromium for the end-to-end tests: one browser per session.

Every test gets fresh contexts and pages from ``open_page``, which records
uncaught page errors and console errors; the fixture fails the test at
teardown when any were seen (``watch.allow_ws_errors()`` lets a test that
expects a failing WebSocket tolerate the browser's connection-refused logs).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
)

from tests.support import DEMO_APP, Front, run_front

# NOWAKI_BROWSER_RUNTIME=path/to/runtime.js: pages get that file instead of the
# runtime the front serves (to check another build, or that a broken one fails).
RUNTIME_OVERRIDE = os.environ.get("NOWAKI_BROWSER_RUNTIME", "")

# Auto-waiting assertions: modest, so a broken runtime fails fast.
expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def demo_front() -> Iterator[Front]:
    """The demo app (examples/demo), shared by the tests that only read it per page."""
    with run_front(DEMO_APP, renderers=2, env={"NOWAKI_RENDER_TIMEOUT": "2"}) as running:
        yield running


@dataclass
class Watch:
    """Errors seen by the pages of one test."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    ws_errors_allowed: bool = False

    def allow_ws_errors(self) -> None:
        """This test makes WebSocket connections fail on purpose."""
        self.ws_errors_allowed = True

    def problems(self) -> list[str]:
        console = [
            e for e in self.console_errors
            if not (self.ws_errors_allowed and "WebSocket" in e)
        ]
        return [f"pageerror: {e}" for e in self.page_errors] + [f"console: {e}" for e in console]

    def assert_clean(self) -> None:
        assert not self.problems(), "\n".join(self.problems())


OpenPage = Callable[..., Page]


def _console(watch: Watch, msg: ConsoleMessage) -> None:
    """Record console errors, with their source; the browser's own favicon probe is not one."""
    if msg.type != "error":
        return
    where = msg.location.get("url", "")
    if where.endswith("/favicon.ico"):
        return
    watch.console_errors.append(f"{msg.text} ({where})")


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (separate cookies, storage and sockets); closed after the test."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context()
        context.set_default_timeout(10_000)
        if RUNTIME_OVERRIDE:
            context.route(
                "**/__nowaki/runtime.js*",
                lambda route: route.fulfill(path=RUNTIME_OVERRIDE, content_type="text/javascript"),
            )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def open_page(new_context: Callable[[], BrowserContext], watch: Watch) -> Iterator[OpenPage]:
    """``open_page(url, context=None)``: a watched page, loaded and live.

    Without ``context`` each call gets its own new context. ``live=False``
    skips waiting for the connected state (for tests that expect failures).
    """

    def open_(url: str | None = None, context: BrowserContext | None = None, live: bool = True,
              init_script: str | None = None) -> Page:
        page = (context or new_context()).new_page()
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        page.on("console", lambda msg: _console(watch, msg))
        if init_script:
            page.add_init_script(init_script)
        if url is not None:
            page.goto(url)
            if live:
                expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
        return page

    yield open_
    watch.assert_clean()

