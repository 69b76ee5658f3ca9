"""Island instances and the engine that applies work to them, one job at a time.

An ``Instance`` holds one island's state and its FIFO of work. It is private
to one connection's ``View`` or, for ``scope: "shared"`` islands, shared by
every view of the same island name and props. Each job (an event, a timer
tick, a published message, a render) is applied by asking a renderer once;
the result goes to the view that sent the event as its reply, and to every
other view as a push patch diffed against what that client last received.

This is invariant 3: per instance, one drain task at a time applies work in
order; instances and connections proceed independently.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cbor2
import trio

from nowaki.front.catalog import IslandInfo
from nowaki.protocol import browser_wire as wire
from nowaki.protocol import errors
from nowaki.protocol.diff import diff
from nowaki.protocol.renderer_wire import RendererError

if TYPE_CHECKING:
    from nowaki.front.hub import Hub
    from nowaki.front.live import LiveConnection

log = logging.getLogger("nowaki.front")


@dataclass(eq=False, slots=True)
class View:
    """One client's view of an instance: its island id there and the HTML it last got."""

    id: int
    connection: LiveConnection
    instance: Instance
    html: str | None = None  # None: this client has no baseline yet

    def patch(self, html: str, push: bool = False) -> str:
        """The smallest message that brings this client's copy to ``html``; updates the baseline."""
        previous, self.html = self.html, html
        if previous is None:
            return wire.encode_patch(self.id, html, push=push)
        change = diff(previous, html)
        if change is None:
            return wire.encode_patch(self.id, push=push)
        start, deleted, inserted = change
        return wire.encode_patch(self.id, inserted, (start, deleted), push=push)


@dataclass(frozen=True, slots=True)
class Work:
    """One job: apply ``handler`` (None: just render), answering ``origin`` if set."""

    handler: str | None
    payload: dict[str, Any]
    received: float
    origin: View | None = None
    tick: bool = False


@dataclass(eq=False, slots=True)
class Instance:
    """An island's state, its queue, and the views showing it."""

    name: str
    info: IslandInfo
    state: Any
    props: dict[str, Any]
    views: set[View] = field(default_factory=set)
    # Made on first use and dropped when idle: an idle live connection holds
    # thousands of these, so an empty deque block or Event per island adds up.
    queue: deque[Work] | None = None
    draining: bool = False
    html: str | None = None  # latest render of ``state``, if known
    ticks_queued: set[str] | None = None  # timer instances only
    timers: trio.CancelScope | None = None
    fanout_due: trio.Event | None = None  # shared instances only


def enqueue(hub: Hub, instance: Instance, work: Work) -> None:
    """Queue work and make sure exactly one task drains this instance."""
    if instance.queue is None:
        instance.queue = deque()
    instance.queue.append(work)
    if not instance.draining and hub.nursery is not None:
        instance.draining = True
        hub.nursery.start_soon(_drain, hub, instance)


async def _drain(hub: Hub, instance: Instance) -> None:
    queue = instance.queue
    try:
        while queue:
            work = queue.popleft()
            try:
                await apply(hub, instance, work)
            finally:
                if work.tick and work.handler is not None and instance.ticks_queued is not None:
                    # Only now may the next tick queue: none waits behind a running one.
                    instance.ticks_queued.discard(work.handler)
    finally:
        instance.draining = False
        if not queue:
            instance.queue = None


async def apply(hub: Hub, instance: Instance, work: Work) -> None:
    """Run one job on a renderer and deliver the outcome."""
    origin = work.origin if work.origin is not None and work.origin in instance.views else None
    try:
        state, html = await _run(hub, instance, work)
    except RendererError as exc:
        log.warning(
            "event=handler_error conn=%s island=%s/%s handler=%s code=%s error=%r",
            origin.connection.id if origin else "-", origin.id if origin else "-",
            instance.name, work.handler, exc.code, exc.message,
        )
        hub.metrics.events.labels(exc.code).inc()
        if origin is not None:
            origin.connection.send(
                wire.encode_error(exc.code, exc.message, origin.id, push=work.handler is None)
            )
        elif not instance.info.shared:  # a private timer or publish: the one viewer sees it
            for view in list(instance.views):
                view.connection.offer(wire.encode_error(exc.code, exc.message, view.id, push=True))
        return
    instance.state, instance.html = state, html
    if work.handler is not None:
        hub.metrics.events_ok.inc()
        hub.metrics.latency.observe(trio.current_time() - work.received)
    if origin is not None:
        reply = origin.patch(html, push=work.handler is None)  # a render answers no event
        hub.metrics.patch_bytes.observe(len(reply))
        origin.connection.send(reply)
    if instance.fanout_due is not None:  # shared: the other viewers, coalesced (see fanout)
        instance.fanout_due.set()
        return
    for view in list(instance.views):
        if view is not origin:
            view.connection.send(view.patch(html, push=True))


async def _run(hub: Hub, instance: Instance, work: Work) -> tuple[Any, str]:
    """Ask a renderer for the next state and HTML; check what comes back."""
    if work.handler is None:
        if instance.html is not None:
            return instance.state, instance.html  # already rendered: no renderer call
        body = await hub.pool.call("render", island=instance.name, state=instance.state)
        state = instance.state
    else:
        body = await hub.pool.call(
            "event", island=instance.name, handler=work.handler, state=instance.state,
            payload=work.payload,
        )
        state = body.get("state")
        limit = hub.settings.state_max
        if len(cbor2.dumps(state)) > limit:
            raise RendererError(
                errors.STATE_TOO_LARGE,
                f"{instance.name}.{work.handler} made a state over {limit} bytes; the old state is kept",
            )
    html = body.get("html")
    if not isinstance(html, str):
        raise RendererError(errors.RENDER_FAILED, "the renderer returned no HTML")
    return state, html


async def fanout(hub: Hub, instance: Instance) -> None:
    """Shared instances: push the latest HTML to every viewer behind it, coalesced.

    At most one round per ``presence_interval``; a viewer whose outbox is full
    is skipped and caught up by a later round (it gets the newest HTML, never a
    backlog), so a fast-changing shared island cannot swamp slow clients.
    """
    while True:
        due = instance.fanout_due
        if due is None:
            due = instance.fanout_due = trio.Event()
        await due.wait()
        instance.fanout_due = trio.Event()
        html = instance.html
        if html is None:
            continue
        behind = False
        for view in list(instance.views):
            if view.html == html:
                continue
            baseline = view.html
            message = view.patch(html, push=True)
            if not view.connection.offer(message):
                view.html = baseline
                behind = True
        if behind:
            instance.fanout_due.set()
        await trio.sleep(hub.settings.presence_interval)


async def run_timers(hub: Hub, instance: Instance, scope: trio.CancelScope) -> None:
    """Apply each ``every`` handler on schedule until ``scope`` is cancelled.

    A tick still queued is skipped, never stacked.
    """
    with scope:
        async with trio.open_nursery() as nursery:
            for handler, seconds in instance.info.every.items():
                nursery.start_soon(_tick, hub, instance, handler, seconds)


async def _tick(hub: Hub, instance: Instance, handler: str, seconds: float) -> None:
    next_at = trio.current_time() + seconds
    while True:
        await trio.sleep_until(next_at)
        next_at += seconds
        now = trio.current_time()
        if next_at < now:  # fell behind (a slow renderer): skip the missed ticks
            next_at = now + seconds
        queued = instance.ticks_queued
        if queued is None or handler in queued:
            continue
        queued.add(handler)
        enqueue(hub, instance, Work(handler, {}, now, tick=True))
