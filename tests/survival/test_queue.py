"""One FIFO of requests waiting for a renderer, whatever their size.

Small requests are written straight into a free renderer's pipe by whichever
task frees it; big ones (over one atomic pipe write) wait for a renderer to be
handed to them. Neither may starve the other: here one connection keeps 40
islands busy on a single renderer while another sends events whose state is
too big for the fast path, and each of those is answered within a few of the
small ones, not after all of them.
"""

from __future__ import annotations

import time
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
    async with connect(one_renderer.ws_url) as busy, connect(one_renderer.ws_url) as other:
        assert (await busy.join(small))["ids"] == [i for i, _ in small]
        assert (await other.join([(0, big)]))["ids"] == [0]
        began = time.monotonic()
        for _ in range(PER_ISLAND):  # 4,000 events of 1 ms each: about 4 s of work for one renderer
            for i, _ in small:
                await busy.send({"type": "event", "id": i, "handler": "inc"})
        waits = []
        for expected in range(1, 6):
            sent = time.monotonic()
            reply = await other.event(0, "inc", timeout=10)
            waits.append(time.monotonic() - sent)
            assert reply["type"] == "patch", reply
            assert f"big n=<b>{expected}</b>" in other.copies[0]
        replies = 0
        with trio.fail_after(60):
            while replies < PER_ISLAND * len(small):
                message = await busy.recv()
                assert message["type"] == "patch", message
                replies += 1
        busy_for = time.monotonic() - began
    print(f"MEASURE big waits {[round(w, 3) for w in waits]} s while small events took {busy_for:.1f} s")
    assert busy_for > 2 * max(waits), (busy_for, waits)  # they were answered in the middle of the stream
    assert max(waits) < 1.0, waits
    assert not log_problems(one_renderer), log_problems(one_renderer)
