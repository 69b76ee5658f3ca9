"""Split launch in Chromium: a front using two renderer services that die and come back."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.services.chromium import ChromiumThread, SocketLog
from tests.services.procs import Services, health, nowaki_front, renderer_services
from tests.support import FIXTURE_APP, Front
from tests.support.processes import free_port, wait_until

pytestmark = pytest.mark.browser

KEY = "services-shared-key"
_ANY = re.compile(".*")  # any attribute value; with not_to_have_attribute: absent
RECONNECT = 8.0  # s: the pool retries a dead service with a backoff capped at 5 s
REPLY_TIMEOUT = 40.0  # an event waiting out a full outage is answered well within the pool's 30 s


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder for unix sockets (tmp_path can exceed the 108-byte socket path limit)."""
    path = Path(tempfile.mkdtemp(prefix="nwk-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Clicker:
    """Clicks the first Counter's ``+`` and waits for that event's own reply frame."""

    def __init__(self, page: Page, sockets: SocketLog) -> None:
        self.page = page
        self.sockets = sockets
        self.counter: Locator = page.locator('nowaki-live[data-island="Counter"]').first
        self.outcomes: list[str] = []

    @property
    def acked(self) -> int:
        return self.outcomes.count("patch")

    def click(self) -> None:
        """Click ``+`` without waiting for the reply."""
        self.counter.get_by_role("button", name="+").click()

    def reply(self, index: int) -> str:
        """Wait (bounded) for the ``index``-th reply to island 0; record and return its type."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while len(self.sockets.replies(0)) <= index:
            assert time.monotonic() < deadline, f"no reply to event {index} in {REPLY_TIMEOUT:g}s"
            self.page.wait_for_timeout(20)
        frame = self.sockets.replies(0)[index]
        if frame["type"] == "error":
            print(f"event {index}: error {frame['code']}: {frame['message']}")
        self.outcomes.append(frame["type"])
        return str(frame["type"])

    def click_and_check(self) -> str:
        """One click, its reply, and the DOM showing exactly the acknowledged count."""
        index = len(self.sockets.replies(0))
        self.click()
        outcome = self.reply(index)
        expect(self.counter.locator("strong")).to_have_text(f"live: {self.acked}")
        return outcome


def _scenario(page: Page, front: Front, services: Services, unix: str, tcp: str) -> dict[str, float]:
    sockets = SocketLog().attach(page)
    page.goto(front.url + "/")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected", timeout=10_000)
    clicks = Clicker(page, sockets)
    timings: dict[str, float] = {}

    for _ in range(4):
        assert clicks.click_and_check() == "patch"

    # One service dies (with the children serving its connections); the browser keeps clicking.
    tcp_service = next(s for s in services.started if s.address == tcp)
    tcp_service.kill()
    killed = time.monotonic()
    wait_until(lambda: health(front)["renderers_up"] == 1, 5, "the front to notice the dead service")
    for _ in range(3):
        clicks.click_and_check()
    time.sleep(max(0.0, killed + 1.0 - time.monotonic()))
    services.start(tcp, KEY)
    restarted = time.monotonic()
    wait_until(lambda: health(front)["renderers_up"] == 2, RECONNECT, "renderers_up back to 2 (one service)")
    timings["one service: restart -> renderers_up 2 (s)"] = time.monotonic() - restarted
    for _ in range(3):
        assert clicks.click_and_check() == "patch"
    # A click in flight at the kill could have failed, nothing else: no state lost, clicks resumed.
    assert clicks.outcomes.count("error") <= 1, clicks.outcomes
    assert clicks.acked >= 9, clicks.outcomes
    expect(clicks.counter.locator("strong")).to_have_text(f"live: {clicks.acked}")

    # Both services die: an event sent during the outage waits or gets an error marker.
    for service in [s for s in services.started if s.process.poll() is None]:
        service.kill()
    killed = time.monotonic()
    wait_until(lambda: health(front)["renderers_up"] == 0, 5, "the front to see no renderer up")
    before_outage = clicks.acked
    index = len(sockets.replies(0))
    clicks.click()
    page.wait_for_timeout(300)
    answered_during_outage = len(sockets.replies(0)) > index
    if answered_during_outage:
        assert sockets.replies(0)[index]["type"] == "error", sockets.replies(0)[index]
        expect(clicks.counter).to_have_attribute("data-live-error", _ANY)
    time.sleep(max(0.0, killed + 1.0 - time.monotonic()))
    services.start(unix)
    services.start(tcp, KEY)
    restarted = time.monotonic()
    wait_until(
        lambda: health(front)["renderers_up"] == 2, RECONNECT, "renderers_up back to 2 (both services)"
    )
    timings["both services: restart -> renderers_up 2 (s)"] = time.monotonic() - restarted
    outage_outcome = clicks.reply(index)  # a waiting event is answered once a renderer is back
    timings["outage event answered as patch (1) or error (0)"] = float(outage_outcome == "patch")
    expect(clicks.counter.locator("strong")).to_have_text(f"live: {clicks.acked}")
    assert clicks.acked == before_outage + (outage_outcome == "patch")
    for _ in range(2):
        assert clicks.click_and_check() == "patch"
    expect(clicks.counter).not_to_have_attribute("data-live-error", _ANY)
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    # The page kept one socket all along: the front never dropped the browser.
    assert len(sockets.sockets) == 1, len(sockets.sockets)
    timings["clicks"] = len(clicks.outcomes)
    timings["acknowledged"] = clicks.acked
    return timings


def test_split_launch_survives_renderer_service_kills(chromium: ChromiumThread, short_dir: Path) -> None:
    """Two services (unix and TCP with a key) behind one front; kill one, then both, mid-clicking."""
    unix = f"unix:{short_dir}/r1.sock"
    tcp = f"tcp:127.0.0.1:{free_port()}"
    with renderer_services(FIXTURE_APP) as services:
        services.start(unix)
        services.start(tcp, KEY)
        with nowaki_front(
            "front", FIXTURE_APP, "--renderer", unix, "--renderer", tcp, "--renderer-key", KEY
        ) as front:
            status = health(front)
            assert (status["live"], status["renderers_up"], status["renderers"]) == (0, 2, 2), status
            timings = chromium.run_page(lambda page: _scenario(page, front, services, unix, tcp))
            print(timings)
            assert "event=renderer_restart" in front.log()
