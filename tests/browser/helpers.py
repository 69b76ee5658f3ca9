"""Small helpers shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def island(page: Page, name: str, nth: int = 0) -> Locator:
    """The ``nth`` ``<nowaki-live>`` wrapper of island ``name`` on ``page``."""
    return page.locator(f'nowaki-live[data-island="{name}"]').nth(nth)


def live_state(page: Page) -> str | None:
    """The connection state the runtime mirrors on ``<html data-nowaki-live>``."""
    return page.evaluate("document.documentElement.dataset.nowakiLive ?? null")
