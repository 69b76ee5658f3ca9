"""A table of ``rows`` rows where ``bump`` changes one cell: the patch must stay small."""

live = {
    "state": lambda props: {"rows": int(props.get("rows", 1000)), "hot": 0, "value": 0},
    "on": {"bump": lambda s: {**s, "value": s["value"] + 1}},
}


def render(state):
    cells = "".join(
        f"<tr><td>{i}</td><td>{state['value'] if i == state['hot'] else i * 7}</td></tr>"
        for i in range(state["rows"])
    )
    return f"<table><tbody>{cells}</tbody></table>"
