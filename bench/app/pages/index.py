from nowaki import island


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head>
<body>{island("Counter")}</body></html>"""
