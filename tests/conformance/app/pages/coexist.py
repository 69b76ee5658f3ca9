"""A client island and a data-live-ignore subtree beside and inside live islands."""

from nowaki import island

SCRIPT = """<script>
customElements.define("client-tally", class extends HTMLElement {
  connectedCallback() {
    this.n = 0;
    this.innerHTML = '<button type="button">client: <b>0</b></button>';
    this.querySelector("button").onclick = () => { this.querySelector("b").textContent = ++this.n; };
  }
});
</script>"""


def page(request):
    return f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
<client-tally id="tally"></client-tally>
{island("Ignoring")}
{SCRIPT}
</body></html>"""
