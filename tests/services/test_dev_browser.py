"""``nowaki dev`` in Chromium: code edits reload open pages; app errors show, then heal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nowaki.scaffold import scaffold
from tests.services.chromium import ChromiumThread, SocketLog
from tests.services.procs import nowaki_front
from tests.support import Front
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

SETTLE = 15_000  # ms: watcher debounce + renderer restart + page reload, on a busy machine
BROKEN = 'live = {"state": lambda: {"count": 0},\n\ndef render(state:\n    return "<div></div>"\n'


def _scenario(page: Page, front: Front, island_file: Path) -> None:
    sockets = SocketLog().attach(page)
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    page.goto(front.url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected", timeout=10_000)
    counter = page.locator('nowaki-live[data-island="Counter"]')
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("live: 1")
    assert len(loads) == 1 and len(sockets.sockets) == 1, (loads, sockets.sockets)

    # 1. An edit: the open page reloads by itself (no click), told over the socket it held.
    edited = island_file.read_text().replace("live:", "LIVE:")
    island_file.write_text(edited)
    expect(counter.locator("strong")).to_have_text(re.compile(r"^LIVE: \d+$"), timeout=SETTLE)
    reloads = [f for f in sockets.frames[0] if f.get("type") == "reload"]
    assert len(reloads) == 1, sockets.frames[0]
    assert len(loads) == 2, loads  # one new page load, made by the runtime
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    assert len(sockets.sockets) == 2

    # 2. A syntax error: the page (reloaded over its socket again) shows it, readable.
    island_file.write_text(BROKEN)
    error = page.locator("#nowaki-error")
    expect(error).to_contain_text("SyntaxError", timeout=SETTLE)
    expect(page.locator("h1")).to_have_text("The app does not load")
    assert any(f.get("type") == "reload" for f in sockets.frames[1]), sockets.frames[1]
    wait_until(lambda: "SyntaxError" in front.log(), 5, "SyntaxError in the front's log")

    # 3. The fix: the error page refreshes itself until the app loads again.
    island_file.write_text(edited)
    expect(counter.locator("strong")).to_have_text("LIVE: 0", timeout=SETTLE)
    expect(error).to_have_count(0)
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text("LIVE: 1")


def test_dev_reloads_on_edit_and_heals_after_a_syntax_error(
    chromium: ChromiumThread, tmp_path: Path
) -> None:
    """Edit, break and fix an island under `nowaki dev`; one dev process throughout."""
    app = scaffold(tmp_path / "devapp")
    island_file = app / "islands" / "Counter.py"
    with nowaki_front("dev", app, "--renderers", "1") as front:
        chromium.run_page(lambda page: _scenario(page, front, island_file))
        assert front.process.poll() is None, front.log()
        assert front.log().count("nowaki front on") == 1, front.log()
