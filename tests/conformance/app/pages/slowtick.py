from nowaki import island


def page(request):
    return f"<!doctype html><html><body>{island('SlowTick')}{island('Counter')}</body></html>"
