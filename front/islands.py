"""Island instances and the engine that applies work to them, one job at a time.

An ``Instance`` holds one island's state and its FIFO of work. It is private
to one connection's ``View`` or, for ``scope: "shared"`` islands, shared by
every view of the same island name and props. Each job (an event, a timer
tick, a published message, a render) is applied by asking a renderer once;
the result goes to the view that sent the event as its reply, and to every
other view as a push patch diffed against what that client last received.

This is invariant 3: per instance, one job at a time is applied, in order;
instances and connections proceed independently.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from functools import partial
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


PREDICTION_TTL = 5.0
"""Seconds a computed prediction may wait for its event."""

PREDICT_MAX_COST = 0.02
"""Only events answered within this many seconds are predicted: a slow handler
applied ahead would hold a renderer other work may need."""


@dataclass(eq=False, slots=True)
class Prediction:
    """An event's likely successor applied ahead: the same handler and payload on the new state.

    Renderers answer pure requests (the handler maps state and payload to a
    state; render maps state to HTML), so the answer computed while a renderer
    was idle is the answer the event would get. It is only used for exactly
    that handler, payload and state (the very object), and only for a while.
    """

    handler: str
    payload: dict[str, Any]
    basis: Any
    """The state it was computed from: any change of the instance's state voids it."""
    made: float
    result: tuple[Any, str] | None = None
    waiting: Work | None = None
    """The event that asked for it while it was still being computed."""

    def fits(self, instance: Instance, work: Work, now: float) -> bool:
        return (
            work.origin is not None and not work.tick and self.handler == work.handler
            and self.basis is instance.state and self.payload == work.payload
            and now - self.made < PREDICTION_TTL
        )


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
    prediction: Prediction | None = None


Result = tuple[Any, str] | RendererError
"""What a job came to: the new state and its HTML, or why not."""


def enqueue(hub: Hub, instance: Instance, work: Work) -> None:
    """Queue work; if the instance is idle, start it now."""
    if instance.queue is None:
        instance.queue = deque()
    instance.queue.append(work)
    if not instance.draining:
        instance.draining = True
        _advance(hub, instance)


def _advance(hub: Hub, instance: Instance) -> None:
    """Start the instance's next job, or mark it idle.

    When a renderer is free, the request is written from this task and the
    reply handled from the renderer's reader task (``_replied``): an event
    costs no task switch. Otherwise a drain task waits for a renderer.
    """
    queue = instance.queue
    while queue:
        work = queue[0]
        if work.handler is None and instance.html is not None:
            queue.popleft()  # a render of a state already rendered: no renderer call
            _settle(hub, instance, work, (instance.state, instance.html))
            continue
        prediction = instance.prediction
        if prediction is not None and prediction.fits(instance, work, trio.current_time()):
            queue.popleft()
            if prediction.result is None:  # still being computed: this event takes it when it comes
                prediction.waiting = work
                hub.metrics.predictions.add("joined")
                return
            instance.prediction = None
            hub.metrics.predictions.add("hit")
            _settle(hub, instance, work, prediction.result)
            continue
        op, fields = _request(instance, work)
        if hub.pool.start(op, partial(_replied, hub, instance, work), **fields):
            queue.popleft()
            return
        assert hub.nursery is not None, "the server sets the hub's nursery before serving"
        hub.nursery.start_soon(_drain, hub, instance)
        return
    instance.draining = False
    instance.queue = None


def _predict(hub: Hub, instance: Instance, work: Work) -> None:
    """After an event: if a renderer is idle, apply the same handler and payload to the new state."""
    if instance.queue or not instance.info.predict or not hub.settings.predict or not hub.pool.idle:
        return
    if trio.current_time() - work.received > PREDICT_MAX_COST:
        return
    assert work.handler is not None
    prediction = Prediction(work.handler, work.payload, instance.state, trio.current_time())
    if hub.pool.start(
        "event", partial(_predicted, hub, instance, prediction),
        island=instance.name, handler=work.handler, state=instance.state, payload=work.payload,
    ):
        instance.prediction = prediction
        hub.metrics.predictions.add("made")


