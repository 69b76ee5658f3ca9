from nowaki import island


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
{island("Sandboxed")}
{island("Counter")}
</body></html>"""
