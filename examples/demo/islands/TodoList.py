"""A todo list: a form whose payload is validated like any server input."""

from nowaki import html

MAX_LENGTH = 80
MAX_ITEMS = 50


def add(state, payload):
    text = payload.get("text", "").strip()
    if not text:
        return {**state, "error": "Write something first."}
    if len(text) > MAX_LENGTH:
        return {**state, "error": f"Keep it under {MAX_LENGTH} characters."}
    if len(state["items"]) >= MAX_ITEMS:
        return {**state, "error": f"The list is full ({MAX_ITEMS} items)."}
    return {"items": [*state["items"], text], "error": ""}


def remove(state, payload):
    index = payload.get("index", "")
    if not index.isdigit() or int(index) >= len(state["items"]):
        return {**state, "error": "That item is gone already."}
    items = list(state["items"])
    del items[int(index)]
    return {"items": items, "error": ""}


live = {
    "state": lambda props: {"items": list(props.get("items", [])), "error": ""},
    "on": {"add": add, "remove": remove},
}


def render(state):
    items = html("").join(
        html(
            '<li>{} <button data-live="remove" data-live-value-index="{}" '
            'aria-label="remove">×</button></li>',
            text,
            i,
        )
        for i, text in enumerate(state["items"])
    )
    error = html('<p class="error" role="alert">{}</p>', state["error"]) if state["error"] else ""
    return html(
        """<section class="todo">
  <form data-live="add">
    <input name="text" placeholder="Add a task" autocomplete="off" maxlength="200">
    <button>Add</button>
  </form>
  {}
  <ul>{}</ul>
  <p class="count">{} items</p>
</section>""",
        error,
        items,
        len(state["items"]),
    )
