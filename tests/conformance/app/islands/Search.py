"""A live search box: the list filters as you type (data-live-input)."""

from nowaki import html

FRUITS = ["apple", "apricot", "banana", "blueberry", "cherry", "grape", "kiwi", "lemon", "mango"]

live = {
    "state": lambda: {"query": ""},
    "on": {"search": lambda s, p: {"query": p.get("value", "")[:50]}},
}


def render(state):
    query = state["query"].lower()
    rows = html("").join(html("<li>{}</li>", f) for f in FRUITS if query in f)
    return html(
        '<div class="search"><input id="q" name="q" data-live-input="search" data-live-debounce="100" '
        'value="{}" autocomplete="off"><ul>{}</ul></div>',
        state["query"], rows,
    )
