"""The one-root rule, parsed the way a browser parses the island's HTML."""

from __future__ import annotations

import pytest

from nowaki.renderer.roots import check_single_root


@pytest.mark.parametrize(
    "markup",
    [
        "<div></div>",
        "<div><p>a</p><p>b</p></div>",
        "  \n<section>x</section>\n ",
        "<!-- note --><div>x</div><!-- end -->",
        '<div class="counter"><button data-live="dec">-</button><strong>live: 0</strong></div>',
        "<p>héllo 🌊 wörld <b>0</b> ✓</p>",
        "<table><tbody><tr><td>1</td></tr></tbody></table>",
        "<input name=x>",
    ],
)
def test_one_root(markup: str) -> None:
    """Exactly one element, with whitespace and comments around it, passes."""
    assert check_single_root(markup) is None


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        ("<p>one</p><p>two</p>", "2 top-level elements"),
        ("", "0 top-level elements"),
        ("   ", "0 top-level elements"),
        ("<!-- only a comment -->", "0 top-level elements"),
        ("just text", "text"),
        ("text<div></div>", "text"),
        ("<div></div>tail", "text"),
        ("<p>a<p>b", "2 top-level elements"),
        ("<br><br>", "2 top-level elements"),
        ("<tr><td>1</td></tr>", "text"),
    ],
    ids=["two", "empty", "blank", "comment", "text", "text-before", "text-after", "implied-close", "voids",
         "tr-outside-table"],
)
def test_not_one_root(markup: str, why: str) -> None:
    """Zero or several elements, or stray text, fail with a reason."""
    problem = check_single_root(markup)
    assert problem is not None
    assert why in problem
