"""``nowaki build APP OUT``: every page as static HTML plus the runtime asset.

The output is the initial SSR, islands inside ``<nowaki-live>`` with signed
tokens, servable by any static server. Without a front behind it the runtime
finds no live socket and the page keeps its SSR view (see SPEC: reconnect
schedule).
"""

from __future__ import annotations

import logging
from pathlib import Path

import trio

from nowaki.front.assets import RUNTIME_PATH, load_runtime, script_tag
from nowaki.front.config import Settings, warn_if_random_secret
from nowaki.front.pages import assemble
from nowaki.front.pool import RendererPool
from nowaki.protocol.renderer_wire import RendererError

log = logging.getLogger("nowaki.front")


def output_path(out: Path, route: str) -> Path:
    """``/`` → ``OUT/index.html``; ``/about`` → ``OUT/about/index.html``."""
    return out.joinpath(*route.strip("/").split("/"), "index.html") if route != "/" else (
        out / "index.html"
    )


class BuildError(Exception):
    """Some pages failed to render; the others and the runtime were written."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__(f"{len(failures)} page(s) failed")
        self.failures = failures


async def build(settings: Settings, out: Path) -> list[Path]:
    """Render every page of ``settings.app`` into ``out``; return the files written.

    A page that fails does not stop the others; BuildError lists the failures
    after everything else, the runtime asset included, is written.
    """
    warn_if_random_secret(settings)
    runtime = load_runtime()
    pool = RendererPool.of_processes(settings, size=1)
    written: list[Path] = []
    failures: list[str] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        for route in sorted(pool.catalog.pages):
            request = {"path": route, "query": {}, "headers": {}}
            try:
                reply = await pool.call("page", route=route, request=request)
            except RendererError as exc:
                failures.append(f"page {route} failed: {exc.code}: {exc.message.splitlines()[0]}")
                continue
            page = assemble(reply.get("parts", []), settings.secret, script_tag(runtime))
            target = output_path(out, route)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
            written.append(target)
        nursery.cancel_scope.cancel()
    asset = out / RUNTIME_PATH.lstrip("/")
    asset.parent.mkdir(parents=True, exist_ok=True)
    asset.write_bytes(runtime.body)
    written.append(asset)
    if failures:
        raise BuildError(failures)
    return written
