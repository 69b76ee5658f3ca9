"""renderer.worker.Worker.handle against the fixture app: every wire R reply, no process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from nowaki.renderer.app import App, load
from nowaki.renderer.worker import Worker
from tests.support import FIXTURE_APP
from tests.unit.test_app_loading import GOOD_PAGE, make_app

REQUEST = {"path": "/", "query": {}, "headers": {}}


def counter_html(count: int) -> str:
    """The fixture Counter's markup."""
    return (
        '<div class="counter"><button data-live="dec">-</button>'
        f'<strong>live: {count}</strong><button data-live="inc">+</button></div>'
    )


@pytest.fixture(scope="module")
def app() -> App:
    """The conformance fixture app, imported in this process."""
    return load(FIXTURE_APP)


@pytest.fixture
def worker(app: App) -> Worker:
    """A fresh worker (its one-root check cache starts empty)."""
    return Worker(app)


def ok(reply: dict[str, Any], request_id: int = 1) -> dict[str, Any]:
    """The ``ok`` body of a success reply, checking its id."""
    assert reply.get("id") == request_id, reply
    assert "ok" in reply, reply
    assert set(reply) == {"id", "ok"}
    return reply["ok"]  # type: ignore[no-any-return]


def failed(reply: dict[str, Any], code: str, request_id: int = 1) -> str:
    """The message of an error reply with ``code``, checking its id and shape."""
    assert reply.get("id") == request_id, reply
    assert set(reply) == {"id", "error"}, reply
    assert set(reply["error"]) == {"code", "message"}
    assert reply["error"]["code"] == code, reply
    assert isinstance(reply["error"]["message"], str)
    return reply["error"]["message"]  # type: ignore[no-any-return]


def event(worker: Worker, island: str, handler: str, state: Any, payload: dict[str, str] | None = None,
          request_id: int = 1) -> dict[str, Any]:
    """Send one ``event`` request."""
    return worker.handle({"id": request_id, "op": "event", "island": island, "handler": handler,
                          "state": state, "payload": payload or {}})


# -- hello ---------------------------------------------------------------------


def test_hello(worker: Worker) -> None:
    """hello lists version, islands with sorted public handlers, and page routes."""
    body = ok(worker.handle({"id": 1, "op": "hello", "version": 1}))
    assert body["version"] == 1
    islands = body["islands"]
    assert islands["Counter"]["handlers"] == ["add", "dec", "inc", "noop", "reset"]
    assert islands["TwoRoots"]["handlers"] == []
    assert islands["Hidden"]["handlers"] == ["inc"]
    assert {"Echo", "Faulty", "Table", "Unicode", "Ignoring"} <= set(islands)
    assert {"/", "/plain", "/broken", "/table", "/tworoots", "/coexist", "/hidden"} <= set(body["pages"])
    assert body["pages"] == sorted(body["pages"])


@pytest.mark.parametrize("version", [0, 2, 99])
def test_hello_version_mismatch(worker: Worker, version: int) -> None:
    """Any version but 1 is refused with ``version``."""
    assert "1" in failed(worker.handle({"id": 1, "op": "hello", "version": version}), "version")


def test_hello_shared_key(app: App) -> None:
    """With a shared key, hello needs it: missing or wrong is ``forbidden``."""
    keyed = Worker(app, shared_key="s3cret")
    failed(keyed.handle({"id": 1, "op": "hello", "version": 1}), "forbidden")
    failed(keyed.handle({"id": 2, "op": "hello", "version": 1, "key": "wrong"}), "forbidden", 2)
    failed(keyed.handle({"id": 3, "op": "hello", "version": 1, "key": 5}), "forbidden", 3)
    init = {"op": "init", "island": "Counter", "props": {}}
    failed(keyed.handle({"id": 4, **init}), "forbidden", 4)
    assert ok(keyed.handle({"id": 5, "op": "hello", "version": 1, "key": "s3cret"}), 5)["version"] == 1
    assert ok(keyed.handle({"id": 6, **init}), 6)["state"] == {"count": 0}


