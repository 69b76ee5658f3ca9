"""``nowaki dev``: restart renderers when app code changes and reload open browsers.

Browsers are told over the live socket they already hold (a ``reload``
message); while the app does not import, pages show the error and refresh
themselves until it does.
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

import trio

from nowaki.front.hub import Hub

log = logging.getLogger("nowaki.front")

SETTLE_TIMEOUT = 10.0
"""Longest wait for restarted renderers before browsers are told to reload anyway."""


async def watch(hub: Hub, app: Path) -> None:
    """Run for the front's lifetime: on every change of a .py file under the app."""
    from watchfiles import PythonFilter, awatch  # dev-only: imported where it is used

    async for changes in awatch(app, watch_filter=PythonFilter(), debounce=150, step=30):
        names = sorted({Path(path).name for _, path in changes})
        log.info("event=code_change files=%s", ",".join(names))
        hub.pool.restart_all()
        with trio.move_on_after(SETTLE_TIMEOUT):
            while hub.pool.up < len(hub.pool.sources) and hub.pool.app_error is None:
                await trio.sleep(0.02)
        if hub.pool.app_error is not None:
            log.error("event=app_failed error=%r", hub.pool.app_error)
        hub.reload_all()


def error_page(message: str) -> str:
    """What a browser sees in dev mode while the app does not load; it retries itself."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>nowaki: the app does not load</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:2rem}}pre{{background:#fee;padding:1rem;
white-space:pre-wrap}}</style></head>
<body><h1>The app does not load</h1>
<p>Fix the file and this page reloads by itself.</p>
<pre id="nowaki-error">{escape(message)}</pre></body></html>"""
