"""A dashboard: a clock (timer), a shared poll, a published feed and a live search."""

from nowaki import island


def page(request):
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>nowaki dashboard</title>
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }}
    nowaki-live {{ display: block; margin: 1rem 0; padding: .5rem 1rem; border: 1px solid #ccc; }}
    html[data-nowaki-live="disconnected"] nowaki-live {{ border-style: dashed; }}
  </style>
</head>
<body>
  <h1>Dashboard</h1>
  <p><a href="/">← counters</a> · Live visitors: <span data-nowaki-presence>-</span></p>
  <h2>Clock</h2>
  {island("Clock")}
  <h2>Poll (shared by every tab)</h2>
  {island("Poll", question="Tea or coffee?")}
  <h2>Orders</h2>
  <p>Feed it (<code>make run</code> sets the token to <code>demo</code>):
    <code>NOWAKI_PUBLISH_TOKEN=demo nowaki publish orders '{{"item": "tea"}}'</code></p>
  {island("Feed")}
  <h2>Search</h2>
  {island("Search")}
</body>
</html>"""