# -- bad_request ---------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        {"id": 5, "op": "nope"},
        {"id": 5},
        {"id": 5, "op": "hello"},
        {"id": 5, "op": "hello", "version": "1"},
        {"id": 5, "op": "init", "island": "Counter"},
        {"id": 5, "op": "event", "island": "Counter", "handler": "inc", "payload": {}},
        {"id": 5, "op": "event", "island": "Counter", "handler": "inc", "state": {}, "payload": []},
        {"id": 5, "op": "render", "island": "Counter"},
        {"id": 5, "op": "page", "route": "/"},
    ],
)
def test_bad_request(worker: Worker, message: dict[str, Any]) -> None:
    """Unknown op, missing or mistyped field: ``bad_request`` with the request's id."""
    failed(worker.handle(message), "bad_request", 5)


@pytest.mark.parametrize("bad_id", [None, "7", -3, True, 1.5])
def test_bad_request_id_is_reported_as_zero(worker: Worker, bad_id: Any) -> None:
    """A request without a usable id gets ``bad_request`` with id 0 (an unsigned integer, not a bool)."""
    reply = worker.handle({"id": bad_id, "op": "hello", "version": 1})
    failed(reply, "bad_request", 0)
    assert type(reply["id"]) is int


@pytest.mark.parametrize(
    "request_field",
    [{"path": "/plain", "query": 5, "headers": {}}, {"path": "/plain", "query": {}, "headers": "x"},
     {"path": "/plain", "query": [1, 2], "headers": {}}],
    ids=["query-int", "headers-text", "query-list"],
)
def test_page_mistyped_request_fields(worker: Worker, request_field: dict[str, Any]) -> None:
    """A mistyped ``request.query``/``headers`` is a ``bad_request`` reply, not a crash of the worker."""
    reply = worker.handle({"id": 1, "op": "page", "route": "/plain", "request": request_field})
    failed(reply, "bad_request")


# -- islands -------------------------------------------------------------------


def test_init(worker: Worker) -> None:
    """init makes the state from props and renders it."""
    body = ok(worker.handle({"id": 1, "op": "init", "island": "Counter", "props": {"start": 7}}))
    assert body == {"state": {"count": 7}, "html": counter_html(7)}
    body = ok(worker.handle({"id": 2, "op": "init", "island": "Echo", "props": {"ignored": 1}}), 2)
    assert body["state"] == {"said": [], "form": {}}


def test_event_and_render(worker: Worker) -> None:
    """event applies the handler (any arity) and renders; render renders a given state."""
    assert ok(event(worker, "Counter", "inc", {"count": 1})) == {
        "state": {"count": 2}, "html": counter_html(2)
    }
    assert ok(event(worker, "Counter", "add", {"count": 1}, {"by": "5"}))["state"] == {"count": 6}
    assert ok(event(worker, "Counter", "reset", {"count": 9}))["state"] == {"count": 0}
    assert ok(event(worker, "Counter", "noop", {"count": 4}))["html"] == counter_html(4)
    body = ok(worker.handle({"id": 1, "op": "render", "island": "Counter", "state": {"count": 3}}))
    assert body == {"html": counter_html(3)}


def test_event_escapes_payload_with_html_helper(worker: Worker) -> None:
    """Echo renders payload text through ``nowaki.html``: it arrives escaped."""
    body = ok(event(worker, "Echo", "say", {"said": [], "form": {}}, {"text": "<script>x</script>"}))
    assert "<li>&lt;script&gt;x&lt;/script&gt;</li>" in body["html"]
    assert "<script>" not in body["html"]


@pytest.mark.parametrize("op", ["init", "event", "render"])
def test_unknown_island(worker: Worker, op: str) -> None:
    """No island of that name."""
    message = {"id": 1, "op": op, "island": "Nope", "props": {}, "handler": "inc", "state": {}, "payload": {}}
    assert "Nope" in failed(worker.handle(message), "unknown_island")


