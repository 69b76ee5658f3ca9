"""A shared island: one state per props, seen by every viewer."""

from nowaki import html

live = {
    "scope": "shared",
    "state": lambda props: {"question": props.get("question", "?"), "yes": 0, "no": 0},
    "on": {
        "vote": lambda s, p: {**s, p.get("choice", ""): s[p["choice"]] + 1}
        if p.get("choice") in ("yes", "no") else s,
    },
}


def render(state):
    return html(
        '<div class="poll"><p>{}</p>'
        '<button data-live="vote" data-live-value-choice="yes">yes <b class="yes">{}</b></button>'
        '<button data-live="vote" data-live-value-choice="no">no <b class="no">{}</b></button></div>',
        state["question"], state["yes"], state["no"],
    )
