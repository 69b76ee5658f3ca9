"""Wire R conformance: drive the renderer command (``--renderer-cmd``) over real pipes."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest

from nowaki.protocol.framing import encode_frame
from tests.conformance.pipe_renderer import PipeRenderer, RendererGone

REQUEST = {"path": "/", "query": {}, "headers": {}}


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


def ok_body(reply: dict[str, Any]) -> dict[str, Any]:
    """The ``ok`` map of a success reply."""
    assert set(reply) == {"id", "ok"}, reply
    assert isinstance(reply["ok"], dict)
    return reply["ok"]  # type: ignore[no-any-return]


def error_code(reply: dict[str, Any]) -> str:
    """The code of an error reply, checking the reply's shape."""
    assert set(reply) == {"id", "error"}, reply
    assert isinstance(reply["error"].get("message"), str), reply
    return reply["error"]["code"]  # type: ignore[no-any-return]


@pytest.fixture
def fresh(renderer_argv: list[str]) -> Iterator[PipeRenderer]:
    """A renderer of its own, for tests that end or break it."""
    renderer = PipeRenderer(renderer_argv)
    try:
        yield renderer
    finally:
        renderer.close()


@pytest.fixture(scope="module")
def renderer(renderer_argv: list[str]) -> Iterator[PipeRenderer]:
    """One renderer, greeted, shared by the tests that leave it working."""
    shared = PipeRenderer(renderer_argv)
    try:
        assert ok_body(shared.call("hello", version=1, timeout=20))["version"] == 1
        yield shared
    finally:
        shared.close()


def greet(renderer: PipeRenderer) -> dict[str, Any]:
    """Say hello (startup may take a while) and return the ``ok`` map."""
    return ok_body(renderer.call("hello", version=1, timeout=20))


# -- hello -----------------------------------------------------------------------


def test_hello(fresh: PipeRenderer) -> None:
    """hello answers version 1, every island with its handlers, and the page routes."""
    body = greet(fresh)
    assert body["version"] == 1
    islands = body["islands"]
    assert set(islands["Counter"]["handlers"]) == {"inc", "dec", "add", "reset", "noop"}
    assert set(islands["Faulty"]["handlers"]) == {
        "ok", "boom", "hang", "crash", "chatty", "unserialisable", "huge", "bad_render"
    }
    assert set(islands["TwoRoots"]["handlers"]) == set()
    assert set(islands["Hidden"]["handlers"]) == {"inc"}, "names starting with _ are never handlers"
    assert {"Echo", "Table", "Unicode", "Ignoring"} <= set(islands)
    assert all(isinstance(h, str) for info in islands.values() for h in info["handlers"])
    assert islands["Sandboxed"].get("predict") is False, "live['predict'] = False is reported"
    assert islands["Counter"].get("predict", True) is True
    assert {"/", "/plain", "/broken", "/table", "/tworoots", "/hidden"} <= set(body["pages"])


def test_hello_wrong_version(fresh: PipeRenderer) -> None:
    """Another version is refused with ``version``; the renderer still answers hello 1 after it."""
    assert error_code(fresh.call("hello", version=2, timeout=20)) == "version"
    assert greet(fresh)["version"] == 1


# -- the ops ---------------------------------------------------------------------


def test_page_parts(renderer: PipeRenderer) -> None:
    """``page`` parts alternate text and island maps ``{island, state, html}``."""
    parts = ok_body(renderer.call("page", route="/", request=REQUEST))["parts"]
    assert len(parts) % 2 == 1
    assert all(isinstance(text, str) for text in parts[0::2])
    islands = parts[1::2]
    assert all(isinstance(island, dict) and {"island", "state", "html"} <= set(island) for island in islands)
    assert [island["island"] for island in islands] == ["Counter", "Counter", "Echo", "Faulty", "Unicode"]
    assert [island["state"] for island in islands[:2]] == [{"count": 0}, {"count": 10}]
    assert islands[1]["html"] == counter_html(10)
    assert islands[4]["html"] == "<p>héllo 🌊 wörld <b>0</b> ✓</p>"
    assert parts[0].lstrip().lower().startswith("<!doctype html>")
    assert "</body></html>" in parts[-1]


def test_page_request_and_plain(renderer: PipeRenderer) -> None:
    """A page without islands is one text part; the request's query reaches the page."""
    request = {"path": "/plain", "query": {"q": "zz"}, "headers": {"accept": "text/html"}}
    parts = ok_body(renderer.call("page", route="/plain", request=request))["parts"]
    assert parts == ["<!doctype html><html><body><p>no islands, q=zz</p></body></html>"]


