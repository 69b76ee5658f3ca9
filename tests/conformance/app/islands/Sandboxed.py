"""Handlers that probe the renderer's sandbox: network, environment, memory, CPU."""

import os
import socket


def _connect(s, p):
    socket.create_connection(("127.0.0.1", int(p.get("port", "80"))), timeout=1).close()
    return {**s, "net": "connected"}


def _spin(s):
    while True:
        pass


live = {
    "state": lambda: {"n": 0, "env": [], "net": ""},
    "on": {
        "ok": lambda s: {**s, "n": s["n"] + 1},
        "net": _connect,
        "env": lambda s: {**s, "env": sorted(k for k in os.environ)},
        "alloc": lambda s: {**s, "blob": len(b"x" * 4_000_000_000)},
        "spin": _spin,
    },
    "predict": False,  # its handlers look at the outside world: never run them ahead
}


def render(state):
    env = " ".join(state["env"])
    return f'<div class="sandboxed"><span>n={state["n"]}</span><pre>{env}</pre><i>{state["net"]}</i></div>'
