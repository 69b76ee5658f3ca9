def page(request):
    return f"<!doctype html><html><body><p>no islands, q={request.query.get('q', '')}</p></body></html>"
