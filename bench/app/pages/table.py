from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('Table', rows=1000)}</body></html>"
