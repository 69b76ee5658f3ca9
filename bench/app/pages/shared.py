from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('Shared')}</body></html>"
