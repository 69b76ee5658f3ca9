from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('Slow')}{island('Slow')}</body></html>"
