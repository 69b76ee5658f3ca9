"""A server-driven island: ticks every 0.2 s with no client event."""

live = {
    "state": lambda: {"ticks": 0},
    "on": {"tick": lambda s: {"ticks": s["ticks"] + 1}},
    "every": {"tick": 0.2},
}


def render(state):
    return f'<p class="clock">ticks: <b>{state["ticks"]}</b></p>'
