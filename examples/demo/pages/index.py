"""The demo page: two independent live counters, a live todo list and a client island."""

from nowaki import island

CLIENT_ISLAND = """
<script>
  // A client-side island: its own JS and local state. The live runtime never touches it.
  customElements.define("click-tally", class extends HTMLElement {
    connectedCallback() {
      this.clicks = 0;
      this.innerHTML = '<button type="button">client clicks: <b>0</b></button>';
      this.querySelector("button").addEventListener("click", () => {
        this.querySelector("b").textContent = ++this.clicks;
      });
    }
  });
</script>
"""


def page(request):
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>nowaki demo</title>
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }}
    nowaki-live {{ display: block; margin: 1rem 0; padding: .5rem 1rem; border: 1px solid #ccc; }}
    nowaki-live[aria-busy="true"] {{ opacity: .7; }}
    nowaki-live[data-live-error] {{ border-color: #c00; }}
    html[data-nowaki-live="disconnected"] nowaki-live {{ border-style: dashed; }}
    .error {{ color: #c00; }}
    /* The runtime marks <html data-nowaki-live=…>; CSS alone can show it. */
    .state::after {{ content: "server-rendered (not live)"; }}
    html[data-nowaki-live="connecting"] .state::after {{ content: "connecting…"; }}
    html[data-nowaki-live="connected"] .state::after {{ content: "live"; color: #080; }}
    html[data-nowaki-live="disconnected"] .state::after {{ content: "offline, retrying"; color: #c00; }}
    html[data-nowaki-live="refused"] .state::after {{ content: "live updates paused (server full)"; }}
  </style>
</head>
<body>
  <h1>nowaki live islands</h1>
  <p><a href="/dashboard">Dashboard: clock, shared poll, feed, search →</a></p>
  <p>Connection: <span class="state"></span>. Live visitors:
     <span data-nowaki-presence>–</span>.</p>
  <h2>Two counters, two states</h2>
  {island("LiveCounter")}
  {island("LiveCounter")}
  <h2>A todo list with validated input</h2>
  {island("TodoList", items=["Read the seed", "Port LiveCounter"])}
  <h2>A client island beside them</h2>
  <click-tally></click-tally>
  {CLIENT_ISLAND}
</body>
</html>"""
