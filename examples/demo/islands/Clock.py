"""A clock that advances on the server every second: no client event needed."""

import time

live = {
    "state": lambda: {"now": time.time()},
    "on": {"tick": lambda s: {"now": time.time()}},
    "every": {"tick": 1.0},
    "predict": False,  # its handler reads the clock: never run it ahead of time
}


def render(state):
    clock = time.strftime("%H:%M:%S", time.gmtime(state["now"]))
    return f'<p class="clock">Server time: <time>{clock}</time> UTC</p>'
