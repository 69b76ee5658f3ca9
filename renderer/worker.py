"""Answer wire R requests against a loaded app: pure ``request -> reply``.

Every user error becomes a typed error reply; nothing an app does can end
the worker except running out of its resource limits.
"""

from __future__ import annotations

import secrets
import sys
import traceback
from typing import Any

import cbor2

from nowaki.protocol import VERSION, errors
from nowaki.protocol.errors import ProtocolError
from nowaki.protocol.renderer_wire import check_request, error, ok
from nowaki.renderer.app import App, Island
from nowaki.renderer.authoring import PageContext, Request, current_page
from nowaki.renderer.calls import call
from nowaki.renderer.deadline import Deadline, deadline
from nowaki.renderer.roots import check_single_root


class Failure(Exception):
    """A user error, reported to the front as ``error(code, message)``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _log_user_error(what: str) -> None:
    print(f"nowaki renderer: {what}", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)


class Worker:
    """Serves one app. ``shared_key`` is required in ``hello`` when set (TCP services)."""

    def __init__(
        self,
        app: App | None,
        shared_key: str | None = None,
        timeout: float | None = None,
        failure: str | None = None,
    ) -> None:
        if app is None and failure is None:
            raise ValueError("a worker needs an app, or the reason it has none")
        self.failure = failure
        self._app = app
        self.shared_key = shared_key
        self.timeout = timeout
        self._greeted = shared_key is None  # with a key, nothing is served before hello
        self._root_checked: set[str] = set()

    @property
    def app(self) -> App:
        """The loaded app (ops other than hello never run without one)."""
        assert self._app is not None
        return self._app

    # -- dispatch ---------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """Answer one decoded request with one reply."""
        try:
            request_id, op = check_request(message)
        except ProtocolError as exc:
            raw_id = message.get("id")
            if not isinstance(raw_id, int) or isinstance(raw_id, bool) or raw_id < 0:
                raw_id = 0
            return error(raw_id, exc.code, str(exc))
        if not self._greeted and op != "hello":
            return error(request_id, errors.FORBIDDEN, "say hello with the shared key first")
        if self.failure is not None and op != "hello":
            return error(request_id, errors.APP_FAILED, self.failure)
        try:
            with deadline(self.timeout):
                body = getattr(self, f"_op_{op}")(message)
        except Failure as exc:
            return error(request_id, exc.code, str(exc))
        except Deadline:
            print(f"nowaki renderer: {op} passed its {self.timeout:g}s deadline", file=sys.stderr)
            return error(request_id, errors.TIMEOUT, f"{op} took longer than {self.timeout:g}s")
        return ok(request_id, body)

    # -- ops ----------------------------------------------------------------

    def _op_hello(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.shared_key is not None and not secrets.compare_digest(
            str(message.get("key", "")), self.shared_key
        ):
            raise Failure(errors.FORBIDDEN, "hello: missing or wrong shared key")
        if message["version"] != VERSION:
            raise Failure(
                errors.VERSION_MISMATCH,
                f"renderer speaks version {VERSION}, front sent {message['version']}",
            )
        self._greeted = True
        if self.failure is not None:
            raise Failure(errors.APP_FAILED, self.failure)
        return {
            "version": VERSION,
            "islands": {name: island.describe() for name, island in self.app.islands.items()},
            "pages": sorted(self.app.pages),
        }

    def _op_page(self, message: dict[str, Any]) -> dict[str, Any]:
        route = message["route"]
        page = self.app.pages.get(route)
        if page is None:
            raise Failure(errors.UNKNOWN_PAGE, f"no page at {route!r}")
        raw = message["request"]
        query, headers, path = raw.get("query") or {}, raw.get("headers") or {}, raw.get("path", route)
        if not (_text_map(query) and _text_map(headers) and isinstance(path, str)):
            raise Failure(
                errors.BAD_REQUEST, "page: request path must be text, query and headers maps of text"
            )
        request = Request(path=path, query=dict(query), headers=dict(headers))
        context = PageContext(marker=f"nowaki-island:{secrets.token_hex(8)}", embed=self._embed)
        token = current_page.set(context)
        try:
            markup = str(call(page, request))
        except Failure:
            raise
        except Exception as exc:
            _log_user_error(f"page {route!r} raised")
            raise Failure(errors.PAGE_FAILED, f"page {route!r}: {_describe(exc)}") from exc
        finally:
            current_page.reset(token)
        return {"parts": _split(markup, context)}

    def _op_init(self, message: dict[str, Any]) -> dict[str, Any]:
        state, markup = self._embed(message["island"], message["props"])
        return {"state": state, "html": markup}

    def _op_event(self, message: dict[str, Any]) -> dict[str, Any]:
        island = self._island(message["island"])
        name = message["handler"]
        handler = island.handlers.get(name)
        if handler is None:
            raise Failure(errors.UNKNOWN_HANDLER, f"island {island.name!r} has no handler {name!r}")
        try:
            state = call(handler, message["state"], message["payload"])
        except Exception as exc:
            _log_user_error(f"handler {island.name}.{name} raised")
            raise Failure(
                errors.HANDLER_FAILED, f"{island.name}.{name}: {_describe(exc)}"
            ) from exc
        _check_state(island, state)
        return {"state": state, "html": self._render(island, state)}

    def _op_render(self, message: dict[str, Any]) -> dict[str, Any]:
        island = self._island(message["island"])
        return {"html": self._render(island, message["state"])}

    # -- helpers ------------------------------------------------------------

    def _island(self, name: str) -> Island:
        island = self.app.islands.get(name)
        if island is None:
            raise Failure(errors.UNKNOWN_ISLAND, f"no island named {name!r}")
        return island

    def _render(self, island: Island, state: Any) -> str:
        try:
            return str(island.render(state))
        except Exception as exc:
            _log_user_error(f"render of {island.name} raised")
            raise Failure(errors.RENDER_FAILED, f"{island.name}: {_describe(exc)}") from exc

    def _embed(self, name: str, props: dict[str, Any]) -> tuple[Any, str]:
        """Initial state and first render of an island, with the one-root check."""
        island = self._island(name)
        try:
            state = call(island.make_state, props)
        except Exception as exc:
            _log_user_error(f"initial state of {name} raised")
            raise Failure(errors.STATE_FAILED, f"{name}: {_describe(exc)}") from exc
        _check_state(island, state)
        markup = self._render(island, state)
        if name not in self._root_checked:
            problem = check_single_root(markup)
            if problem:
                raise Failure(
                    errors.ISLAND_ROOT,
                    f"island {name!r} must render exactly one root element: {problem}",
                )
            self._root_checked.add(name)
        return state, markup


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _check_state(island: Island, state: Any) -> None:
    try:
        cbor2.dumps(state)
    except Exception as exc:
        raise Failure(
            errors.STATE_INVALID, f"{island.name}: state is not CBOR-serialisable: {exc}"
        ) from exc


def _split(markup: str, context: PageContext) -> list[Any]:
    """Cut the page at each island marker: ``[html, island, html, ..., html]``."""
    parts: list[Any] = []
    rest = markup
    for index, island in enumerate(context.islands):
        marker = f"<!--{context.marker}:{index}-->"
        before, found, rest = rest.partition(marker)
        if not found:  # escaped or dropped by the page: the island is not on it
            rest = before
            continue
        parts += [before, island]
    parts.append(rest)
    return parts
