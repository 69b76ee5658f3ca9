"""Headless Chromium owned by a thread of its own, for async (trio) test folders.

Playwright's sync API allows one instance per thread, and the session-wide
``browser`` fixture (tests/conftest.py) holds the main thread's; tests that
run under trio hand ``run`` a function of the Browser instead, which runs in
this thread, and get its result or exception back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from playwright.sync_api import Browser, sync_playwright

from tests.support import CHROMIUM, CHROMIUM_ARGS

T = TypeVar("T")
Job = tuple[Callable[[Browser], Any], "Future[Any]"]


class ChromiumThread:
    """One browser, driven only from its own thread."""

    run_timeout = 90.0

    def __init__(self, name: str = "chromium", start_timeout: float = 60.0) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
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

    def run(self, work: Callable[[Browser], T], timeout: float | None = None) -> T:
        """Run ``work(browser)`` in the browser's thread; return its result or raise its error."""
        done: Future[T] = Future()
        self._jobs.put((work, done))
        return done.result(timeout=timeout or self.run_timeout)

    def close(self) -> None:
        """Close the browser and end its thread."""
        self._jobs.put(None)
        self._thread.join(timeout=30)
