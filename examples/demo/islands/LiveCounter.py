# islands/LiveCounter.py — the seed's LiveCounter.tsx, line for line.
live = {
    "state": lambda: {"count": 0},
    "on": {
        "inc": lambda s: {**s, "count": s["count"] + 1},
        "dec": lambda s: {**s, "count": s["count"] - 1},
        "reset": lambda: {"count": 0},
    },
}


def render(state):
    return f"""<div>
  <button data-live="dec">-</button>
  <strong>live: {state["count"]}</strong>
  <button data-live="inc">+</button>
</div>"""
