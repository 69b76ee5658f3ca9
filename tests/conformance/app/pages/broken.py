def page(request):
    raise RuntimeError("this page is broken on purpose")
