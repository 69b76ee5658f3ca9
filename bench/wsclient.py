"""The bench's WebSocket client: ``tests.support.rawws.WebSocket``, under the name the bench uses.

It lives with the tests' clients so that one upgrade and one frame encoder serve
all of them; its per-message paths are unchanged there, and the same client
still drives the floors and nowaki, so its cost is the same on both sides of
every ratio.
"""

from tests.support.rawws import Closed, WebSocket

__all__ = ["Closed", "WebSocket"]