@pytest.mark.parametrize(
    ("island", "handler"),
    [("Counter", "nope"), ("Counter", "__class__"), ("Counter", "__init__"), ("Counter", "_private"),
     ("Counter", "get"), ("Counter", "items"), ("Hidden", "_touch"), ("TwoRoots", "inc")],
)
def test_unknown_handler(worker: Worker, island: str, handler: str) -> None:
    """Handlers not in ``live["on"]``, and every ``_``-prefixed name, do not exist."""
    state = {"n": 0, "touched": False, "count": 0}
    failed(event(worker, island, handler, state), "unknown_handler")


def test_handler_failed(worker: Worker) -> None:
    """A raising handler: ``handler_failed`` with the exception's type and text."""
    message = failed(event(worker, "Faulty", "boom", {"n": 0}), "handler_failed")
    assert "ZeroDivisionError" in message
    failed(event(worker, "Counter", "inc", None), "handler_failed")
    reply = event(worker, "Counter", "add", {"count": 0}, {"by": "x"})
    assert "ValueError" in failed(reply, "handler_failed")


def test_render_failed(worker: Worker) -> None:
    """A raising render, after an event or in ``render``."""
    assert "ValueError" in failed(event(worker, "Faulty", "bad_render", {"n": 0}), "render_failed")
    reply = worker.handle({"id": 1, "op": "render", "island": "Faulty", "state": {"n": "x"}})
    failed(reply, "render_failed")


def test_state_invalid(worker: Worker) -> None:
    """A state CBOR cannot carry."""
    failed(event(worker, "Faulty", "unserialisable", {"n": 0}), "state_invalid")


def test_chatty_handler_still_answers(worker: Worker, capsys: pytest.CaptureFixture[str]) -> None:
    """print() in a handler does not disturb the reply."""
    assert ok(event(worker, "Faulty", "chatty", {"n": 1}))["state"] == {"n": 2}
    assert "noise on stdout" in capsys.readouterr().out


def test_huge_state_is_the_fronts_business(worker: Worker) -> None:
    """The renderer returns a large state as is; the size limit is checked by the front."""
    assert len(ok(event(worker, "Faulty", "huge", {"n": 0}))["state"]["blob"]) == 200_000


def test_island_root(worker: Worker) -> None:
    """An island rendering two roots fails its first render, in init and in a page."""
    assert "TwoRoots" in failed(
        worker.handle({"id": 1, "op": "init", "island": "TwoRoots", "props": {}}), "island_root"
    )
    failed(worker.handle({"id": 2, "op": "page", "route": "/tworoots", "request": REQUEST}), "island_root", 2)


def test_worker_deadline(tmp_path: Path) -> None:
    """With a timeout, a runaway handler is cut off with ``timeout`` and the worker goes on."""
    app = load(make_app(
        tmp_path,
        {"Sleepy.py": 'import time\n'
                      'live = {"state": lambda: 0, "on": {"nap": lambda s: time.sleep(5) or s}}\n'
                      'def render(s):\n    return "<p></p>"\n'},
        {"index.py": GOOD_PAGE},
    ))
    timed = Worker(app, timeout=0.3)
    began = time.monotonic()
    failed(event(timed, "Sleepy", "nap", 0), "timeout")
    assert time.monotonic() - began < 2
    reply = timed.handle({"id": 2, "op": "render", "island": "Sleepy", "state": 0})
    assert ok(reply, 2) == {"html": "<p></p>"}


def test_state_failed(tmp_path: Path) -> None:
    """``live["state"]`` raising: ``state_failed``."""
    app = load(make_app(
        tmp_path,
        {"Broken.py": 'live = {"state": lambda: 1 / 0, "on": {}}\ndef render(s):\n    return "<p></p>"\n'},
        {"index.py": GOOD_PAGE},
    ))
    reply = Worker(app).handle({"id": 1, "op": "init", "island": "Broken", "props": {}})
    message = failed(reply, "state_failed")
    assert "ZeroDivisionError" in message


