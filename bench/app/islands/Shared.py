"""A shared counter: one instance for every viewer; an event is applied and rendered once."""

live = {
    "scope": "shared",
    "state": lambda: {"count": 0},
    "on": {"inc": lambda s: {**s, "count": s["count"] + 1}},
}


def render(state):
    return f'<div class="shared"><strong>shared: {state["count"]}</strong></div>'
