live = {"state": lambda: {}, "on": {}}


def render(state):
    return "<p>one</p><p>two</p>"
