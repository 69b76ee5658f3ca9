"""Headless Chromium for the service tests, owned by a thread of its own.

Playwright's sync API allows one instance per thread, and ``tests/browser``
keeps its own instance open for the whole session; running ours in a
dedicated thread lets both suites share one pytest run. Tests hand a function
of a fresh ``Page`` to ``run_page``; it runs in that thread and its result or
exception comes back to the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from playwright.sync_api import Browser, Page, WebSocket

from tests.chromium_thread import ChromiumThread as BaseChromiumThread

T = TypeVar("T")


class ChromiumThread(BaseChromiumThread):
    """The shared browser thread, plus fresh-page runs for the service tests."""

    run_timeout = 100.0

    def run_page(self, work: Callable[[Page], T], timeout: float = 100.0) -> T:
        """Run ``work(page)`` on a fresh page of a fresh context; fail on uncaught page errors."""

        def in_context(browser: Browser) -> T:
            context = browser.new_context()
            context.set_default_timeout(10_000)
            errors: list[str] = []
            try:
                page = context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                result = work(page)
            finally:
                context.close()
            assert not errors, f"uncaught errors in the page: {errors}"
            return result

        return self.run(in_context, timeout)


@dataclass
class SocketLog:
    """Every WebSocket a page opens and the JSON frames each one received, in order."""

    sockets: list[WebSocket] = field(default_factory=list)
    frames: list[list[dict[str, Any]]] = field(default_factory=list)

    def attach(self, page: Page) -> SocketLog:
        page.on("websocket", self._opened)
        return self

    def _opened(self, ws: WebSocket) -> None:
        index = len(self.sockets)
        self.sockets.append(ws)
        self.frames.append([])

        def received(payload: str | bytes) -> None:
            if isinstance(payload, str):
                self.frames[index].append(json.loads(payload))

        ws.on("framereceived", received)

    def replies(self, island_id: int) -> list[dict[str, Any]]:
        """``patch`` and ``error`` frames for ``island_id`` over every socket, in order."""
        return [
            frame for frames in self.frames for frame in frames
            if frame.get("type") in ("patch", "error") and frame.get("id") == island_id
        ]
