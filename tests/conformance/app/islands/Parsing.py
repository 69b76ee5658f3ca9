"""Markup a patch must parse the way the page did: an image with an inline handler, a namespaced attribute.

Every patch re-parses the island's markup. Parsed where a page could run it,
the image would load again and its handler fire at each patch; copied by
qualified name alone, ``xlink:href`` would lose its namespace.
"""

live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: {"n": s["n"] + 1}}}


def render(state):
    n = state["n"]
    link = f' xlink:href="#shape{n}"' if n else ""  # new on the first patch: added, not changed
    return (
        '<div><img src="data:image/png;base64,AAAA" alt="" '
        'onerror="window.nwImageErrors = (window.nwImageErrors || 0) + 1">'
        f'<svg width="1" height="1"><use{link}></use></svg>'
        f'<b class="n">{n}</b><button data-live="inc">inc</button></div>'
    )
