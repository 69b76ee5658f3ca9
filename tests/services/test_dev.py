"""``nowaki dev`` over plain HTTP: what it logs and serves as app code changes."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx

from nowaki.scaffold import scaffold
from tests.services.procs import nowaki_front
from tests.support import Front
from tests.support.processes import wait_until

BROKEN = 'live = {"state": lambda: {"count": 0},\n\ndef render(state:\n    return "<div></div>"\n'
RENDERER_UP = re.compile(r"renderer \d+/pid \d+ up")


def _page(front: Front) -> httpx.Response:
    return httpx.get(front.url + "/", timeout=10)


def _serves(front: Front, text: str) -> bool:
    response = _page(front)
    return response.status_code == 200 and text in response.text


def _break(front: Front, island: Path) -> None:
    """Write a syntax error into ``island`` and wait for the dev error page to show it."""
    island.write_text(BROKEN)

    def error_page() -> bool:
        response = _page(front)
        return response.status_code == 500 and "SyntaxError" in response.text

    wait_until(error_page, 15, "the dev error page with the SyntaxError")
    assert 'id="nowaki-error"' in _page(front).text


def test_dev_reports_an_edit_that_breaks_the_app(tmp_path: Path) -> None:
    """The watcher logs ``event=app_failed`` naming the SyntaxError once the new code fails to load."""
    app = scaffold(tmp_path / "devapp")
    island = app / "islands" / "Counter.py"
    with nowaki_front("dev", app, "--renderers", "1") as front:
        _break(front, island)
        wait_until(lambda: re.search(r"event=app_failed .*SyntaxError", front.log()), 10,
                   "the watcher's event=app_failed line")


def test_dev_does_not_report_the_old_error_after_a_fix(tmp_path: Path) -> None:
    """Break an island, then fix it: the fix must not be logged as ``event=app_failed`` again."""
    app = scaffold(tmp_path / "devapp")
    island = app / "islands" / "Counter.py"
    original = island.read_text()
    with nowaki_front("dev", app, "--renderers", "1") as front:
        _break(front, island)
        mark = len(front.log())
        island.write_text(original)
        wait_until(lambda: RENDERER_UP.search(front.log()[mark:]), 15, "a renderer up after the fix")
        wait_until(lambda: _serves(front, "live: 0"), 10, "the fixed page")
        after_fix = front.log()[mark:]
        assert "event=code_change" in after_fix, after_fix
        stale = [line for line in after_fix.splitlines() if "event=app_failed" in line]
        assert not stale, "the fixed app was reported as failing with the old error:\n" + "\n".join(
            line[:300] for line in stale
        )


def test_dev_picks_up_two_saves_within_one_second(tmp_path: Path) -> None:
    """Two same-length edits saved 0.5 s apart in one wall-clock second: the page shows the second.

    Python's bytecode cache is keyed on the source's size and whole-second mtime,
    so a renderer that writes and trusts ``__pycache__`` can serve the first edit.
    """
    app = scaffold(tmp_path / "devapp")
    island = app / "islands" / "Counter.py"
    original = island.read_text()
    long_ago = time.time() - 3600
    os.utime(island, (long_ago, long_ago))  # an old file, so the first edit is certainly newer
    with nowaki_front("dev", app, "--renderers", "1") as front:
        assert _serves(front, "live: 0")
        second = float(int(time.time()))
        island.write_text(original.replace("live:", "LIVE:"))
        os.utime(island, (second + 0.1, second + 0.1))
        wait_until(lambda: _serves(front, "LIVE: 0"), 15, "the first edit to be served")
        island.write_text(original.replace("live:", "Live:"))
        os.utime(island, (second + 0.6, second + 0.6))
        mark = len(front.log())
        wait_until(lambda: RENDERER_UP.search(front.log()[mark:]), 15, "a renderer up after the second edit")
        deadline = time.monotonic() + 5
        while not _serves(front, "Live: 0") and time.monotonic() < deadline:
            time.sleep(0.05)
        served = re.findall(r"<strong>([^<]*)</strong>", _page(front).text)
        assert served == ["Live: 0"], f"the renderer serves {served}; the file says 'Live: 0'"
