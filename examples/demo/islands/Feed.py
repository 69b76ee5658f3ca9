"""Orders published from outside: `nowaki publish orders '{"item": "tea"}'`."""

from nowaki import html

live = {
    "state": lambda: {"orders": []},
    "on": {"order_added": lambda s, p: {"orders": [str(p.get("item", "?"))[:80], *s["orders"]][:10]}},
    "subscribe": {"orders": "order_added"},
}


def render(state):
    if not state["orders"]:
        return '<ul class="feed"><li><i>No orders yet.</i></li></ul>'
    return html('<ul class="feed">{}</ul>', html("").join(html("<li>{}</li>", o) for o in state["orders"]))
