"""What app code imports from ``nowaki``: ``island``, ``html``, ``escape``, ``Request``.

``island()`` runs inside a page render: it makes the island's initial state,
renders it and leaves a marker that the worker turns into a slot the front
fills with the ``<nowaki-live>`` wrapper and signed token.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape


def html(template: str, /, *args: Any, **kwargs: Any) -> Markup:
    """Build HTML from a trusted template, escaping every substituted value.

    ``html("<li>{}</li>", user_text)`` is the documented way to render
    untrusted input: values are escaped unless they are themselves ``Markup``
    (the result of ``html``, ``island`` or ``Markup("…")``).
    """
    return Markup(template).format(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class Request:
    """The HTTP request a page is rendered for."""

    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class PageContext:
    """The page being rendered: how to embed an island, and the islands so far."""

    marker: str
    embed: Callable[[str, dict[str, Any]], tuple[Any, str]]
    islands: list[dict[str, Any]] = field(default_factory=list)


current_page: contextvars.ContextVar[PageContext] = contextvars.ContextVar("nowaki_page")


class IslandSlot(Markup):
    """Where an island goes in a page: Markup to ``html()``, a plain string to a plain string.

    Page code writes plain strings, which are trusted as written; Markup's own
    ``+`` would escape them instead (``"<h1>" + island("A")`` would show
    ``&lt;h1&gt;``). Joined with a plain string, a slot gives a plain string;
    with Markup, Markup; substituted by ``html()``, it is kept as it is.
    """

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        if isinstance(other, str) and not hasattr(other, "__html__"):
            return str(self) + other
        return super().__add__(other)

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, str) and not hasattr(other, "__html__"):
            return other + str(self)
        return super().__radd__(other)


def island(name: str, /, **props: Any) -> Markup:
    """Embed the live island ``name`` in the page being rendered, with ``props``."""
    try:
        page = current_page.get()
    except LookupError:
        raise RuntimeError("island() can only be called while a page renders") from None
    state, markup = page.embed(name, props)
    page.islands.append({"island": name, "props": props, "state": state, "html": markup})
    return IslandSlot(f"<!--{page.marker}:{len(page.islands) - 1}-->")


__all__ = ["Markup", "Request", "escape", "html", "island"]