def _predicted(
    hub: Hub, instance: Instance, prediction: Prediction, body: dict[str, Any] | RendererError
) -> None:
    """A prediction's answer: hand it to the event that waits for it, or keep it for the next."""
    if instance.prediction is not prediction:
        return  # voided while it was computed
    waiting = prediction.waiting
    try:
        result = _check(hub, instance, Work(prediction.handler, prediction.payload, prediction.made), body)
    except RendererError:
        # Run the event itself: a crash or timeout of the prediction is not its outcome, and a
        # handler error is logged and counted as the event's own.
        instance.prediction = None
        if waiting is not None:
            if instance.queue is None:
                instance.queue = deque()
            instance.queue.appendleft(waiting)
            _advance(hub, instance)
        return
    if waiting is None:
        prediction.result = result
        return
    instance.prediction = None
    _settle(hub, instance, waiting, result)
    _advance(hub, instance)


def _replied(hub: Hub, instance: Instance, work: Work, body: dict[str, Any] | RendererError) -> None:
    try:
        result: Result = _check(hub, instance, work, body)
    except RendererError as exc:
        result = exc
    _settle(hub, instance, work, result)
    _advance(hub, instance)


async def _drain(hub: Hub, instance: Instance) -> None:
    """Run the next job waiting for a renderer, then go on as ``_advance`` says."""
    assert instance.queue
    work = instance.queue.popleft()
    result: Result
    try:
        op, fields = _request(instance, work)
        result = _check(hub, instance, work, await hub.pool.call(op, **fields))
    except RendererError as exc:
        result = exc
    except Exception:  # a bug must cost one job, not every island of the front
        log.exception("event=job_failed island=%s handler=%s", instance.name, work.handler)
        result = RendererError(errors.RENDER_FAILED, "the front failed to run this job")
    _settle(hub, instance, work, result)
    _advance(hub, instance)


def _request(instance: Instance, work: Work) -> tuple[str, dict[str, Any]]:
    if work.handler is None:
        return "render", {"island": instance.name, "state": instance.state}
    return "event", {
        "island": instance.name, "handler": work.handler, "state": instance.state, "payload": work.payload,
    }


def _check(hub: Hub, instance: Instance, work: Work, body: dict[str, Any] | RendererError) -> tuple[Any, str]:
    """The state and HTML a renderer answered, checked; RendererError if unusable."""
    if isinstance(body, RendererError):
        raise body
    state = instance.state
    if work.handler is not None:
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


def _settle(hub: Hub, instance: Instance, work: Work, result: Result) -> None:
    """Deliver a job's outcome: the reply to its sender, push patches to the other viewers."""
    if work.tick and work.handler is not None and instance.ticks_queued is not None:
        # Only now may the next tick queue: none waits behind a running one.
        instance.ticks_queued.discard(work.handler)
    origin = work.origin if work.origin is not None and work.origin in instance.views else None
    if isinstance(result, RendererError):
        log.warning(
            "event=handler_error conn=%s island=%s/%s handler=%s code=%s error=%r",
            origin.connection.id if origin else "-", origin.id if origin else "-",
            instance.name, work.handler, result.code, result.message,
        )
        hub.metrics.events.add(result.code)
        if origin is not None:
            origin.connection.send(
                wire.encode_error(result.code, result.message, origin.id, push=work.handler is None)
            )
        elif not instance.info.shared:  # a private timer or publish: the one viewer sees it
            for view in list(instance.views):
                view.connection.offer(wire.encode_error(result.code, result.message, view.id, push=True))
        return
    state, html = result
    instance.state, instance.html = state, html
    if work.handler is not None:
        instance.prediction = None  # computed from the state just replaced
        hub.metrics.events.add("ok")
        hub.metrics.latency.observe(trio.current_time() - work.received)
    if origin is not None:
        reply = origin.patch(html, push=work.handler is None)  # a render answers no event
        hub.metrics.patch_bytes.observe(len(reply))
        origin.connection.send(reply)
    if instance.fanout_due is not None:  # shared: the other viewers, coalesced (see fanout)
        instance.fanout_due.set()
    else:
        for view in list(instance.views):
            if view is not origin:
                view.connection.send(view.patch(html, push=True))
    if origin is not None and work.handler is not None:
        _predict(hub, instance, work)


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
