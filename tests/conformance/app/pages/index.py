from nowaki import island


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>conformance</title></head>
<body>
{island("Counter")}
{island("Counter", start=10)}
{island("Echo")}
{island("Faulty")}
{island("Unicode")}
<div id="outside" data-live="inc">outside any island</div>
</body></html>"""
