"""front.pages.assemble: wrappers, signed tokens, and the runtime script only when needed."""

from __future__ import annotations

import re
from typing import Any

from nowaki.front.pages import assemble, wrap_island
from nowaki.protocol.token import verify

SECRET = b"pages-secret"
SCRIPT = '<script type="module" src="/__nowaki/runtime.js?v=abc"></script>'


def _island(name: str = "Counter", count: int = 0) -> dict[str, Any]:
    return {"island": name, "state": {"count": count}, "html": f"<div>{count}</div>"}


def test_no_islands_no_script() -> None:
    """A page without live islands ships no JavaScript and passes through unchanged."""
    page = "<!doctype html><html><body><p>plain</p></body></html>"
    assert assemble([page], SECRET, SCRIPT) == page


def test_script_before_last_body_end() -> None:
    """The script goes right before the last ``</body>`` (earlier ones may sit in text)."""
    parts = ["<html><body><pre>&lt;/body&gt; </body></pre>", _island(), "</body></html>"]
    page = assemble(parts, SECRET, SCRIPT)
    assert page.count(SCRIPT) == 1
    assert page.endswith(SCRIPT + "</body></html>")


def test_script_case_insensitive_body_and_fallback() -> None:
    """``</BODY >`` counts; with no ``</body>`` at all the script is appended."""
    page = assemble(["<body>", _island(), "</BODY >"], SECRET, SCRIPT)
    assert page.endswith(SCRIPT + "</BODY >")
    page = assemble(["", _island(), ""], SECRET, SCRIPT)
    assert page.endswith(SCRIPT)


def test_wrappers_and_tokens() -> None:
    """Each island becomes a ``<nowaki-live data-island data-token>`` wrapper with a verifiable token."""
    page = assemble(["<body>", _island(count=1), "<hr>", _island(count=10), "</body>"], SECRET, SCRIPT)
    found = re.findall(r'<nowaki-live data-island="([^"]*)" data-token="([^"]*)">(.*?)</nowaki-live>', page)
    expected = [("Counter", "<div>1</div>"), ("Counter", "<div>10</div>")]
    assert [(name, html) for name, _, html in found] == expected
    states = [verify(SECRET, token, 60).state for _, token, _ in found]
    assert states == [{"count": 1}, {"count": 10}]
    assert page.startswith("<body><nowaki-live") and "</nowaki-live><hr><nowaki-live" in page


def test_island_name_is_escaped() -> None:
    """The island name comes from a renderer: it is attribute-escaped in the wrapper."""
    wrapper = wrap_island(SECRET, {"island": 'a"><script>x</script>', "state": None, "html": "<p></p>"})
    assert '<script>' not in wrapper
    assert 'data-island="a&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in wrapper