# -- pages ---------------------------------------------------------------------


def test_page_parts_alternate(worker: Worker) -> None:
    """parts is [text, island, text, ..., text] with island maps {island, state, html}."""
    parts = ok(worker.handle({"id": 1, "op": "page", "route": "/", "request": REQUEST}))["parts"]
    assert len(parts) % 2 == 1
    assert all(isinstance(part, str) for part in parts[0::2])
    islands = parts[1::2]
    assert all(isinstance(part, dict) and {"island", "state", "html"} <= set(part) for part in islands)
    assert [part["island"] for part in islands] == ["Counter", "Counter", "Echo", "Faulty", "Unicode"]
    assert islands[1]["state"] == {"count": 10}
    assert islands[1]["html"] == counter_html(10)
    assert parts[0].startswith("<!doctype html>")
    assert parts[-1].endswith("</body></html>")
    assert "nowaki-island" not in "".join(parts[0::2])


def test_plain_strings_around_an_island_stay_as_written(tmp_path: Path) -> None:
    """``"<h1>" + island(...) + "</h1>"`` keeps its tags (Markup's own ``+`` would escape them);
    ``html()`` still escapes values beside an island and keeps the island."""
    counter = (FIXTURE_APP / "islands" / "Counter.py").read_text()
    pages = {
        "index.py": "from nowaki import island\n"
                    "def page(request):\n"
                    "    return '<h1>a&b</h1>' + island('Counter') + '<p>' + ''.join(\n"
                    "        island('Counter', start=n) for n in (1, 2)) + '</p>'\n",
        "mixed.py": "from nowaki import html, island\n"
                    "def page(request):\n"
                    "    return html('<main>{}{}</main>', '<i>', island('Counter'))\n",
    }
    worker = Worker(load(make_app(tmp_path, {"Counter.py": counter}, pages)))
    parts = ok(worker.handle({"id": 1, "op": "page", "route": "/", "request": REQUEST}))["parts"]
    assert parts[0::2] == ["<h1>a&b</h1>", "<p>", "", "</p>"]
    assert [part["html"] for part in parts[1::2]] == [counter_html(0), counter_html(1), counter_html(2)]
    parts = ok(worker.handle({"id": 2, "op": "page", "route": "/mixed", "request": REQUEST}), 2)["parts"]
    assert parts[0::2] == ["<main>&lt;i&gt;", "</main>"]
    assert parts[1]["island"] == "Counter"


def test_page_request_reaches_the_page(worker: Worker) -> None:
    """A page without islands is one text part, rendered from the request."""
    request = {"path": "/plain", "query": {"q": "abc"}, "headers": {"x": "y"}}
    parts = ok(worker.handle({"id": 1, "op": "page", "route": "/plain", "request": request}))["parts"]
    assert parts == ["<!doctype html><html><body><p>no islands, q=abc</p></body></html>"]


def test_page_failed_and_unknown(worker: Worker) -> None:
    """A raising page is ``page_failed``; a route without a page is ``unknown_page``."""
    assert "RuntimeError" in failed(
        worker.handle({"id": 1, "op": "page", "route": "/broken", "request": REQUEST}), "page_failed"
    )
    failed(worker.handle({"id": 2, "op": "page", "route": "/nope", "request": REQUEST}), "unknown_page", 2)
    failed(worker.handle({"id": 3, "op": "page", "route": "/plain/", "request": REQUEST}), "unknown_page", 3)


def test_worker_survives_errors(worker: Worker) -> None:
    """After every kind of error the same worker still answers."""
    event(worker, "Faulty", "boom", {"n": 0})
    worker.handle({"id": 1, "op": "nope"})
    worker.handle({"id": 1, "op": "page", "route": "/broken", "request": REQUEST})
    assert ok(event(worker, "Counter", "inc", {"count": 41}, request_id=77), 77)["state"] == {"count": 42}
