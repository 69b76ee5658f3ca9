"""A handler that takes a while, so a browser can see the event in flight (aria-busy)."""

import time

live = {
    "state": lambda: {"n": 0},
    "on": {
        "slow": lambda s: time.sleep(0.8) or {"n": s["n"] + 1},
        "inc": lambda s: {"n": s["n"] + 1},
    },
}


def render(state):
    return (
        f'<div class="slow"><output>n={state["n"]}</output>'
        '<button data-live="slow">slow</button><button data-live="inc">inc</button></div>'
    )
