"""Fed from outside: each published `orders` message is appended."""

from nowaki import html

live = {
    "state": lambda: {"items": []},
    "on": {"order_added": lambda s, p: {"items": [*s["items"], str(p.get("item", "?"))][-20:]}},
    "subscribe": {"orders": "order_added"},
}


def render(state):
    items = html("").join(html("<li>{}</li>", item) for item in state["items"])
    return html('<ul class="feed">{}</ul>', items)
