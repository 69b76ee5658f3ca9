"""Run the front: the renderer pool and hypercorn on trio, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import resource
import signal
from typing import Any

import trio
from hypercorn.config import Config

from nowaki.front.app import FrontApp
from nowaki.front.config import Settings, warn_if_random_secret
from nowaki.front.dev import watch
from nowaki.front.hub import Hub
from nowaki.front.listener import Listener
from nowaki.front.live import CLOSE_GOING_AWAY
from nowaki.front.pool import RendererPool

log = logging.getLogger("nowaki.front")

SHUTDOWN_DRAIN = 1.5
"""Seconds live sockets get to close before the front stops anyway (exit well within 5 s)."""


def hypercorn_config(settings: Settings) -> Config:
    """hypercorn settings: bind address, live frame limit, quiet access log."""
    config = Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    config.bind = [f"{host}:{settings.port}"]
    config.websocket_max_message_size = settings.frame_max
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # ours, not a second handler
    config.graceful_timeout = 1.0
    config.backlog = 2048  # a burst of reconnecting clients must not overflow the accept queue
    return config


def _raise_file_limit() -> None:
    """Every live connection is a descriptor: allow as many as the hard limit does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def run(
    settings: Settings,
    pool: RendererPool,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until SIGTERM or SIGINT; ``started`` with the bound addresses."""
    warn_if_random_secret(settings)
    _raise_file_limit()
    hub = Hub(settings, pool)
    pool.on_restart = hub.metrics.restarts.inc
    stop = trio.Event()
    drained = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        log.info("event=renderers_up count=%d app=%s", len(pool.sources), settings.app)
        hub.nursery = nursery
        nursery.start_soon(hub.broadcast_presence)
        if settings.dev:
            nursery.start_soon(watch, hub, settings.app)

        async def watch_signals() -> None:
            with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    log.info("event=shutdown signal=%s", signal.Signals(signum).name)
                    stop.set()
                    return

        nursery.start_soon(watch_signals)
        app: Any = FrontApp(hub)  # an ASGI callable; hypercorn's types want its own TypedDicts
        binds = await nursery.start(Listener(hub, app, hypercorn_config(settings)).serve, drained)
        log.info("nowaki front on %s", ", ".join(binds))
        task_status.started(binds)
        await stop.wait()
        # Going away: tell every live client (1001) so it reconnects elsewhere,
        # give the sockets a moment to close, then stop hypercorn and renderers.
        hub.going_away(CLOSE_GOING_AWAY, "server shutting down")
        with trio.move_on_after(SHUTDOWN_DRAIN):
            while hub.admitted:
                await trio.sleep(0.02)
        drained.set()
        with trio.move_on_after(SHUTDOWN_DRAIN):
            await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
