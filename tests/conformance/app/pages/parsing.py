from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('Parsing')}</body></html>"
