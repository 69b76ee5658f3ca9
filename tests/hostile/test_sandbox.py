"""The renderer sandbox seen from island handlers: no network, no secret, bounded memory and CPU."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import pytest
import trio

from tests.conformance.live_client import LiveClient, connect, page_islands
from tests.hostile.helpers import base_env, front_process, health
from tests.support import FIXTURE_APP, Front

SECRET_NAME = "NOWAKI_SECRET"


@pytest.fixture
async def sandboxed() -> AsyncIterator[tuple[Front, LiveClient]]:
    """A front (1 renderer, 256 MiB, 1 s deadline) and a client joined to Sandboxed (0) and Counter (1)."""
    env = base_env(NOWAKI_RENDER_MEMORY="268435456", NOWAKI_RENDER_TIMEOUT="1")
    async with front_process(["start", str(FIXTURE_APP), "--renderers", "1"], env) as front:
        islands = await page_islands(front.url, "/sandboxed")
        assert [i.name for i in islands] == ["Sandboxed", "Counter"]
        async with connect(front.ws_url) as client:
            joined = await client.join([(0, islands[0].token), (1, islands[1].token)])
            assert joined["ids"] == [0, 1]
            assert (await client.event(0, "ok"))["type"] == "patch"
            assert (await client.event(1, "inc"))["type"] == "patch"
            yield front, client


async def _intact(client: LiveClient, n: int, count: int) -> None:
    """The next events work and both islands kept their state."""
    reply = await client.event(0, "ok", timeout=15)
    assert reply["type"] == "patch", reply
    assert f"n={n + 1}<" in client.copies[0], client.copies[0]
    reply = await client.event(1, "inc", timeout=15)
    assert reply["type"] == "patch", reply
    assert f"live: {count + 1}<" in client.copies[1], client.copies[1]


async def test_renderer_start_log_lists_protections(sandboxed: tuple[Front, LiveClient]) -> None:
    """The renderer says at start which protections are active, network isolation among them."""
    front, _ = sandboxed
    line = re.search(r"sandbox: .*", front.log())
    assert line, front.log()
    assert "no network" in line.group(0) and "memory 256 MiB" in line.group(0), line.group(0)


async def test_handler_has_no_network(sandboxed: tuple[Front, LiveClient]) -> None:
    """Connecting to the front's own loopback port fails inside the renderer: handler_failed, OSError."""
    front, client = sandboxed
    port = front.url.rsplit(":", 1)[1]
    reply = await client.event(0, "net", {"port": port})
    assert reply["type"] == "error" and reply["code"] == "handler_failed", reply
    assert re.search(r"OSError|ConnectionRefused|Network is unreachable|Errno", reply["message"]), reply
    assert "connected" not in client.copies[0]
    await _intact(client, 1, 1)


async def test_handler_environment_has_no_secret(sandboxed: tuple[Front, LiveClient]) -> None:
    """``os.environ`` in a handler holds PATH but not NOWAKI_SECRET."""
    _, client = sandboxed
    reply = await client.event(0, "env")
    assert reply["type"] == "patch", reply
    keys = re.search(r"<pre>(.*?)</pre>", client.copies[0], re.DOTALL)
    assert keys, client.copies[0]
    names = keys.group(1).split()
    assert "PATH" in names, names
    assert SECRET_NAME not in names and not any("SECRET" in n for n in names), names


async def test_unbounded_allocation_fails_and_state_survives(sandboxed: tuple[Front, LiveClient]) -> None:
    """A 4 GB allocation under a 256 MiB limit: MemoryError or a crashed renderer; then all works."""
    front, client = sandboxed
    reply = await client.event(0, "alloc", timeout=15)
    print(f"MEASURE sandbox alloc reply={reply.get('code')} message={reply.get('message', '')[:60]!r}")
    assert reply["type"] == "error", reply
    assert reply["code"] in ("handler_failed", "renderer_crashed"), reply
    if reply["code"] == "handler_failed":
        assert "MemoryError" in reply["message"], reply
    await _intact(client, 1, 1)
    assert (await health(front))[0] == 200


async def test_cpu_loop_times_out_and_next_event_works(sandboxed: tuple[Front, LiveClient]) -> None:
    """``while True: pass`` with a 1 s deadline: ``timeout`` within ~2.5 s; the next event works."""
    _, client = sandboxed
    began = time.monotonic()
    reply = await client.event(0, "spin", timeout=10)
    took = time.monotonic() - began
    print(f"MEASURE sandbox spin reply={reply.get('code')} seconds={took:.2f}")
    assert reply["type"] == "error" and reply["code"] == "timeout", reply
    assert took < 2.5, took
    with trio.fail_after(20):
        await _intact(client, 1, 1)


async def test_renderer_that_spent_its_cpu_budget_is_replaced() -> None:
    """NOWAKI_RENDER_CPU: past its CPU budget a renderer finishes its reply and is replaced; nothing lost."""
    env = base_env(NOWAKI_RENDER_CPU="1", NOWAKI_RENDER_TIMEOUT="1.5")
    async with front_process(["start", str(FIXTURE_APP), "--renderers", "1"], env) as front:
        islands = await page_islands(front.url, "/sandboxed")
        async with connect(front.ws_url) as client:
            await client.join([(0, islands[0].token), (1, islands[1].token)])
            assert (await client.event(1, "inc"))["type"] == "patch"
            first = front.renderer_pids()
            reply = await client.event(0, "spin", timeout=10)  # 1.5 s of CPU: over the budget
            assert reply["type"] == "error" and reply["code"] == "timeout", reply
            with trio.fail_after(15):
                while front.renderer_pids() == first or not front.renderer_pids():
                    await trio.sleep(0.1)
            assert "CPU budget spent" in front.log(), front.log()[-2000:]
            reply = await client.event(1, "inc", timeout=15)
            assert reply["type"] == "patch" and "live: 2<" in client.copies[1], reply
