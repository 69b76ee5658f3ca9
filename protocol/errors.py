"""Error codes shared by both wires (see SPEC.md, "Error codes")."""

from __future__ import annotations


class ProtocolError(Exception):
    """A peer broke the wire contract: bad framing, bad CBOR or JSON, missing fields.

    ``code`` is the wire error code the receiver reports (``bad_request`` on
    wire R, ``bad_message`` on wire B); ``island_id`` the island a wire B error
    is about, when the message named one.
    """

    def __init__(self, message: str, code: str = "bad_message", island_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.island_id = island_id


# Wire R: reported by a renderer.
BAD_REQUEST = "bad_request"
VERSION_MISMATCH = "version"
FORBIDDEN = "forbidden"
UNKNOWN_ISLAND = "unknown_island"
UNKNOWN_HANDLER = "unknown_handler"
UNKNOWN_PAGE = "unknown_page"
HANDLER_FAILED = "handler_failed"
RENDER_FAILED = "render_failed"
STATE_FAILED = "state_failed"
PAGE_FAILED = "page_failed"
STATE_INVALID = "state_invalid"
ISLAND_ROOT = "island_root"
APP_FAILED = "app_failed"

# Added by the front when a renderer fails it.
TIMEOUT = "timeout"
RENDERER_CRASHED = "renderer_crashed"
UNAVAILABLE = "unavailable"

# Wire B: reported by the front to a browser.
BAD_MESSAGE = "bad_message"
BAD_TOKEN = "bad_token"
NOT_JOINED = "not_joined"
BAD_PAYLOAD = "bad_payload"
TOO_MANY_ISLANDS = "too_many_islands"
STATE_TOO_LARGE = "state_too_large"
RATE_LIMITED = "rate_limited"
BAD_SNAPSHOT = "bad_snapshot"
