"""Click -> DOM in real headless Chromium: nowaki's counter beside a bare page on the bare echo server.

Both pages are timed in-page with the same script: ``performance.now()`` from
dispatching a click to a MutationObserver seeing the new text. The bare page
(``bench/app/pages/bare.py``, no runtime) opens the echo server; it sends the
runtime's event message and sets ``textContent`` from each echo.
Blocks of clicks rotate between the pages (a third one, a counter on a front
with prediction off, is a diagnostic). Both pages' WebSocket is
wrapped to also time ``send`` -> ``message`` in-page (network + server) and
``message`` -> DOM (the page's own work), so the report can split a click.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, Route, sync_playwright

from bench.config import Sizes
from bench.procs import Floor, Front
from bench.stats import summary_ms
from tests.support.paths import CHROMIUM
from tests.support.paths import CHROMIUM_ARGS as TEST_CHROMIUM_ARGS

CHROMIUM_ARGS = [
    *TEST_CHROMIUM_ARGS,
    # A document the driver fulfilled (see _isolate) does not count as loopback, so Chromium's local
    # network access check would refuse its socket to 127.0.0.1; the check runs once per connection.
    "--disable-features=LocalNetworkAccessChecks",
]

MEASURE = """
async ([rootSel, buttonSel, textSel, clicks]) => {
  const root = document.querySelector(rootSel);
  const shown = () => root.querySelector(textSel).textContent;
  const times = [];
  for (let i = 0; i < clicks; i++) {
    const before = shown();
    times.push(await new Promise((resolve, reject) => {
      let start;
      const watch = new MutationObserver(() => {
        if (shown() === before) return;
        watch.disconnect();
        clearTimeout(timer);
        const end = performance.now();
        resolve([end - start, end - (window.__receivedAt || end)]);
      });
      const timer = setTimeout(() => { watch.disconnect(); reject(new Error("no update in 5 s")); }, 5000);
      watch.observe(root, {childList: true, subtree: true, characterData: true});
      start = performance.now();
      root.querySelector(buttonSel).click();
    }));
  }
  return times;
}
"""

SPLIT = """
(() => {
  const Native = window.WebSocket;
  window.__split = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    const send = ws.send.bind(ws);
    let sent = 0;
    ws.send = (data) => { sent = performance.now(); return send(data); };
    ws.addEventListener("message", () => {
      window.__receivedAt = performance.now();
      if (sent) window.__split.push(window.__receivedAt - sent);
      sent = 0;
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""
"""Wraps the page's WebSocket (both pages alike) to time ``send`` -> next ``message`` in-page: the
network and server part of a click; the rest of click -> DOM is the page's own work."""

OURS = ('nowaki-live[data-island="Counter"]', "[data-live=inc]", "strong")
BARE = ("#bare", "button", "strong")


def _clicks(
    page: Page, target: tuple[str, str, str], count: int, dom: list[float] | None = None
) -> list[float]:
    """Click -> DOM times in seconds (for summary_ms); message -> DOM times go to ``dom``."""
    pairs: list[list[float]] = page.evaluate(MEASURE, [*target, count])
    if dom is not None:
        dom += [part / 1e3 for _, part in pairs]
    return [total / 1e3 for total, _ in pairs]


ISOLATED = {"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp"}
"""Headers that make a page cross-origin isolated: Chromium then times ``performance.now()`` to 5 µs
instead of 100 µs, a step that would otherwise be a tenth of a click."""


def _isolate(route: Route) -> None:
    response = route.fetch()
    # The body comes decoded: its transfer headers would no longer describe it.
    kept = {k: v for k, v in response.headers.items() if k not in ("content-encoding", "content-length")}
    route.fulfill(response=response, headers={**kept, **ISOLATED})


def _open(browser: Browser, url: str, ready: str) -> Page:
    page = browser.new_page()
    page.add_init_script(SPLIT)
    page.route(url, _isolate)  # the document only: the runtime and the socket go straight to the server
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_function(ready)
    if not page.evaluate("crossOriginIsolated"):
        raise RuntimeError(f"{url} is not cross-origin isolated: its timings would be 100 µs coarse")
    return page


def measure(front: Front, echo: Floor, sizes: Sizes, unpredicted: Front | None = None) -> dict[str, Any]:
    """Median click -> DOM for nowaki and for the bare page, ``sizes.clicks`` each after warm-up.

    With ``unpredicted`` (a front with NOWAKI_PREDICT=off), its counter is
    clicked in the same rotation, as a diagnostic.
    """
    live = "document.documentElement.dataset.nowakiLive === 'connected'"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            bare_url = f"{front.url}/bare?port={echo.port}"
            pages = [("ours", _open(browser, front.url + "/", live), OURS),
                     ("bare", _open(browser, bare_url, "window.bareReady === true"), BARE)]
            if unpredicted is not None:
                pages.append(("unpredicted", _open(browser, unpredicted.url + "/", live), OURS))
            for _, page, target in pages:
                _clicks(page, target, sizes.click_warmup)
                page.evaluate("window.__split = []")
            times: dict[str, list[float]] = {name: [] for name, _, _ in pages}
            dom: dict[str, list[float]] = {name: [] for name, _, _ in pages}
            per_block = max(1, sizes.clicks // sizes.click_blocks)
            for block in range(sizes.click_blocks):
                for name, page, target in pages[block % len(pages):] + pages[:block % len(pages)]:
                    times[name] += _clicks(page, target, per_block, dom[name])
            shown = pages[0][1].locator(OURS[0] + " strong").text_content()
            split = {name: [t / 1e3 for t in page.evaluate("window.__split") if t < 5000]
                     for name, page, _ in pages}
        finally:
            browser.close()
    expected = f"live: {sizes.click_warmup + per_block * sizes.click_blocks}"
    result = {name: summary_ms(clicks) for name, clicks in times.items()}
    result.update({f"{name}_send_to_message": summary_ms(split[name]) for name in split})
    result.update({f"{name}_message_to_dom": summary_ms(dom[name]) for name in dom})
    return {**result, "ours_final_text_ok": shown == expected}
