"""The bench counter: one number changes per event (the round-trip and throughput island)."""

live = {
    "state": lambda: {"count": 0},
    "on": {
        "inc": lambda s: {**s, "count": s["count"] + 1},
        "dec": lambda s: {**s, "count": s["count"] - 1},
    },
}


def render(state):
    return (
        '<div class="counter" role="group" aria-label="bench counter">'
        '<button data-live="dec">-</button>'
        f'<strong>live: {state["count"]}</strong>'
        '<button data-live="inc">+</button></div>'
    )
