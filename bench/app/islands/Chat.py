"""A chat log of ``n`` messages; ``say`` appends one. Rendered with ``nowaki.html`` (escaped)."""

from nowaki import html


def item(message):
    """One message's HTML (the bench compares a patch against this)."""
    return html('<li class="msg"><b>{}</b> {}</li>', message["who"], message["text"])


def _initial(props):
    count = int(props.get("n", 200))
    return {
        "messages": [
            {"who": f"user{i % 7}", "text": f"message {i}: the tide is high & the wind is up"}
            for i in range(count)
        ]
    }


live = {
    "state": _initial,
    "on": {
        "say": lambda s, p: {
            "messages": [*s["messages"], {"who": p.get("who", "bench"), "text": p.get("text", "")}]
        },
    },
}


def render(state):
    return html('<ul class="chat">{}</ul>', html("").join(item(m) for m in state["messages"]))
