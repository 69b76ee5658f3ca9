"""What app authors import: ``html`` escapes, ``island`` only inside a page render."""

from __future__ import annotations

import pytest

from nowaki import Markup, html, island


def test_html_escapes_values_not_markup() -> None:
    """Values are escaped; Markup values and the template are trusted."""
    assert html("<li>{}</li>", "<b>&\"'") == "<li>&lt;b&gt;&amp;&#34;&#39;</li>"
    assert html("<li>{}</li>", Markup("<b>ok</b>")) == "<li><b>ok</b></li>"
    assert html("<p a='{x}'>", x="'") == "<p a='&#39;'>"


def test_island_outside_a_page() -> None:
    """Calling island() outside a page render is an error, not a silent marker."""
    with pytest.raises(RuntimeError):
        island("Counter")
