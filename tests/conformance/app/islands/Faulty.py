"""Every way island code can fail: raise, hang, crash, print, bad state, huge state."""

import os
import time

live = {
    "state": lambda: {"n": 0},
    "on": {
        "ok": lambda s: {**s, "n": s["n"] + 1},
        "boom": lambda s: 1 / 0,
        "hang": lambda s: time.sleep(3600),
        "crash": lambda s: os._exit(9),
        "chatty": lambda s: print("noise on stdout " * 100) or {**s, "n": s["n"] + 1},
        "unserialisable": lambda s: {**s, "bad": object()},
        "huge": lambda s: {**s, "blob": "x" * 200_000},
        "bad_render": lambda s: {**s, "n": "not a number"},
    },
}


def render(state):
    if not isinstance(state["n"], int):
        raise ValueError("n must be an int")
    return f'<div class="faulty"><span>n={state["n"]}</span><button data-live="ok">ok</button><button data-live="boom">boom</button></div>'
