"""Wire B conformance: a real WebSocket (and HTTP) against the front (``--front-url``, or one we start)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import cbor2
import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed

from nowaki.protocol.token import sign
from tests.conformance.live_client import (
    LiveClient,
    PageIsland,
    connect,
    get,
    http_response,
    islands_in,
    page_islands,
    utf16_splice,
)

SCRIPT = re.compile(r'<script type="module" src="/__nowaki/runtime\.js\?v=([^"&]+)"></script>')
TOKEN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
UNICODE_0 = "<p>héllo 🌊 wörld <b>0</b> ✓</p>"


def counter_html(count: int) -> str:
    """The fixture Counter's markup."""
    return (
        '<div class="counter"><button data-live="dec">-</button>'
        f'<strong>live: {count}</strong><button data-live="inc">+</button></div>'
    )


def faulty_html(n: int) -> str:
    """The fixture Faulty island's markup."""
    return (
        f'<div class="faulty"><span>n={n}</span><button data-live="ok">ok</button>'
        '<button data-live="boom">boom</button></div>'
    )


def flip(char: str) -> str:
    """A different base64url character."""
    return "A" if char != "A" else "B"


def by_name(islands: list[PageIsland], name: str, index: int = 0) -> PageIsland:
    """The ``index``-th island called ``name`` on a page."""
    return [island for island in islands if island.name == name][index]


@pytest.fixture
async def index(front_url: str) -> list[PageIsland]:
    """The islands of ``/`` (Counter 0, Counter 10, Echo, Faulty, Unicode), freshly signed."""
    return await page_islands(front_url, "/")


def assert_error(message: dict[str, Any], code: str, island_id: int | None) -> None:
    """An ``error`` with ``code``, a text message, and ``id`` exactly when one is expected."""
    assert message["type"] == "error", message
    assert message["code"] == code, message
    assert isinstance(message["message"], str), message
    if island_id is None:
        assert "id" not in message, message
    else:
        assert message.get("id") == island_id, message


# -- pages over HTTP -------------------------------------------------------------------


