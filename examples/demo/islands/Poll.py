"""A poll every tab shares: one state on the server, every viewer sees each vote."""

from nowaki import html

CHOICES = ("tea", "coffee")

live = {
    "scope": "shared",
    "state": lambda props: {"question": props.get("question", "?"), "votes": {c: 0 for c in CHOICES}},
    "on": {
        "vote": lambda s, p: {**s, "votes": {**s["votes"], p["choice"]: s["votes"][p["choice"]] + 1}}
        if p.get("choice") in CHOICES
        else s,
    },
}


def render(state):
    buttons = html("").join(
        html('<button data-live="vote" data-live-value-choice="{}">{} <b>{}</b></button> ', c, c, n)
        for c, n in state["votes"].items()
    )
    return html('<div class="poll"><p>{}</p>{}</div>', state["question"], buttons)
