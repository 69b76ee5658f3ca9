"""Killed renderers, a stopped front and a dropped socket, seen from a real browser."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, WebSocket, WebSocketRoute, expect

from tests.browser.helpers import island, live_state
from tests.support import FIXTURE_APP, Front, run_front

pytestmark = pytest.mark.browser

_ANY = re.compile(".*")  # with not_to_have_attribute: the attribute is absent

# Kept before the runtime runs: every WebSocket the page opens, so a test can
# drop the live connection from the client side.
KEEP_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def _relay(ws: WebSocketRoute, to_page: Callable[[str | bytes], None]) -> None:
    """Route a page's socket to the front: page frames pass as they are, the front's go to ``to_page``."""
    server = ws.connect_to_server()
    ws.on_message(lambda m: server.send(m))
    server.on_message(to_page)


def _plus(page: Page, count: int, nth: int = 0) -> None:
    counter = island(page, "Counter", nth)
    counter.get_by_role("button", name="+").click()
    expect(counter.locator("strong")).to_have_text(f"live: {count}")


def _open_routed(page: Page, url: str, route: Callable[[WebSocketRoute], None]) -> None:
    """Route the page's live sockets through ``route``, open it, and click the Counter to 1."""
    page.route_web_socket("**/__nowaki/live", route)
    page.goto(url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    _plus(page, 1)


def test_sigkill_of_the_renderer_loses_no_state(open_page) -> None:
    with run_front(FIXTURE_APP, renderers=1) as front:
        page = open_page(front.url + "/")
        for n in (1, 2, 3):
            _plus(page, n)
        pids = front.renderer_pids()
        assert pids, front.log()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        counter = island(page, "Counter")
        counter.get_by_role("button", name="+").click()
        expect(counter.locator("strong")).to_have_text("live: 4", timeout=5_000)
        expect(counter).not_to_have_attribute("data-live-error", _ANY)
        _plus(page, 5)
        # The second counter (never clicked) and the connection are unaffected.
        expect(island(page, "Counter", 1).locator("strong")).to_have_text("live: 10")
        expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
        new_pids = front.renderer_pids()
        assert new_pids and not set(new_pids) & set(pids), (pids, new_pids)


def test_stopped_front_shows_disconnected_and_retries(open_page, watch) -> None:
    watch.allow_ws_errors()  # connection refused, on purpose
    with run_front(FIXTURE_APP, renderers=1) as front:
        page = open_page(front.url + "/")
        _plus(page, 1)
        _plus(page, 2)
        attempts: list[float] = []
        page.on("websocket", lambda ws: attempts.append(time.monotonic()))
        front.process.send_signal(signal.SIGTERM)
        front.process.wait(timeout=10)
        expect(page.locator("html")).to_have_attribute("data-nowaki-live", "disconnected")
        gone = time.monotonic()
        states = set()
        while time.monotonic() - gone < 1.5:
            states.add(live_state(page))
            page.wait_for_timeout(50)
        # 100 ms, then 300 ms, then jittered: at least two tries in 1.5 s.
        assert len(attempts) >= 2, attempts
        assert states <= {"disconnected", "connecting"}, states
        # The page keeps what it showed, and is not stuck busy.
        expect(island(page, "Counter").locator("strong")).to_have_text("live: 2")
        expect(page.locator("nowaki-live[aria-busy]")).to_have_count(0)
        # A click while disconnected is dropped quietly: no busy island, no error.
        island(page, "Counter").get_by_role("button", name="+").click()
        expect(island(page, "Counter").locator("strong")).to_have_text("live: 2")
        expect(page.locator("nowaki-live[aria-busy]")).to_have_count(0)
        expect(page.locator("nowaki-live[data-live-error]")).to_have_count(0)


def _frames(page: Page) -> tuple[list[dict], list[dict], list[WebSocket]]:
    """Collect JSON frames sent and received on every live socket of ``page``."""
    sent: list[dict] = []
    received: list[dict] = []
    sockets: list[WebSocket] = []

    def on_socket(ws: WebSocket) -> None:
        sockets.append(ws)
        ws.on("framesent", lambda f: sent.append(json.loads(f)))
        ws.on("framereceived", lambda f: received.append(json.loads(f)))

    page.on("websocket", on_socket)
    return sent, received, sockets


def test_dropped_socket_reconnects_and_resumes(front: Front, open_page) -> None:
    """A socket closed under the page: reconnect, join with render and resume, same counts."""
    page = open_page(init_script=KEEP_SOCKETS)
    sent, received, sockets = _frames(page)
    page.goto(front.url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    _plus(page, 1)
    _plus(page, 2)
    _plus(page, 11, nth=1)
    first_join = [m for m in sent if m["type"] == "join"]
    assert len(first_join) == 1 and not first_join[0].get("render"), first_join
    session = next(m for m in received if m["type"] == "joined").get("session")
    assert session, "the first `joined` names no session to resume"

    page.evaluate(
        """() => {
          window.__states = [];
          new MutationObserver(() => window.__states.push(document.documentElement.dataset.nowakiLive))
            .observe(document.documentElement, {attributes: true, attributeFilter: ['data-nowaki-live']});
        }"""
    )
    received.clear()
    page.evaluate("window.__sockets.at(-1).close()")
    page.wait_for_function("window.__sockets.length === 2", timeout=5_000)
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    states = page.evaluate("window.__states")
    assert "disconnected" in states and states[-1] == "connected", states

    joins = [m for m in sent if m["type"] == "join"]
    assert len(joins) == 2, joins
    assert joins[1]["render"] is True
    assert joins[1].get("resume") == session, joins[1]
    assert sorted(i for i, _ in joins[1]["islands"]) == sorted(i for i, _ in joins[0]["islands"])
    assert len(sockets) == 2

    # render: true -> every joined island is rendered at once, as a full patch.
    ids = [i for i, _ in joins[1]["islands"]]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        patches = {m["id"]: m for m in received if m["type"] == "patch"}
        if set(ids) <= set(patches):
            break
        page.wait_for_timeout(50)
    assert set(ids) <= set(patches), received
    for m in patches.values():
        assert "html" in m and "at" not in m and m.get("push") is True, m

    # The DOM shows what the server rendered on rejoin, island by island (matched
    # through the tokens of the join, compared as parsed and re-serialised HTML).
    for island_id, token in joins[1]["islands"]:
        same = page.evaluate(
            """([token, html]) => {
              const el = [...document.querySelectorAll('nowaki-live')]
                .find(e => e.dataset.token === token);
              const t = document.createElement('template');
              t.innerHTML = html;
              return el.innerHTML === t.innerHTML || [el.innerHTML, t.innerHTML];
            }""",
            [token, patches[island_id]["html"]],
        )
        assert same is True, same
    # A drop is not a page leave: the front kept the states and the join resumed them.
    expect(island(page, "Counter", 0).locator("strong")).to_have_text("live: 2")
    expect(island(page, "Counter", 1).locator("strong")).to_have_text("live: 11")

    # And clicks go on from there.
    _plus(page, 3)
    _plus(page, 12, nth=1)
    expect(page.locator("nowaki-live[data-live-error]")).to_have_count(0)


HEARTBEAT_ENV = {"NOWAKI_LIVE_HEARTBEAT": "0.25", "NOWAKI_LIVE_TIMEOUT": "1"}


def test_heartbeat_keeps_an_idle_page_live(open_page) -> None:
    """Pings every `heartbeat` s keep the socket up past the front's idle timeout."""
    with run_front(FIXTURE_APP, renderers=1, env=HEARTBEAT_ENV) as front:
        page = open_page()
        sent, received, sockets = _frames(page)
        page.goto(front.url + "/")
        expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
        joined = next(m for m in received if m["type"] == "joined")
        assert joined["heartbeat"] == 0.25, joined
        # Idle on purpose, for longer than NOWAKI_LIVE_TIMEOUT.
        page.wait_for_timeout(1_600)
        assert len(sockets) == 1, "the socket was dropped and reopened"
        assert live_state(page) == "connected"
        pings = [m for m in sent if m["type"] == "ping"]
        pongs = [m for m in received if m["type"] == "pong"]
        assert len(pings) >= 4 and len(pongs) >= 3, (pings, pongs)
        _plus(page, 1)


def test_silent_server_is_dropped_and_rejoined(open_page) -> None:
    """Nothing received for more than two heartbeat intervals: the runtime reconnects by itself."""
    with run_front(FIXTURE_APP, renderers=1, env={"NOWAKI_LIVE_HEARTBEAT": "0.25"}) as front:
        page = open_page()
        connections: list[int] = []
        muted = [False]

        def route(ws) -> None:  # type: ignore[no-untyped-def]
            n = len(connections)
            connections.append(n)

            def to_page(message: str | bytes) -> None:
                if not (n == 0 and muted[0]):  # the first connection goes silent
                    ws.send(message)

            _relay(ws, to_page)

        _open_routed(page, front.url, route)
        muted[0] = True
        expect(page.locator("html")).not_to_have_attribute("data-nowaki-live", "connected", timeout=2_000)
        expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected", timeout=3_000)
        assert len(connections) == 2, connections
        shown = island(page, "Counter").locator("strong").inner_text()
        _plus(page, int(shown.removeprefix("live: ")) + 1)


def test_rejoin_render_is_not_taken_for_an_event_reply(front: Front, open_page) -> None:
    """After a reconnect the front sends a render patch per island that answers no event.

    A click made before that render patch arrives is still in flight when the
    render lands: its island must stay aria-busy until the click's own reply.
    """
    page = open_page(init_script=KEEP_SOCKETS)
    held: list[str | bytes] = []
    pages: list = []  # the page side of each routed socket
    hold = [False]

    def route(ws) -> None:  # type: ignore[no-untyped-def]
        pages.append(ws)

        def to_page(message: str | bytes) -> None:
            if hold[0] and ws is pages[-1]:
                held.append(message)
            else:
                ws.send(message)

        _relay(ws, to_page)

    _open_routed(page, front.url, route)

    hold[0] = True
    page.evaluate("window.__sockets.at(-1).close()")
    page.wait_for_function(
        "window.__sockets.length === 2 && window.__sockets[1].readyState === 1", timeout=5_000
    )
    counter = island(page, "Counter")
    counter.get_by_role("button", name="+").click()
    expect(counter).to_have_attribute("aria-busy", "true")

    def patches_for_first_island() -> list[int]:
        joined = next(json.loads(m) for m in held if json.loads(m)["type"] == "joined")
        first = min(joined["ids"])
        return [i for i, m in enumerate(held)
                if json.loads(m)["type"] == "patch" and json.loads(m)["id"] == first]

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(json.loads(m)["type"] == "joined" for m in held) and len(patches_for_first_island()) >= 2:
            break
        page.wait_for_timeout(50)
    render_at, reply_at = patches_for_first_island()[:2]
    assert json.loads(held[render_at]).get("push") is True, held[render_at]
    assert not json.loads(held[reply_at]).get("push"), held[reply_at]

    # Deliver everything up to the render patch; hold back the click's reply.
    for message in held[: render_at + 1]:
        pages[-1].send(message)
    page.wait_for_timeout(200)
    busy = counter.get_attribute("aria-busy")

    for message in held[render_at + 1:]:
        pages[-1].send(message)
    hold[0] = False
    held.clear()
    shown = int(counter.locator("strong").inner_text().removeprefix("live: "))
    expect(counter).not_to_have_attribute("aria-busy", "true")
    assert busy == "true", (
        "the render patch of the re-join was taken as the reply to the click in flight: "
        "aria-busy was cleared before the click's own patch arrived"
    )
    _plus(page, shown + 1)
