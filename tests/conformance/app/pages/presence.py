"""Presence: a [data-nowaki-presence] mirror, one live island, and a log of nowaki:presence events."""

from nowaki import island

SCRIPT = """<script>
window.presenceEvents = [];
document.addEventListener("nowaki:presence", (e) => window.presenceEvents.push(e.detail.count));
</script>"""


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>presence</title></head>
<body>
<p>online: <span id="online" data-nowaki-presence>?</span></p>
{island("Counter")}
{SCRIPT}
</body></html>"""
