from nowaki import island


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
{island("Clock")}
{island("Poll", question="Tea?")}
{island("Feed")}
{island("Search")}
{island("Counter")}
</body></html>"""
