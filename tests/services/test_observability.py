"""``/__nowaki/metrics``, ``/__nowaki/health`` and the front's structured log lines."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from tests.services.live import get, live, page_tokens
from tests.services.procs import SECRET, nowaki_front
from tests.support import FIXTURE_APP, Front
from tests.support.processes import clean_env

T = TypeVar("T")
OK_EVENTS = 3
FAILED_EVENTS = 2


async def until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` without blocking trio until it returns something truthy (bounded)."""
    with trio.move_on_after(timeout):
        while True:
            value = check()
            if value:
                return value
            await trio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


@dataclass
class Scrape:
    """One parsed metrics exposition."""

    types: dict[str, str]
    samples: list[tuple[str, dict[str, str], float]]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` whose labels include ``labels`` (0 when absent, like an unset counter)."""
        for sample, sample_labels, value in self.samples:
            if sample == name and labels.items() <= sample_labels.items():
                return value
        return 0.0


async def scrape(front: Front) -> Scrape:
    response = await get(front.url + "/__nowaki/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    types: dict[str, str] = {}
    samples = []
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        samples += [(s.name, dict(s.labels), s.value) for s in family.samples]
    return Scrape(types, samples)


async def health(front: Front) -> tuple[int, dict[str, Any]]:
    response = await get(front.url + "/__nowaki/health")
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = json.loads(response.text)
    return response.status_code, body


@dataclass
class Activity:
    """What ``exercise`` did and saw, for the assertions of each test."""

    conn: int
    refused_conn: int
    live_scrape: Scrape
    live_health: tuple[int, dict[str, Any]]
    restarts_before: float
    after_scrape: Scrape
    after_health: tuple[int, dict[str, Any]]


def _first_id(front: Front, pattern: str) -> int | None:
    """The first connection id the log shows for ``pattern`` (a fresh front: ours)."""
    ids = [int(n) for n in re.findall(pattern, front.log())]
    return ids[0] if ids else None


async def exercise(front: Front) -> Activity:
    """Against a front with NOWAKI_LIVE_MAX=1: events (ok and failing), a refusal, a renderer kill."""
    tokens = dict(reversed(await page_tokens(front.url + "/")))  # the first token of each island
    async with live(front.ws_url) as client:
        joined = await client.join([(0, tokens["Counter"]), (1, tokens["Faulty"])])
        assert joined["ids"] == [0, 1], joined
        conn = await until(lambda: _first_id(front, r"event=connect conn=(\d+)"), 5, "connect line")
        for _ in range(OK_EVENTS):
            assert (await client.event(0, "inc"))["type"] == "patch"
        for _ in range(FAILED_EVENTS):
            reply = await client.event(1, "boom")
            assert (reply["type"], reply["code"]) == ("error", "handler_failed"), reply

        async with live(front.ws_url) as second:  # over NOWAKI_LIVE_MAX=1
            assert await second.close_code() == 4429
        refused = await until(lambda: _first_id(front, r"event=refuse conn=(\d+)"), 5, "refuse line")

        live_scrape = await scrape(front)
        live_health = await health(front)

        restarts_before = live_scrape.value("nowaki_renderer_restarts_total")
        pids = front.renderer_pids()
        assert len(pids) == 2, front.log()
        os.kill(pids[0], signal.SIGKILL)

        async def restarted() -> bool:
            after = await scrape(front)
            return (after.value("nowaki_renderer_restarts_total") > restarts_before
                    and after.value("nowaki_renderers_up") == 2)
        with trio.fail_after(10):
            while not await restarted():
                await trio.sleep(0.05)
        assert (await client.event(0, "inc"))["type"] == "patch"  # still served after the restart
    await until(lambda: f"event=disconnect conn={conn} " in front.log(), 5, "disconnect line")
    return Activity(conn, refused, live_scrape, live_health, restarts_before,
                    await scrape(front), await health(front))


@pytest.fixture
def capped_front() -> Iterator[Front]:
    """A front for the fixture app: 2 renderers, at most one live connection."""
    env = clean_env(NOWAKI_SECRET=SECRET, NOWAKI_LIVE_MAX="1")
    with nowaki_front("start", FIXTURE_APP, "--renderers", "2", env=env) as front:
        yield front


async def test_metrics_and_health(capped_front: Front) -> None:
    """Every documented metric moves with what happened; health reports live and renderers."""
    seen = await exercise(capped_front)
    live_scrape, after = seen.live_scrape, seen.after_scrape
    assert {
        "nowaki_live_connections": "gauge",
        "nowaki_refused_connections": "counter",
        "nowaki_events": "counter",
        "nowaki_event_patch_seconds": "histogram",
        "nowaki_patch_bytes": "histogram",
        "nowaki_renderer_restarts": "counter",
        "nowaki_renderers_up": "gauge",
    }.items() <= live_scrape.types.items(), live_scrape.types

    assert live_scrape.value("nowaki_live_connections") == 1
    assert live_scrape.value("nowaki_refused_connections_total", reason="cap") >= 1
    assert live_scrape.value("nowaki_events_total", outcome="ok") >= OK_EVENTS
    assert live_scrape.value("nowaki_events_total", outcome="handler_failed") >= FAILED_EVENTS
    latency = live_scrape.value("nowaki_event_patch_seconds_count")
    assert latency >= OK_EVENTS
    assert live_scrape.value("nowaki_event_patch_seconds_bucket", le="+Inf") == latency
    assert live_scrape.value("nowaki_event_patch_seconds_sum") > 0
    assert live_scrape.value("nowaki_patch_bytes_count") >= OK_EVENTS
    assert live_scrape.value("nowaki_patch_bytes_sum") > 0
    assert live_scrape.value("nowaki_renderers_up") == 2

    assert after.value("nowaki_renderer_restarts_total") > seen.restarts_before
    assert after.value("nowaki_renderers_up") == 2
    assert after.value("nowaki_events_total", outcome="ok") >= OK_EVENTS + 1
    assert after.value("nowaki_live_connections") == 0  # the client has left

    status, body = seen.live_health
    assert status == 200, body
    assert (body["live"], body["renderers_up"], body["renderers"]) == (1, 2, 2), body
    status, body = seen.after_health
    assert status == 200, body
    assert (body["live"], body["renderers_up"], body["renderers"]) == (0, 2, 2), body


async def test_structured_log_lines(capped_front: Front) -> None:
    """One line each: connect, disconnect, refusal, renderer restart, and each handler error."""
    seen = await exercise(capped_front)
    lines = capped_front.log().splitlines()

    def matching(pattern: str) -> list[str]:
        return [line for line in lines if re.search(pattern, line)]

    assert len(matching(rf"event=connect conn={seen.conn}( |$)")) == 1, lines
    assert len(matching(rf"event=disconnect conn={seen.conn}( |$)")) == 1, lines
    refusals = matching(rf"event=refuse conn={seen.refused_conn}( |$)")
    assert len(refusals) == 1 and "reason=cap" in refusals[0], refusals
    assert len(matching(r"event=refuse ")) == 1, lines
    assert len(matching(r"event=renderer_restart ")) == 1, lines
    errors = matching(r"event=handler_error ")
    assert len(errors) == FAILED_EVENTS, errors
    for line in errors:
        assert f"conn={seen.conn} " in line, line
        assert re.search(r"island=1/Faulty( |$)", line), line
        assert "handler=boom" in line and "code=handler_failed" in line, line
