"""nowaki: server-reactive live islands.

App authors import from here::

    from nowaki import html, island

``html`` builds HTML from untrusted values, escaping them; ``island`` embeds a
live island in a page. The front, renderer and protocol live in the
subpackages ``nowaki.front``, ``nowaki.renderer`` and ``nowaki.protocol``.
"""

from nowaki.renderer.authoring import Markup, Request, escape, html, island

__all__ = ["Markup", "Request", "escape", "html", "island"]
__version__ = "0.1.0"