def test_init_event_render(renderer: PipeRenderer) -> None:
    """init, event (with payload) and render answer state and HTML."""
    assert ok_body(renderer.call("init", island="Counter", props={"start": 4})) == {
        "state": {"count": 4}, "html": counter_html(4)
    }
    body = ok_body(renderer.call("event", island="Counter", handler="inc", state={"count": 4}, payload={}))
    assert body == {"state": {"count": 5}, "html": counter_html(5)}
    body = ok_body(renderer.call("event", island="Counter", handler="add", state={"count": 5},
                                 payload={"by": "10"}))
    assert body["state"] == {"count": 15}
    body = ok_body(renderer.call("event", island="Counter", handler="reset", state={"count": 15}, payload={}))
    assert body == {"state": {"count": 0}, "html": counter_html(0)}
    assert ok_body(renderer.call("render", island="Counter", state={"count": 7})) == {"html": counter_html(7)}


def test_reply_id_echoes_large_ids(renderer: PipeRenderer) -> None:
    """Ids are the front's to choose: any unsigned integer comes back as is."""
    for request_id in (0, 2**32 + 5, 2**63 - 1):
        renderer.send({"id": request_id, "op": "render", "island": "Counter", "state": {"count": 1}})
        assert renderer.reply(request_id)["id"] == request_id


# -- every error code --------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "fields", "code"),
    [
        ("nope", {}, "bad_request"),
        ("event", {"island": "Counter", "handler": "inc", "payload": {}}, "bad_request"),
        ("init", {"island": "Counter", "props": []}, "bad_request"),
        ("hello", {"version": "1"}, "bad_request"),
        ("init", {"island": "Nope", "props": {}}, "unknown_island"),
        ("render", {"island": "Nope", "state": {}}, "unknown_island"),
        ("event", {"island": "Counter", "handler": "nope", "state": {"count": 0}, "payload": {}},
         "unknown_handler"),
        ("event", {"island": "Counter", "handler": "__class__", "state": {"count": 0}, "payload": {}},
         "unknown_handler"),
        ("event", {"island": "Counter", "handler": "_private", "state": {"count": 0}, "payload": {}},
         "unknown_handler"),
        ("event", {"island": "Hidden", "handler": "_touch", "state": {"n": 0, "touched": False},
                   "payload": {}}, "unknown_handler"),
        ("event", {"island": "Faulty", "handler": "boom", "state": {"n": 0}, "payload": {}},
         "handler_failed"),
        ("event", {"island": "Faulty", "handler": "bad_render", "state": {"n": 0}, "payload": {}},
         "render_failed"),
        ("render", {"island": "Faulty", "state": {"n": "x"}}, "render_failed"),
        ("event", {"island": "Faulty", "handler": "unserialisable", "state": {"n": 0}, "payload": {}},
         "state_invalid"),
        ("init", {"island": "TwoRoots", "props": {}}, "island_root"),
        ("page", {"route": "/tworoots", "request": REQUEST}, "island_root"),
        ("page", {"route": "/broken", "request": REQUEST}, "page_failed"),
        ("page", {"route": "/nope", "request": REQUEST}, "unknown_page"),
    ],
)
def test_error_codes(renderer: PipeRenderer, op: str, fields: dict[str, Any], code: str) -> None:
    """Each user or request error is a typed reply with the request's id; the renderer goes on."""
    reply = renderer.call(op, **fields)
    assert error_code(reply) == code
    assert ok_body(renderer.call("render", island="Counter", state={"count": 1}))["html"] == counter_html(1)


def test_handler_failed_names_the_exception(renderer: PipeRenderer) -> None:
    """``handler_failed``'s message carries the exception's type."""
    reply = renderer.call("event", island="Faulty", handler="boom", state={"n": 0}, payload={})
    assert "ZeroDivisionError" in reply["error"]["message"]


def test_request_without_usable_id(renderer: PipeRenderer) -> None:
    """A request whose id is unusable is answered ``bad_request`` with id 0."""
    renderer.send({"id": "seven", "op": "hello", "version": 1})
    reply = renderer.reply(timeout=5)
    assert reply["id"] == 0 and type(reply["id"]) is int
    assert error_code(reply) == "bad_request"


def test_page_with_mistyped_request_does_not_end_the_renderer(fresh: PipeRenderer) -> None:
    """A mistyped ``request.query`` is a ``bad_request`` reply (a user error never ends a renderer)."""
    greet(fresh)
    reply = fresh.call("page", route="/plain", request={"path": "/plain", "query": 5, "headers": {}})
    assert error_code(reply) == "bad_request"
    assert ok_body(fresh.call("render", island="Counter", state={"count": 2}))["html"] == counter_html(2)


# -- stream behaviour ----------------------------------------------------------------


def test_print_in_app_code_does_not_corrupt_the_stream(renderer: PipeRenderer) -> None:
    """Faulty.chatty prints 1.6 kB to stdout; the reply and the next ones still parse."""
    for n in range(3):
        body = ok_body(renderer.call("event", island="Faulty", handler="chatty", state={"n": n}, payload={}))
        assert body == {"state": {"n": n + 1}, "html": faulty_html(n + 1)}
    assert renderer.pending_bytes == 0
    assert ok_body(renderer.call("render", island="Counter", state={"count": 3}))["html"] == counter_html(3)


