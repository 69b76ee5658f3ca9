"""Click -> DOM in real headless Chromium: nowaki's counter beside a bare page on the bare echo server.

Both pages are timed in-page with the same script: ``performance.now()`` from
dispatching a click to a MutationObserver seeing the new text. The bare page
(``bench/app/pages/bare.py``, no runtime) opens the echo server; it sends the
runtime's event message and sets ``textContent`` from each echo.
Blocks of clicks alternate between the two pages. Both pages' WebSocket is
wrapped to also time ``send`` -> ``message`` in-page (network + server), so the
report can split a click into the wire part and the page's own part.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.config import Sizes
from bench.procs import Floor, Front
from bench.stats import summary_ms

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
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
        resolve(performance.now() - start);
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
      if (sent) window.__split.push(performance.now() - sent);
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


def _clicks(page: Page, target: tuple[str, str, str], count: int) -> list[float]:
    times: list[float] = page.evaluate(MEASURE, [*target, count])
    return [t / 1e3 for t in times]  # ms -> s, for summary_ms


def measure(front: Front, echo: Floor, sizes: Sizes) -> dict[str, Any]:
    """Median click -> DOM for nowaki and for the bare page, ``sizes.clicks`` each after warm-up."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ours = browser.new_page()
            ours.add_init_script(SPLIT)
            ours.set_default_timeout(30_000)
            ours.goto(front.url + "/")
            ours.wait_for_selector('html[data-nowaki-live="connected"]', state="attached")
            bare = browser.new_page()
            bare.add_init_script(SPLIT)
            bare.set_default_timeout(30_000)
            bare.goto(f"{front.url}/bare?port={echo.port}")
            bare.wait_for_function("window.bareReady === true")
            _clicks(ours, OURS, sizes.click_warmup)
            _clicks(bare, BARE, sizes.click_warmup)
            for page in (ours, bare):
                page.evaluate("window.__split = []")
            times: dict[str, list[float]] = {"ours": [], "bare": []}
            per_block = max(1, sizes.clicks // sizes.click_blocks)
            for block in range(sizes.click_blocks):
                order = [("ours", ours, OURS), ("bare", bare, BARE)]
                for name, page, target in order if block % 2 == 0 else order[::-1]:
                    times[name] += _clicks(page, target, per_block)
            shown = ours.locator(OURS[0] + " strong").text_content()
            split = {name: [t / 1e3 for t in page.evaluate("window.__split") if t < 5000]
                     for name, page in (("ours", ours), ("bare", bare))}
        finally:
            browser.close()
    expected = f"live: {sizes.click_warmup + per_block * sizes.click_blocks}"
    return {"ours": summary_ms(times["ours"]), "bare": summary_ms(times["bare"]),
            "ours_send_to_message": summary_ms(split["ours"]),
            "bare_send_to_message": summary_ms(split["bare"]),
            "ours_final_text_ok": shown == expected}
