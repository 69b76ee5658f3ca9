live = {
    "state": lambda props: {"count": int(props.get("start", 0))},
    "on": {
        "inc": lambda s: {**s, "count": s["count"] + 1},
        "dec": lambda s: {**s, "count": s["count"] - 1},
        "add": lambda s, p: {**s, "count": s["count"] + int(p.get("by", "1"))},
        "reset": lambda: {"count": 0},
        "noop": lambda s: s,
    },
}


def render(state):
    return f'<div class="counter"><button data-live="dec">-</button><strong>live: {state["count"]}</strong><button data-live="inc">+</button></div>'
