"""``nowaki new NAME``: a small app that ``nowaki start NAME`` serves as it is."""

from __future__ import annotations

from pathlib import Path

COUNTER = '''\
"""A live counter: state on the server, no component JavaScript in the browser."""

live = {
    "state": lambda props: {"count": int(props.get("start", 0))},
    "on": {
        "inc": lambda s: {**s, "count": s["count"] + 1},
        "dec": lambda s: {**s, "count": s["count"] - 1},
        "reset": lambda: {"count": 0},
    },
}


def render(state):
    return f"""<div class="counter">
  <button data-live="dec">-</button>
  <strong>live: {state["count"]}</strong>
  <button data-live="inc">+</button>
  <button data-live="reset">reset</button>
</div>"""
'''

INDEX = '''\
"""The home page: embeds the live counter."""

from nowaki import island


def page(request):
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{name}}</title></head>
<body>
  <h1>{{name}}</h1>
  {island("Counter", start=0)}
  <p>Live visitors: <span data-nowaki-presence>-</span></p>
</body>
</html>"""
'''

README = """\
# {name}

A nowaki app. Serve it with `nowaki start {name}` and open http://127.0.0.1:8000.

- `islands/Counter.py` — a live island: `live` (state and handlers) and `render(state)`.
- `pages/index.py` — the page at `/`, embedding the island with `island("Counter")`.

Render user input with `from nowaki import html`, which escapes what it substitutes.
"""


def scaffold(target: Path) -> Path:
    """Create the app folder ``target``; refuse to touch an existing one."""
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose a new folder")
    name = target.name
    (target / "islands").mkdir(parents=True)
    (target / "pages").mkdir()
    (target / "islands" / "Counter.py").write_text(COUNTER)
    (target / "pages" / "index.py").write_text(INDEX.replace("{{name}}", name))
    (target / "README.md").write_text(README.format(name=name))
    return target
