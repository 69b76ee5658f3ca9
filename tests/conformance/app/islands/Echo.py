"""Shows user text through the escaping helper, and collects form payloads."""

from nowaki import html

live = {
    "state": lambda: {"said": [], "form": {}},
    "on": {
        "say": lambda s, p: {**s, "said": [*s["said"], p.get("text", "")]},
        "form": lambda s, p: {**s, "form": dict(p)},
    },
}


def render(state):
    said = html("").join(html("<li>{}</li>", text) for text in state["said"])
    fields = html("").join(
        html('<dd data-field="{}">{}</dd>', k, v) for k, v in sorted(state["form"].items())
    )
    return html(
        '<div class="echo"><form data-live="form"><input name="text"><input name="n">'
        '<button name="via" value="button">send</button></form>'
        '<button data-live="say" data-live-value-text="hi &lt;b&gt;">say</button>'
        "<ul>{}</ul><dl>{}</dl></div>",
        said,
        fields,
    )
