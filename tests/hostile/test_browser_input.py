"""Hostile browser input: foreign origins, per-address caps, floods, non-reading clients, foreign ids."""

from __future__ import annotations

import json
import re
import threading
import time

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.conformance.live_client import LiveClient, connect, page_islands
from tests.hostile.helpers import base_env, front_process, health
from tests.support import FIXTURE_APP
from tests.support.proc import rss_kib
from tests.support.rawws import BlockingWebSocket

START = ["start", str(FIXTURE_APP), "--renderers", "1"]


async def _close_code(ws_url: str, origin: str | None) -> int | None:
    """Open a socket with ``origin``; None if it answers a ping, else the close code it got."""
    headers = [(b"Origin", origin.encode())] if origin else None
    async with open_websocket_url(ws_url, extra_headers=headers, connect_timeout=10) as ws:
        client = LiveClient(ws)
        try:
            await client.ping(timeout=5)
        except ConnectionClosed as exc:
            return exc.reason.code
        return None


async def test_cross_origin_socket_is_refused_with_4403() -> None:
    """Another site's origin: 4403; same host with another scheme, or a listed origin: allowed."""
    env = base_env(NOWAKI_ALLOWED_ORIGINS="https://app.example")
    async with front_process(START, env) as front:
        host = front.url.split("//", 1)[1]
        assert await _close_code(front.ws_url, "https://evil.example") == 4403
        assert await _close_code(front.ws_url, f"http://{host}.evil.example") == 4403
        assert await _close_code(front.ws_url, f"https://{host}") is None
        assert await _close_code(front.ws_url, f"http://{host}") is None
        assert await _close_code(front.ws_url, "https://app.example") is None
        assert await _close_code(front.ws_url, None) is None
        assert "reason=origin" in front.log()


async def test_per_ip_cap_refuses_the_third_socket_and_frees_its_slot() -> None:
    """NOWAKI_LIVE_PER_IP=2: a third socket from 127.0.0.1 gets 4429; a freed slot is reusable."""
    env = base_env(NOWAKI_LIVE_PER_IP="2")
    async with front_process(START, env) as front, connect(front.ws_url) as first:
        await first.ping()
        async with connect(front.ws_url) as second:
            await second.ping()
            assert await _close_code(front.ws_url, None) == 4429
        with trio.fail_after(10):
            while (code := await _close_code(front.ws_url, None)) is not None:
                assert code == 4429
                await trio.sleep(0.1)
        await first.ping()


async def test_event_flood_is_rate_limited_and_state_matches_patches() -> None:
    """20 events at once with rate 5/s, burst 5: some rate_limited; state equals the patch replies."""
    env = base_env(NOWAKI_LIVE_RATE="5", NOWAKI_LIVE_BURST="5")
    async with front_process(START, env) as front:
        token = (await page_islands(front.url))[0].token
        async with connect(front.ws_url) as client:
            assert (await client.join([(0, token)]))["ids"] == [0]
            for _ in range(20):
                await client.send({"type": "event", "id": 0, "handler": "inc"})
            replies = [await client.reply_for(0, timeout=10) for _ in range(20)]
            patches = sum(r["type"] == "patch" for r in replies)
            limited = [r for r in replies if r["type"] == "error"]
            print(f"MEASURE flood patches={patches} rate_limited={len(limited)}")
            assert limited and all(r["code"] == "rate_limited" and r["id"] == 0 for r in limited), limited
            assert 1 <= patches <= 7, patches
            assert f"live: {patches}<" in client.copies[0], client.copies[0]
            await trio.sleep(1.2)
            again = await client.event(0, "inc")
            assert again["type"] == "patch", again
            assert f"live: {patches + 1}<" in client.copies[0], client.copies[0]


def _spam(raw: BlockingWebSocket, stop: threading.Event, sent: list[int]) -> None:
    """Send big alternating Echo form events until the front hangs up or ``stop``."""
    raw.sock.settimeout(2)
    try:
        while not stop.is_set():
            letter = "xy"[sent[0] % 2]
            event = {"type": "event", "id": 0, "handler": "form", "payload": {"v": letter * 20000}}
            raw.send_text(json.dumps(event))
            sent[0] += 1
    except OSError:
        pass


async def test_client_that_never_reads_is_dropped_within_bounds() -> None:
    """A client filling its buffers without reading is dropped within ~5 s grace; others keep working."""
    env = base_env(NOWAKI_LIVE_RATE="100000", NOWAKI_LIVE_BURST="100000")
    async with front_process(START, env) as front:
        islands = await page_islands(front.url)
        echo = next(i for i in islands if i.name == "Echo")
        async with connect(front.ws_url) as other:
            assert (await other.join([(0, islands[0].token)]))["ids"] == [0]
            await other.event(0, "inc")
            rss_before = rss_kib(front.process.pid)
            raw = BlockingWebSocket(front.ws_url)
            raw.send_text(json.dumps({"type": "join", "islands": [[0, echo.token]]}))
            stop, sent = threading.Event(), [0]
            thread = threading.Thread(target=_spam, args=(raw, stop, sent), daemon=True)
            thread.start()
            began = time.monotonic()
            rss_peak, clicks = rss_before, 1
            try:
                with trio.fail_after(25):
                    while "event=slow_client" not in front.log():
                        reply = await other.event(0, "inc", timeout=3)
                        assert reply["type"] == "patch", reply
                        clicks += 1
                        rss_peak = max(rss_peak, rss_kib(front.process.pid))
                        await trio.sleep(0.2)
                dropped_after = time.monotonic() - began
            finally:
                stop.set()
                raw.close()
                thread.join(timeout=5)
            assert f"live: {clicks}<" in other.copies[0]
            await other.ping()
            with trio.fail_after(5):
                while (await health(front))[1]["live"] != 1:
                    await trio.sleep(0.1)
            print(f"MEASURE slow_client dropped_after_s={dropped_after:.1f} events_sent={sent[0]} "
                  f"rss_before_kib={rss_before} rss_peak_kib={rss_peak}")
            assert dropped_after < 20, dropped_after
            assert rss_peak - rss_before < 64 * 1024, (rss_before, rss_peak)


async def test_island_id_of_another_connection_is_not_joined() -> None:
    """A connection cannot send events to an island id only another connection joined."""
    async with front_process(START, base_env()) as front:
        islands = await page_islands(front.url)
        async with connect(front.ws_url) as owner, connect(front.ws_url) as intruder:
            assert (await owner.join([(0, islands[0].token)]))["ids"] == [0]
            assert (await intruder.join([(7, islands[1].token)]))["ids"] == [7]
            refused = await intruder.event(0, "inc")
            assert refused["type"] == "error" and refused["code"] == "not_joined" and refused["id"] == 0
            assert (await owner.event(0, "inc"))["type"] == "patch"
            assert re.search(r"live: 1<", owner.copies[0]), owner.copies[0]
            assert (await intruder.event(7, "inc"))["type"] == "patch"
            assert "live: 11<" in intruder.copies[7], intruder.copies[7]
