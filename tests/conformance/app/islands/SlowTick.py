"""A timer much faster than its handler: ticks every 0.05 s, each takes 0.3 s (skip, don't queue)."""

import time

live = {
    "state": lambda: {"ticks": 0, "pokes": 0},
    "on": {
        "tick": lambda s: time.sleep(0.3) or {**s, "ticks": s["ticks"] + 1},
        "poke": lambda s: {**s, "pokes": s["pokes"] + 1},
    },
    "every": {"tick": 0.05},
}


def render(state):
    return (
        f'<p class="slowtick">ticks: <b>{state["ticks"]}</b> pokes: <i>{state["pokes"]}</i>'
        '<button data-live="poke">poke</button></p>'
    )