async def test_index_page_islands_and_script(front_url: str) -> None:
    """/ has each island wrapped with a signed token, SSR'd, and the runtime script once, in the body."""
    response = await get(front_url, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert len(SCRIPT.findall(page)) == 1
    assert page.index(SCRIPT.search(page).group(0)) < page.rindex("</body>")  # type: ignore[union-attr]
    islands = islands_in(page)
    assert [island.name for island in islands] == ["Counter", "Counter", "Echo", "Faulty", "Unicode"]
    assert all(TOKEN.match(island.token) for island in islands)
    assert [island.html for island in islands[:2]] == [counter_html(0), counter_html(10)]
    assert by_name(islands, "Faulty").html == faulty_html(0)
    assert by_name(islands, "Unicode").html == UNICODE_0
    assert '<div id="outside" data-live="inc">outside any island</div>' in page


async def test_plain_page_has_no_script(front_url: str) -> None:
    """A page without live islands ships no JavaScript; the query reaches the page."""
    response = await get(front_url, "/plain", params={"q": "abc"})
    assert response.status_code == 200
    assert "no islands, q=abc" in response.text
    assert "<script" not in response.text
    assert "<nowaki-live" not in response.text


@pytest.mark.parametrize(("path", "status"), [("/broken", 500), ("/tworoots", 500), ("/no-such-page", 404),
                                              ("/plain/nested/deeper", 404)])
async def test_page_errors(front_url: str, path: str, status: int) -> None:
    """A raising page and a two-root island are 500s; an unknown path is a 404."""
    response = await get(front_url, path)
    assert response.status_code == status
    assert "Traceback" not in response.text and "RuntimeError" not in response.text


@pytest.mark.parametrize("path", ["/", "/__nowaki/runtime.js"])
async def test_post_is_405(front_url: str, path: str) -> None:
    """Pages and the runtime answer GET only."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(front_url + path, content=b"x")
    assert response.status_code == 405
    assert "GET" in response.headers.get("allow", "GET")


async def _runtime_version(front_url: str) -> str:
    match = SCRIPT.search((await get(front_url, "/")).text)
    assert match is not None
    return match.group(1)


async def test_runtime_asset_caching(front_url: str) -> None:
    """ETag, Vary, long immutable cache with the page's ?v=, revalidation otherwise, 304 on a match."""
    version = await _runtime_version(front_url)
    plain = await get(front_url, "/__nowaki/runtime.js", params={"v": version},
                      headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert "javascript" in plain.headers["content-type"]
    assert "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "accept-encoding" in plain.headers["vary"].lower()
    cache = plain.headers["cache-control"]
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age is not None and int(max_age.group(1)) >= 30 * 24 * 3600, cache
    other = await get(front_url, "/__nowaki/runtime.js", params={"v": "stale"})
    assert "immutable" not in other.headers["cache-control"]
    assert "no-cache" in other.headers["cache-control"] or "max-age=0" in other.headers["cache-control"]
    again = await get(front_url, "/__nowaki/runtime.js", params={"v": version},
                      headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    changed = await get(front_url, "/__nowaki/runtime.js", headers={"if-none-match": '"not-it"'})
    assert changed.status_code == 200


@pytest.mark.parametrize("form", ["list", "weak"])
async def test_runtime_asset_if_none_match_forms(front_url: str, form: str) -> None:
    """RFC 9110 §13.1.2: If-None-Match may list several tags and is compared weakly."""
    etag = (await get(front_url, "/__nowaki/runtime.js")).headers["etag"]
    value = f'"other", {etag}' if form == "list" else f"W/{etag}"
    response = await get(front_url, "/__nowaki/runtime.js", headers={"if-none-match": value})
    assert response.status_code == 304


async def test_runtime_asset_gzip(front_url: str) -> None:
    """gzip when asked; the compressed body decompresses to the plain body and fits the 2 KiB budget."""
    version = await _runtime_version(front_url)
    plain = (await get(front_url, "/__nowaki/runtime.js", params={"v": version},
                       headers={"accept-encoding": "identity"})).content
    async with httpx.AsyncClient(timeout=10) as client, client.stream(
        "GET", f"{front_url}/__nowaki/runtime.js?v={version}", headers={"accept-encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in response.headers["vary"].lower()
    assert gzip.decompress(raw) == plain
    assert len(raw) <= 2048, f"runtime is {len(raw)} B gzipped, over the 2,048 B budget"


# -- the live socket -------------------------------------------------------------------


async def test_join_and_first_events(ws_url: str, index: list[PageIsland]) -> None:
    """joined lists the ids and a heartbeat; the first patch is full, the next a splice."""
    counter = by_name(index, "Counter")
    async with connect(ws_url) as client:
        joined = await client.join([(7, counter.token)])
        assert joined["ids"] == [7]
        assert isinstance(joined["heartbeat"], int | float) and joined["heartbeat"] > 0
        first = await client.event(7, "inc")
        assert first == {"type": "patch", "id": 7, "html": counter_html(1)}
        second = await client.event(7, "inc")
        assert second["type"] == "patch" and "at" in second, second
        start, deleted = second["at"]
        assert isinstance(start, int) and isinstance(deleted, int)
        assert len(second["html"]) < len(counter_html(2))
        assert client.copies[7] == counter_html(2)


async def test_noop_patch_has_no_html(ws_url: str, index: list[PageIsland]) -> None:
    """A handler that changes nothing is answered with ``{"type":"patch","id":N}`` only."""
    async with connect(ws_url) as client:
        await client.join([(3, by_name(index, "Counter").token)])
        await client.event(3, "inc")
        assert await client.event(3, "noop") == {"type": "patch", "id": 3}
        assert client.copies[3] == counter_html(1)


async def test_payload_reaches_the_handler(ws_url: str, index: list[PageIsland]) -> None:
    """``payload`` is passed to the handler as a dict of strings."""
    async with connect(ws_url) as client:
        await client.join([(1, by_name(index, "Counter", 1).token)])
        await client.event(1, "add", {"by": "5"})
        assert client.copies[1] == counter_html(15)
        await client.event(1, "add", {"by": "-20"})
        assert client.copies[1] == counter_html(-5)


async def test_echo_escapes_user_text(ws_url: str, index: list[PageIsland]) -> None:
    """User text sent in a payload comes back escaped by ``nowaki.html``."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Echo").token)])
        await client.event(0, "say", {"text": "<img src=x onerror=alert(1)>"})
        assert "<li>&lt;img src=x onerror=alert(1)&gt;</li>" in client.copies[0]
        await client.event(0, "form", {"text": "a&b", "n": "2", "via": "button"})
        assert '<dd data-field="text">a&amp;b</dd>' in client.copies[0]
        assert '<dd data-field="via">button</dd>' in client.copies[0]


async def test_ping_pong(ws_url: str) -> None:
    """ping is answered with exactly ``{"type":"pong"}``, also before any join."""
    async with connect(ws_url) as client:
        await client.send('{"type":"ping"}')
        assert await client.recv() == {"type": "pong"}
        await client.ping()


async def test_join_render_true_sends_full_patch(ws_url: str, index: list[PageIsland]) -> None:
    """A join with ``render: true`` renders each joined island at once as a full patch."""
    async with connect(ws_url) as client:
        joined = await client.join([(0, index[0].token), (1, index[1].token)], render=True)
        assert sorted(joined["ids"]) == [0, 1]
        for island_id, html in ((0, counter_html(0)), (1, counter_html(10))):
            patch = await client.reply_for(island_id)
            assert (patch["type"], patch["id"], patch.get("html")) == ("patch", island_id, html), patch
            assert "at" not in patch, patch
        splice = await client.event(1, "inc")
        assert "at" in splice
        assert client.copies[1] == counter_html(11)


async def test_events_of_one_island_apply_in_order(ws_url: str, index: list[PageIsland]) -> None:
    """50 events sent at once: 50 replies, in order, one each; the count ends 50 higher."""
    async with connect(ws_url) as client:
        await client.join([(5, by_name(index, "Counter", 1).token)])
        for _ in range(50):
            await client.send({"type": "event", "id": 5, "handler": "inc"})
        for step in range(1, 51):
            reply = await client.reply_for(5, timeout=10)
            assert reply["type"] == "patch", reply
            assert client.copies[5] == counter_html(10 + step), f"reply {step} out of order"
        await client.ping()
        assert client.backlog == [], "more replies than events"
        await client.event(5, "inc")
        assert client.copies[5] == counter_html(61), "a stray reply was taken for the 51st event"


async def test_interleaved_events_on_two_islands(ws_url: str, index: list[PageIsland]) -> None:
    """Events of two islands sent interleaved: each island's replies stay in its own order."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token), (1, index[1].token)])
        for _ in range(20):
            await client.send({"type": "event", "id": 0, "handler": "inc"})
            await client.send({"type": "event", "id": 1, "handler": "dec"})
        for step in range(1, 21):
            await client.reply_for(0, timeout=10)
            assert client.copies[0] == counter_html(step)
        for step in range(1, 21):
            await client.reply_for(1, timeout=10)
            assert client.copies[1] == counter_html(10 - step)


async def test_two_islands_one_connection(ws_url: str, index: list[PageIsland]) -> None:
    """Two islands on one connection keep separate states, even from the same token."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token), (1, index[1].token), (2, index[0].token)])
        for _ in range(3):
            await client.event(0, "inc")
        await client.event(1, "dec")
        await client.event(2, "dec")
        assert (client.copies[0], client.copies[1], client.copies[2]) == (
            counter_html(3), counter_html(9), counter_html(-1)
        )


async def test_two_connections_independent(ws_url: str, index: list[PageIsland]) -> None:
    """The same token on two connections: two states."""
    async with connect(ws_url) as a, connect(ws_url) as b:
        await a.join([(0, index[0].token)])
        await b.join([(0, index[0].token)])
        await a.event(0, "inc")
        await a.event(0, "inc")
        await b.event(0, "dec")
        assert a.copies[0] == counter_html(2)
        assert b.copies[0] == counter_html(-1)


# -- bad input: a typed error, and the connection keeps working ------------------------


async def _still_works(client: LiveClient, island_id: int = 0, expect: int | None = None) -> None:
    await client.ping()
    reply = await client.event(island_id, "inc")
    assert reply["type"] == "patch", reply
    if expect is not None:
        assert client.copies[island_id] == counter_html(expect)


@pytest.mark.parametrize(
    "frame",
    ["{not json", "", '["event"]', "42", '"ping"', "null", '{"type":"shout"}', '{"no_type":1}',
     '{"type":"event","id":0}', '{"type":"event","id":true,"handler":"inc"}',
     '{"type":"event","id":-1,"handler":"inc"}', '{"type":"event","id":"0","handler":"inc"}',
     '{"type":"event","id":2147483648,"handler":"inc"}', '{"type":"join"}',
     '{"type":"join","islands":[[0]]}', '{"type":"join","islands":"x"}'],
    ids=["malformed", "empty", "array", "number", "string", "null", "unknown-type", "no-type", "no-handler",
         "bool-id", "negative-id", "text-id", "huge-id", "join-no-islands", "join-short-pair", "join-text"],
)
async def test_bad_message(ws_url: str, index: list[PageIsland], frame: str) -> None:
    """Frames that are not valid client messages: ``bad_message`` without an id."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token)])
        await client.send(frame)
        assert_error(await client.recv(), "bad_message", None)
        await _still_works(client, expect=1)


async def test_binary_frame(ws_url: str, index: list[PageIsland]) -> None:
    """A binary frame, even holding valid JSON, is ``bad_message``."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token)])
        await client.send(b'{"type":"ping"}')
        assert_error(await client.recv(), "bad_message", None)
        await _still_works(client, expect=1)


@pytest.mark.parametrize("handler", ["nope", "__class__", "__init__", "_private", "mro", "get"])
async def test_unknown_handler(ws_url: str, index: list[PageIsland], handler: str) -> None:
    """A handler the island does not have: ``unknown_handler`` with the id; state untouched."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token)])
        await client.event(0, "inc")
        assert_error(await client.event(0, handler), "unknown_handler", 0)
        await _still_works(client, expect=2)


async def test_underscore_handler_is_unreachable(ws_url: str, front_url: str) -> None:
    """Hidden's ``_touch`` is in its ``live["on"]`` but can never be called from a browser."""
    hidden = (await page_islands(front_url, "/hidden"))[0]
    async with connect(ws_url) as client:
        await client.join([(0, hidden.token)], render=True)
        await client.reply_for(0)
        assert_error(await client.event(0, "_touch"), "unknown_handler", 0)
        await client.event(0, "inc")
        assert client.copies[0] == '<div class="hidden"><span>n=1</span><i>untouched</i></div>'


async def test_event_for_island_not_joined(ws_url: str, index: list[PageIsland]) -> None:
    """An event for an id this connection never joined: ``not_joined`` with that id."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token)])
        assert_error(await client.event(9, "inc"), "not_joined", 9)
        await _still_works(client, expect=1)
    async with connect(ws_url) as fresh:
        assert_error(await fresh.event(0, "inc"), "not_joined", 0)
        await fresh.ping()


@pytest.mark.parametrize("payload", [["by", "1"], "by=1", 5, {"by": 1}, {"by": None}, {"by": ["1"]}],
                         ids=["array", "text", "number", "int-value", "null-value", "array-value"])
async def test_bad_payload(ws_url: str, index: list[PageIsland], payload: Any) -> None:
    """A payload that is not an object of text values: ``bad_payload`` *with the island's id*."""
    async with connect(ws_url) as client:
        await client.join([(0, index[0].token)])
        await client.send({"type": "event", "id": 0, "handler": "add", "payload": payload})
        assert_error(await client.recv(), "bad_payload", 0)
        await _still_works(client, expect=1)


def _forge_signature(token: str) -> str:
    body, mac = token.split(".")
    return f"{body}.{flip(mac[0])}{mac[1:]}"


def _forge_body(token: str) -> str:
    body, mac = token.split(".")
    claims = cbor2.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["s"] = {"count": 1_000_000}
    forged = base64.urlsafe_b64encode(cbor2.dumps(claims)).decode().rstrip("=")
    return f"{forged}.{mac}"


@pytest.mark.parametrize(
    "forge",
    [_forge_signature, _forge_body, lambda t: sign(b"another-secret", "Counter", {"count": 0}),
     lambda t: "not-a-token", lambda t: "", lambda t: t + "x", lambda t: t.split(".")[0]],
    ids=["flipped-signature", "tampered-body", "other-secret", "garbage", "empty", "extra-char", "no-mac"],
)
async def test_bad_token(ws_url: str, index: list[PageIsland], forge: Any) -> None:
    """A forged or malformed token: ``bad_token`` with the id; the good island beside it joins."""
    async with connect(ws_url) as client:
        joined = await client.join([(0, index[0].token), (1, forge(index[0].token))])
        assert joined["ids"] == [0]
        assert_error(await client.recv_where(lambda m: m["type"] == "error"), "bad_token", 1)
        assert_error(await client.event(1, "inc"), "not_joined", 1)
        await _still_works(client, expect=1)


async def test_expired_and_unknown_island_tokens(ws_url: str, front_secret: bytes) -> None:
    """Tokens signed with the front's secret: fresh is accepted, too old or for no island is ``bad_token``."""
    now = time.time()
    fresh = sign(front_secret, "Counter", {"count": 4}, now=now)
    expired = sign(front_secret, "Counter", {"count": 4}, now=now - 86_400 - 120)
    unknown = sign(front_secret, "NoSuchIsland", {}, now=now)
    async with connect(ws_url) as client:
        joined = await client.join([(0, fresh), (1, expired), (2, unknown)])
        assert joined["ids"] == [0], "the fresh token must verify (is --front-secret right?)"
        errors = [await client.recv_where(lambda m: m["type"] == "error") for _ in range(2)]
        assert sorted((e["id"], e["code"]) for e in errors) == [(1, "bad_token"), (2, "bad_token")]
        await _still_works(client, expect=5)


async def test_too_many_islands(ws_url: str, index: list[PageIsland]) -> None:
    """Over 64 islands on one connection: ``too_many_islands`` for the extra ones; the rest work."""
    token = index[0].token
    async with connect(ws_url) as client:
        joined = await client.join([(n, token) for n in range(65)])
        assert sorted(joined["ids"]) == list(range(64))
        assert_error(await client.recv_where(lambda m: m["type"] == "error"), "too_many_islands", 64)
        await _still_works(client, island_id=63, expect=1)


async def test_oversized_frame_closes_1009(ws_url: str) -> None:
    """A frame over 32 KiB: the server closes with 1009; just under the limit is fine."""
    async with connect(ws_url) as client:
        await client.send(json.dumps({"type": "ping", "pad": "x" * 30_000}))
        assert await client.recv() == {"type": "pong"}
        await client.send(json.dumps({"type": "ping", "pad": "x" * 40_000}))
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
            await client.recv()
        assert closed.value.reason.code == 1009


# -- failing island code ---------------------------------------------------------------


async def test_handler_failed_keeps_state(ws_url: str, index: list[PageIsland]) -> None:
    """boom: ``handler_failed`` with the id; the next ok continues from the old state."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Faulty").token)])
        await client.event(0, "ok")
        reply = await client.event(0, "boom")
        assert_error(reply, "handler_failed", 0)
        assert "ZeroDivisionError" in reply["message"]
        await client.event(0, "ok")
        assert client.copies[0] == faulty_html(2)


@pytest.mark.parametrize(
    ("handler", "code"),
    [("unserialisable", "state_invalid"), ("huge", "state_too_large"), ("bad_render", "render_failed")],
)
async def test_failed_events_keep_state(
    ws_url: str, index: list[PageIsland], handler: str, code: str
) -> None:
    """A state CBOR can't carry, a state over 64 KiB, a raising render: typed error, old state kept."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Faulty").token)])
        await client.event(0, "ok")
        assert_error(await client.event(0, handler), code, 0)
        assert client.copies[0] == faulty_html(1)
        reply = await client.event(0, "ok")
        assert reply["type"] == "patch", reply
        assert client.copies[0] == faulty_html(2)


async def test_chatty_handler_through_the_front(ws_url: str, index: list[PageIsland]) -> None:
    """print() in island code does not corrupt the renderer's replies."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Faulty").token)])
        for n in range(1, 4):
            assert (await client.event(0, "chatty"))["type"] == "patch"
            assert client.copies[0] == faulty_html(n)


async def test_hang_times_out_while_others_proceed(
    ws_url: str, index: list[PageIsland], render_timeout: float
) -> None:
    """hang: ``timeout`` after the render deadline; meanwhile another island keeps working; state kept."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Faulty").token), (1, index[0].token)])
        await client.event(0, "ok")
        began = trio.current_time()
        await client.send({"type": "event", "id": 0, "handler": "hang"})
        for step in range(1, 6):
            reply = await client.event(1, "inc", timeout=render_timeout)
            assert reply["type"] == "patch", reply
            assert client.copies[1] == counter_html(step)
        assert trio.current_time() - began < render_timeout, "the other island waited for the hang"
        reply = await client.reply_for(0, timeout=render_timeout + 5)
        elapsed = trio.current_time() - began
        assert_error(reply, "timeout", 0)
        assert render_timeout - 0.25 <= elapsed <= render_timeout + 3, elapsed
        await client.event(0, "ok", timeout=30)
        assert client.copies[0] == faulty_html(2)
        await client.event(1, "inc", timeout=30)
        assert client.copies[1] == counter_html(6)


async def test_crash_reports_and_recovers(ws_url: str, index: list[PageIsland]) -> None:
    """crash kills the renderer: ``renderer_crashed`` (not retried); the island goes on with its state."""
    async with connect(ws_url) as client:
        await client.join([(0, by_name(index, "Faulty").token), (1, index[1].token)])
        await client.event(0, "ok")
        await client.event(0, "ok")
        assert_error(await client.event(0, "crash", timeout=15), "renderer_crashed", 0)
        await client.event(0, "ok", timeout=30)
        assert client.copies[0] == faulty_html(3)
        await client.event(1, "inc", timeout=30)
        assert client.copies[1] == counter_html(11)


# -- patch units and sizes -------------------------------------------------------------


async def test_unicode_offsets_are_utf16(ws_url: str, index: list[PageIsland]) -> None:
    """After 🌊 (two UTF-16 units) the change sits at unit 21, not code point 20."""
    unicode = by_name(index, "Unicode")
    async with connect(ws_url) as client:
        await client.join([(0, unicode.token)], render=True)
        assert (await client.reply_for(0))["html"] == UNICODE_0
        for n in range(1, 12):
            before = client.copies[0]
            patch = await client.event(0, "inc")
            expected = UNICODE_0.replace("<b>0</b>", f"<b>{n}</b>")
            assert client.copies[0] == expected
            start, deleted = patch["at"]
            assert utf16_splice(before, start, deleted, patch["html"]) == expected
            same = next(i for i, (x, y) in enumerate(zip(before, expected, strict=False)) if x != y)
            assert start == len(before[:same].encode("utf-16-le")) // 2 == same + 1, patch
            assert start == (21 if n <= 10 else 22), patch


async def test_table_patch_is_small(ws_url: str, front_url: str, index: list[PageIsland]) -> None:
    """One cell of a 1,000-row table changes: the patch frame stays under 256 bytes."""
    table = (await page_islands(front_url, "/table"))[0]
    assert table.html.count("<tr>") == 1000
    async with connect(ws_url) as client:
        await client.join([(0, table.token), (1, index[0].token)], render=True)
        full = await client.reply_for(0)
        await client.reply_for(1)
        assert full["html"] == table.html
        await client.ws.send_message('{"type":"event","id":0,"handler":"bump"}')
        await client.reply_for(0)
        table_size = client.sizes[-1]
        await client.event(1, "inc")
        counter_size = client.sizes[-1]
        print(f"\npatch frame sizes: Table bump {table_size} B, Counter inc {counter_size} B, "
              f"full table {len(json.dumps(full, ensure_ascii=False).encode())} B")
        bumped = table.html.replace("<tr><td>0</td><td>0</td>", "<tr><td>0</td><td>1</td>", 1)
        assert client.copies[0] == bumped
        assert table_size < 256
        assert counter_size < 256


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        ("GET /__nowaki/live HTTP/1.1\r\nHost: x\r\n\r\n", "426"),  # a plain GET
        ("GET /__nowaki/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5aw==\r\nSec-WebSocket-Version: 8\r\n\r\n", "426"),
        ("GET /__nowaki/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n", "400"),  # no key
    ],
)
async def test_the_live_path_refuses_what_is_not_an_upgrade_over_http(
    front_url: str, request_head: str, status: str
) -> None:
    """SPEC B, opening handshake: HTTP 426 or 400, then the connection ends."""
    parts = urlsplit(front_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    async with await trio.open_tcp_stream(host, port) as stream:
        await stream.send_all(request_head.encode())
        with trio.fail_after(5):
            line, headers, body = await http_response(stream)
            assert line.split()[1] == status, (line, body)
            assert headers.get("connection") == "close"
            assert await stream.receive_some(1) == b""  # and the connection ends
