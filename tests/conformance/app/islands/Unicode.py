"""Non-ASCII and astral characters before the changing part: UTF-16 offsets matter."""

live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: {"n": s["n"] + 1}}}


def render(state):
    return f"<p>héllo 🌊 wörld <b>{state['n']}</b> ✓</p>"
