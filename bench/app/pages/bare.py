"""The browser floor: a bare page on the bare echo server (``?port=``), no nowaki runtime.

It sends the runtime's event message on click and sets ``textContent`` from
each echo; served here only because Chromium lets a loopback page open a
loopback socket (a page fulfilled by the test driver is not loopback).
"""

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bare</title></head><body>
<div id="bare"><div class="counter"><button>+</button><strong>live: 0</strong></div></div>
<script>
const shown = document.querySelector("#bare strong");
let n = 0;
const ws = new WebSocket("ws://127.0.0.1:PORT/");
ws.onopen = () => { window.bareReady = true; };
ws.onmessage = (e) => { JSON.parse(e.data); shown.textContent = "live: " + (++n); };
document.querySelector("#bare button").addEventListener("click",
  () => ws.send(JSON.stringify({type: "event", id: 0, handler: "inc", payload: {}})));
</script></body></html>"""


def page(request):
    port = int(request.query.get("port", "0"))
    return PAGE.replace("PORT", str(port))
