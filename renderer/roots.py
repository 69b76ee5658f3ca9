"""The one-root rule, checked the way a browser would parse the island's HTML."""

from __future__ import annotations


def check_single_root(markup: str) -> str | None:
    """None if ``markup`` parses to exactly one element (whitespace aside), else why not."""
    import html5lib  # imported on first use: it is slow to import and only needed here

    fragment = html5lib.parseFragment(markup, treebuilder="etree", namespaceHTMLElements=False)
    elements = [node for node in fragment if isinstance(node.tag, str)]  # skip comments
    stray_text = (fragment.text or "").strip() or any((node.tail or "").strip() for node in fragment)
    if stray_text:
        return "it has text outside its root element"
    if len(elements) != 1:
        return f"it has {len(elements)} top-level elements"
    return None