def test_pipelined_requests(renderer: PipeRenderer) -> None:
    """Many requests written at once, errors among them: one reply each, matched by id."""
    requests = {}
    batch = b""
    for n in range(30):
        request_id = renderer.next_id()
        if n % 5 == 4:
            message = {"id": request_id, "op": "event", "island": "Faulty", "handler": "boom",
                       "state": {"n": n}, "payload": {}}
        else:
            message = {"id": request_id, "op": "event", "island": "Counter", "handler": "inc",
                       "state": {"count": n}, "payload": {}}
        requests[request_id] = n
        batch += encode_frame(message)
    renderer.write(batch)
    replies = [renderer.reply(timeout=10) for _ in requests]
    assert sorted(reply["id"] for reply in replies) == sorted(requests)
    for reply in replies:
        n = requests[reply["id"]]
        if n % 5 == 4:
            assert error_code(reply) == "handler_failed"
        else:
            assert ok_body(reply)["state"] == {"count": n + 1}


def test_frame_split_across_writes(renderer: PipeRenderer) -> None:
    """A request arriving in pieces is answered once it is whole."""
    request_id = renderer.next_id()
    frame = encode_frame({"id": request_id, "op": "render", "island": "Counter", "state": {"count": 9}})
    for index in range(0, len(frame), 3):
        renderer.write(frame[index : index + 3])
    assert ok_body(renderer.reply(request_id))["html"] == counter_html(9)


def test_worker_survives_errors(renderer: PipeRenderer) -> None:
    """After a run of every kind of error the same process still answers."""
    pid = renderer.process.pid
    renderer.call("nope")
    renderer.call("event", island="Faulty", handler="boom", state={"n": 0}, payload={})
    renderer.call("page", route="/broken", request=REQUEST)
    renderer.call("event", island="Faulty", handler="unserialisable", state={"n": 0}, payload={})
    body = ok_body(renderer.call("event", island="Faulty", handler="ok", state={"n": 41}, payload={}))
    assert body == {"state": {"n": 42}, "html": faulty_html(42)}
    assert renderer.process.pid == pid and renderer.process.poll() is None


# -- protocol errors and ends --------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xff\xff", b"\x1c", cbor2.dumps([1, 2]), cbor2.dumps("text"), b""],
    ids=["garbage", "reserved", "array", "text", "empty"],
)
def test_malformed_frame_exits_3(fresh: PipeRenderer, payload: bytes) -> None:
    """A payload that is not a CBOR map: the renderer stops reading and exits with status 3."""
    greet(fresh)
    fresh.write(struct.pack(">I", len(payload)) + payload)
    assert fresh.read_to_eof(timeout=5) == []
    assert fresh.wait(timeout=5) == 3


def test_oversized_frame_exits_3_before_the_payload(fresh: PipeRenderer) -> None:
    """A header announcing more than 16 MiB: exit 3 at once, without waiting for the payload."""
    greet(fresh)
    fresh.write(struct.pack(">I", 16 * 1024 * 1024 + 1))
    assert fresh.wait(timeout=5) == 3


def test_replies_before_a_bad_frame_are_sent(fresh: PipeRenderer) -> None:
    """Requests before the bad frame in the same write are still answered, then exit 3."""
    greet(fresh)
    good = encode_frame({"id": 50, "op": "render", "island": "Counter", "state": {"count": 1}})
    fresh.write(good + struct.pack(">I", 1) + b"\xff")
    replies = fresh.read_to_eof(timeout=5)
    assert [reply["id"] for reply in replies] == [50]
    assert fresh.wait(timeout=5) == 3


def test_eof_exits_0(fresh: PipeRenderer) -> None:
    """EOF on stdin is a normal end: exit status 0."""
    greet(fresh)
    fresh.close_stdin()
    assert fresh.read_to_eof(timeout=5) == []
    assert fresh.wait(timeout=5) == 0


def test_eof_mid_frame_exits(fresh: PipeRenderer) -> None:
    """EOF in the middle of a frame ends the renderer too (no hang waiting for the rest)."""
    greet(fresh)
    fresh.write(encode_frame({"id": 1, "op": "render", "island": "Counter", "state": {}})[:7])
    fresh.close_stdin()
    fresh.read_to_eof(timeout=5)
    assert fresh.wait(timeout=5) in (0, 3)


def test_crashing_handler_ends_the_process(fresh: PipeRenderer) -> None:
    """Faulty.crash calls os._exit: the renderer dies without a reply (the front handles it)."""
    greet(fresh)
    request_id = fresh.next_id()
    fresh.send({"id": request_id, "op": "event", "island": "Faulty", "handler": "crash",
                "state": {"n": 0}, "payload": {}})
    with pytest.raises(RendererGone):
        fresh.reply(request_id, timeout=5)
    assert fresh.wait(timeout=5) != 0
