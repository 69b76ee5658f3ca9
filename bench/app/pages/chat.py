from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('Chat', n=200)}</body></html>"
