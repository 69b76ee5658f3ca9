"""An island with an underscore-named handler: it must never be reachable from outside."""

live = {
    "state": lambda: {"n": 0, "touched": False},
    "on": {
        "inc": lambda s: {**s, "n": s["n"] + 1},
        "_touch": lambda s: {**s, "touched": True},
    },
}


def render(state):
    touched = "touched" if state["touched"] else "untouched"
    return f'<div class="hidden"><span>n={state["n"]}</span><i>{touched}</i></div>'
