"""Pages for the survival browser tests, run on a ``tests.chromium_thread.ChromiumThread``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from playwright.sync_api import Browser, BrowserContext, Page

T = TypeVar("T")

# Records every value <html data-nowaki-live> takes, so a short-lived state is not missed.
STATE_RECORDER = """
window.__liveStates = [];
new MutationObserver(() => {
  const s = document.documentElement?.dataset.nowakiLive;
  if (s !== undefined && s !== window.__liveStates.at(-1)) window.__liveStates.push(s);
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-nowaki-live"]});
"""


class Pages:
    """Fresh contexts and pages for one test; uncaught page errors are collected; all closed at the end."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def new(self, url: str | None = None) -> Page:
        """A page in its own context, with the live-state recorder; loaded if ``url`` is given."""
        context = self.browser.new_context()
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.add_init_script(STATE_RECORDER)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        if url is not None:
            page.goto(url)
        return page

    def close(self) -> None:
        """Close every context; fail if a page threw."""
        for context in self.contexts:
            context.close()
        assert not self.errors, f"uncaught errors in the page: {self.errors}"


def with_pages(work: Callable[[Pages], T]) -> Callable[[Browser], T]:
    """Wrap ``work(pages)`` so its contexts are closed and page errors fail the test."""

    def run(browser: Browser) -> T:
        pages = Pages(browser)
        try:
            result = work(pages)
        except BaseException:
            for context in pages.contexts:
                context.close()
            raise
        pages.close()
        return result

    return run
