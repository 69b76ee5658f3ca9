"""An island with a subtree the runtime must leave alone (data-live-ignore)."""

live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: {"n": s["n"] + 1}}}


def render(state):
    return (
        f'<div><b class="n">{state["n"]}</b><button data-live="inc">inc</button>'
        f'<div id="keep" data-live-ignore>server {state["n"]}</div>'
        f'<label>name <input id="name" name="name" value="v{state["n"]}"></label></div>'
    )
