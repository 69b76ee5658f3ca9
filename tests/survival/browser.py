"""Headless Chromium (Playwright, sync API) owned by one thread.

Playwright's sync API allows one instance per thread and other test folders
keep their own open for the whole session, so this one lives in a dedicated
thread: a test hands ``run`` a function of the Browser, which runs there; its
result or exception comes back to the test.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support import CHROMIUM, CHROMIUM_ARGS

T = TypeVar("T")
Job = tuple[Callable[[Browser], Any], "Future[Any]"]

# Records every value <html data-nowaki-live> takes, so a short-lived state is not missed.
STATE_RECORDER = """
window.__liveStates = [];
new MutationObserver(() => {
  const s = document.documentElement?.dataset.nowakiLive;
  if (s !== undefined && s !== window.__liveStates.at(-1)) window.__liveStates.push(s);
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-nowaki-live"]});
"""


class ChromiumThread:
    """One browser, used only from its own thread."""

    def __init__(self, start_timeout: float = 60.0) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, name="survival-chromium", daemon=True)
        self._thread.start()
        self._ready.result(timeout=start_timeout)

    def _main(self) -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                self._ready.set_result(None)
                try:
                    while (job := self._jobs.get()) is not None:
                        work, done = job
                        try:
                            done.set_result(work(browser))
                        except BaseException as exc:
                            done.set_exception(exc)
                finally:
                    browser.close()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def run(self, work: Callable[[Browser], T], timeout: float = 90.0) -> T:
        """Run ``work(browser)`` in the browser's thread; return its result or raise its error."""
        done: Future[T] = Future()
        self._jobs.put((work, done))
        return done.result(timeout=timeout)

    def close(self) -> None:
        """Close the browser and end its thread."""
        self._jobs.put(None)
        self._thread.join(timeout=30)


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
