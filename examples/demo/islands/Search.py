"""Live search: the list filters on the server as you type (debounced)."""

from nowaki import html

ISLANDS = ["Hokkaido", "Honshu", "Kyushu", "Shikoku", "Okinawa", "Sado", "Awaji", "Tsushima",
           "Yakushima", "Amami Oshima", "Ishigaki", "Miyako", "Iriomote", "Rishiri", "Rebun"]

live = {
    "state": lambda: {"query": ""},
    "on": {"search": lambda s, p: {"query": str(p.get("value", ""))[:40]}},
}


def render(state):
    query = state["query"].strip().lower()
    found = [name for name in ISLANDS if query in name.lower()]
    rows = html("").join(html("<li>{}</li>", name) for name in found) or html("<li><i>none</i></li>")
    return html(
        '<div class="search"><input name="q" data-live-input="search" placeholder="Search islands" '
        'value="{}" autocomplete="off"><ul>{}</ul></div>',
        state["query"],
        rows,
    )
