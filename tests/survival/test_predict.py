"""Predicted replies: an event's likely successor computed while a renderer is idle.

Real front (one renderer), real sockets, a small app written here: ``Tally``
(predictions on, the default), ``Strict`` (``live["predict"] = False``) and
``Steps`` (a handler taking a payload). What counts is that every reply is
exactly what the event alone would give, whatever was predicted, and that
the metrics show predictions being made and used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.live_client import LiveClient, connect, page_islands
from tests.support import Front
from tests.survival.helpers import launch, log_problems, stop

ISLANDS = {
    "Tally.py": '''
live = {
    "state": lambda: {"n": 0},
    "on": {"inc": lambda s: {"n": s["n"] + 1}, "dec": lambda s: {"n": s["n"] - 1}},
}

def render(state):
    return f'<p class="tally">n=<b>{state["n"]}</b></p>'
''',
    "Strict.py": '''
live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: {"n": s["n"] + 1}}, "predict": False}

def render(state):
    return f'<p class="strict">n=<b>{state["n"]}</b></p>'
''',
    "Steps.py": '''
live = {"state": lambda: {"n": 0}, "on": {"add": lambda s, p: {"n": s["n"] + int(p.get("by", "1"))}}}

def render(state):
    return f'<p class="steps">n=<b>{state["n"]}</b></p>'
''',
}
PAGE = '''
from nowaki import island

def page(request):
    return f"<!doctype html><title>p</title>{island('Tally')}{island('Strict')}{island('Steps')}"
'''
SHOWN = re.compile(r"n=<b>(-?\d+)</b>")


@pytest.fixture(scope="module")
def predicting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    app = tmp_path_factory.mktemp("predict-app")
    (app / "islands").mkdir()
    (app / "pages").mkdir()
    for name, source in ISLANDS.items():
        (app / "islands" / name).write_text(source)
    (app / "pages" / "index.py").write_text(PAGE)
    front = launch(app=Path(app), renderers=1)
    try:
        yield front
    finally:
        stop(front)


def predictions(url: str) -> dict[str, float]:
    """``nowaki_predictions_total`` by outcome."""
    response = httpx.get(url + "/__nowaki/metrics", timeout=10)
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "nowaki_predictions_total":
                counts[sample.labels["outcome"]] = sample.value
    return counts


async def _metrics(url: str) -> dict[str, float]:
    return await trio.to_thread.run_sync(predictions, url)


def shown(client: LiveClient, island: int) -> int:
    match = SHOWN.search(client.copies[island])
    assert match, client.copies[island]
    return int(match.group(1))


async def _joined(front: Front, client: LiveClient) -> None:
    islands = await page_islands(front.url)
    await client.join([(i, island.token) for i, island in enumerate(islands)], render=True)
    for i in range(len(islands)):
        await client.reply_for(i)


async def test_repeated_clicks_are_answered_from_predictions_and_stay_exact(predicting: Front) -> None:
    before = await _metrics(predicting.url)
    async with connect(predicting.ws_url) as client:
        await _joined(predicting, client)
        for expected in range(1, 41):
            reply = await client.event(0, "inc")
            assert reply["type"] == "patch" and "push" not in reply, reply
            assert shown(client, 0) == expected
            await trio.sleep(0.005)  # a human-paced click leaves the renderer idle in between
        for expected in range(39, 29, -1):  # a change of handler: the prediction is not used
            await client.event(0, "dec")
            assert shown(client, 0) == expected
    after = await _metrics(predicting.url)
    used = after.get("hit", 0) + after.get("joined", 0) - before.get("hit", 0) - before.get("joined", 0)
    assert after["made"] - before.get("made", 0) >= 40, (before, after)
    assert used >= 30, (before, after)  # nearly every repeat of the same click
    assert not log_problems(predicting), log_problems(predicting)


async def test_a_prediction_is_used_only_for_the_same_payload(predicting: Front) -> None:
    async with connect(predicting.ws_url) as client:
        await _joined(predicting, client)
        before = await _metrics(predicting.url)
        total = 0
        for by in (1, 1, 2, 2, 2, 5, 1, 1):  # four repeats of the previous payload
            await client.event(2, "add", {"by": str(by)})
            total += by
            assert shown(client, 2) == total
            await trio.sleep(0.05)
        after = await _metrics(predicting.url)
    used = after.get("hit", 0) + after.get("joined", 0) - before.get("hit", 0) - before.get("joined", 0)
    assert 1 <= used <= 4, (before, after)


async def test_an_island_that_opts_out_is_never_predicted(predicting: Front) -> None:
    async with connect(predicting.ws_url) as client:
        await _joined(predicting, client)
        before = await _metrics(predicting.url)
        for expected in range(1, 11):
            await client.event(1, "inc")
            assert shown(client, 1) == expected
            await trio.sleep(0.01)
        assert await _metrics(predicting.url) == before


async def test_predict_off_makes_none(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "islands").mkdir(parents=True)
    (app / "pages").mkdir()
    for name, source in ISLANDS.items():
        (app / "islands" / name).write_text(source)
    (app / "pages" / "index.py").write_text(PAGE)
    front = launch(app=app, env={"NOWAKI_PREDICT": "off"})
    try:
        async with connect(front.ws_url) as client:
            await _joined(front, client)
            for expected in range(1, 11):
                await client.event(0, "inc")
                assert shown(client, 0) == expected
        assert (await _metrics(front.url)).get("made", 0) == 0
    finally:
        stop(front)
