"""One FIFO of requests waiting for a renderer, whatever their size.

Small requests are written straight into a free renderer's pipe by whichever
task frees it; big ones (over one atomic pipe write) wait for a renderer to be
handed to them. Neither may starve the other: here one connection keeps 40
islands busy on a single renderer while another sends events whose state is
too big for the fast path, and each of those is answered within a few of the
small ones, not after all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from tests.conformance.live_client import connect, page_islands
from tests.support import Front
from tests.survival.helpers import launch, log_problems, stop

ISLANDS = {
    "Small.py": '''
import time
live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: time.sleep(0.001) or {"n": s["n"] + 1}}}

def render(state):
    return f'<p>n=<b>{state["n"]}</b></p>'
''',
    "Big.py": '''
live = {"state": lambda: {"n": 0, "pad": "x" * 6000}, "on": {"inc": lambda s: {**s, "n": s["n"] + 1}}}

def render(state):
    return f'<p>big n=<b>{state["n"]}</b></p>'
''',
}
PAGE = '''
from nowaki import island

def page(request):
    return "<!doctype html><title>q</title>" + "".join(island("Small") for _ in range(40)) + island("Big")
'''
PER_ISLAND = 100


@pytest.fixture(scope="module")
def one_renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    app = tmp_path_factory.mktemp("queue-app")
    (app / "islands").mkdir()
    (app / "pages").mkdir()
    for name, source in ISLANDS.items():
        (app / "islands" / name).write_text(source)
    (app / "pages" / "index.py").write_text(PAGE)
    env = {"NOWAKI_LIVE_RATE": "100000", "NOWAKI_LIVE_BURST": "100000", "NOWAKI_PREDICT": "off"}
    front = launch(app=Path(app), renderers=1, env=env)
    try:
        yield front
    finally:
        stop(front)


async def test_big_requests_are_not_starved_by_a_stream_of_small_ones(one_renderer: Front) -> None:
    islands = await page_islands(one_renderer.url)
    small = [(i, island.token) for i, island in enumerate(islands) if island.name == "Small"]
    big = next(island.token for island in islands if island.name == "Big")
    total = PER_ISLAND * len(small)
    async with connect(one_renderer.ws_url) as busy, connect(one_renderer.ws_url) as other:
        assert (await busy.join(small))["ids"] == [i for i, _ in small]
        assert (await other.join([(0, big)]))["ids"] == [0]
        for _ in range(PER_ISLAND):  # 4,000 events of 1 ms each: about 4 s of work for one renderer
            for i, _ in small:
                await busy.send({"type": "event", "id": i, "handler": "inc"})
        answered = 0  # small replies so far: the clock of this test, whatever the machine's speed
        seen_at: list[int] = []

        async def count_small() -> None:
            nonlocal answered
            while answered < total:
                message = await busy.recv(timeout=60)
                assert message["type"] == "patch", message
                answered += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(count_small)
            for expected in range(1, 6):
                reply = await other.event(0, "inc", timeout=30)
                seen_at.append(answered)
                assert reply["type"] == "patch", reply
                assert f"big n=<b>{expected}</b>" in other.copies[0]
    print(f"MEASURE big replies came after {seen_at} of {total} small ones")
    # Each big event waits behind at most one queued event per busy island (40), not the stream.
    assert seen_at[-1] < total // 2, (seen_at, total)
    assert not log_problems(one_renderer), log_problems(one_renderer)
