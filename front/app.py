"""The front's ASGI application: routes pages, the runtime asset and the live socket."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import parse_qsl

from nowaki.front.assets import RUNTIME_PATH, Asset, load_runtime, script_tag
from nowaki.front.dev import error_page
from nowaki.front.http import Receive, Scope, Send, header, read_body, respond, respond_text
from nowaki.front.hub import Hub
from nowaki.front.metrics import CONTENT_TYPE
from nowaki.front.pages import assemble
from nowaki.front.websocket import serve_live
from nowaki.protocol.renderer_wire import RendererError

log = logging.getLogger("nowaki.front")

LIVE_PATH = "/__nowaki/live"
HEALTH_PATH = "/__nowaki/health"
METRICS_PATH = "/__nowaki/metrics"
PUBLISH_PREFIX = "/__nowaki/publish/"
PUBLISH_MAX = 64 * 1024
LONG_CACHE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: a list of tags, weak comparison, or ``*``."""
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class FrontApp:
    """ASGI callable; holds no per-request state."""

    def __init__(self, hub: Hub, runtime: Asset | None = None) -> None:
        self.hub = hub
        self.runtime = runtime or load_runtime()
        self._script = script_tag(self.runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            if scope["path"] == LIVE_PATH:
                await serve_live(self.hub, scope, receive, send)
            else:
                await receive()
                await send({"type": "websocket.close", "code": 1000})
        elif kind == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        head = method == "HEAD"
        if scope["path"].startswith(PUBLISH_PREFIX):
            await self._publish(scope, receive, send)
            return
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", "text/plain",
                          [(b"allow", b"GET, HEAD")])
            return
        path = scope["path"]
        if path == RUNTIME_PATH:
            await self._runtime(scope, send, head)
        elif path == HEALTH_PATH:
            await self._health(send, head)
        elif path == METRICS_PATH:
            self.hub.metrics.renderers_up.set(self.hub.pool.up)
            await respond(send, 200, self.hub.metrics.exposition(), CONTENT_TYPE, head_only=head)
        else:
            await self._page(scope, send, path, head)

    async def _publish(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /__nowaki/publish/<topic>``: apply subscribed handlers to a JSON body."""
        token = self.hub.settings.publish_token
        if token is None:
            await respond_text(send, 404, "publishing is off (NOWAKI_PUBLISH_TOKEN is unset)\n")
            return
        if scope["method"] != "POST":
            await respond(send, 405, b"method not allowed\n", "text/plain", [(b"allow", b"POST")])
            return
        given = header(scope, b"authorization") or ""
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            log.warning("event=publish_refused topic=%s", scope["path"][len(PUBLISH_PREFIX):])
            await respond(send, 401, b"wrong or missing bearer token\n", "text/plain",
                          [(b"www-authenticate", b'Bearer realm="nowaki"')])
            return
        topic = scope["path"][len(PUBLISH_PREFIX):]
        body = await read_body(receive, PUBLISH_MAX)
        try:
            payload = json.loads(body) if body is not None else None
        except ValueError:
            payload = None
        if not topic or not isinstance(payload, dict):
            await respond_text(send, 400, f"need a topic and a JSON object of at most {PUBLISH_MAX} bytes\n")
            return
        delivered = self.hub.publish(topic, payload)
        await respond(send, 202, json.dumps({"topic": topic, "instances": delivered}).encode(),
                      "application/json")

    async def _health(self, send: Send, head: bool) -> None:
        """200 while at least one renderer is up, else 503; JSON either way."""
        up = self.hub.pool.up
        body = {
            "status": "ok" if up else "unavailable",
            "live": len(self.hub.joined),
            "renderers_up": up,
            "renderers": len(self.hub.pool.sources),
        }
        await respond(send, 200 if up else 503, json.dumps(body).encode(), "application/json",
                      [(b"cache-control", b"no-store")], head_only=head)

    async def _runtime(self, scope: Scope, send: Send, head: bool) -> None:
        asset = self.runtime
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cache = LONG_CACHE if query.get("v") == asset.version else REVALIDATE
        headers = [(b"etag", asset.etag.encode()), (b"cache-control", cache),
                   (b"vary", b"accept-encoding")]
        if etag_matches(header(scope, b"if-none-match"), asset.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = asset.body
        if "gzip" in (header(scope, b"accept-encoding") or ""):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        await respond(send, 200, body, asset.content_type, headers, head_only=head)

    async def _page(self, scope: Scope, send: Send, path: str, head: bool) -> None:
        route = path.rstrip("/") or "/"
        if self.hub.pool.app_error is not None and not self.hub.pool.up:
            route_known = True  # the catalog is stale while the app does not load
        else:
            route_known = route in self.hub.pool.catalog.pages
        if not route_known:
            await respond_text(send, 404, f"404 not found: {path}\n", head)
            return
        request = {
            "path": path,
            "query": dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        }
        try:
            reply = await self.hub.pool.call("page", route=route, request=request)
        except RendererError as exc:
            log.error("event=page_error route=%s code=%s error=%r", route, exc.code, exc.message)
            if self.hub.settings.dev:
                await respond(send, 500, error_page(exc.message).encode(), head_only=head)
            else:
                await respond_text(send, 500, f"500 internal server error ({exc.code})\n", head)
            return
        html = assemble(reply.get("parts", []), self.hub.settings.secret, self._script)
        await respond(send, 200, html.encode(), head_only=head)
