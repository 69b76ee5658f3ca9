"""Click -> DOM update latency of the fixture Counter in real headless Chromium.

    .venv/bin/python tests/browser/measure_clicks.py [--clicks 200] [--renderers 2]

Starts its own front on a free loopback port, opens ``/`` and, inside the
page, times each click from dispatching it (``performance.now()``) to a
MutationObserver seeing the counter's new text. Clicks run one after
another. Prints the median, p90 and max in milliseconds.

Back-to-back clicks outrun the front's per-connection event limiter
(``NOWAKI_LIVE_RATE``, 50/s by default), so this front runs with the limiter
out of the way: it measures latency, not the limiter.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import expect, sync_playwright

from tests.support import CHROMIUM, CHROMIUM_ARGS, FIXTURE_APP, run_front

MEASURE = """
async (clicks) => {
  const root = document.querySelector('nowaki-live[data-island="Counter"]');
  const plus = () => root.querySelector('[data-live=inc]');
  const shown = () => root.querySelector('strong').textContent;
  const times = [];
  for (let i = 0; i < clicks; i++) {
    const before = shown();
    const took = await new Promise((resolve, reject) => {
      let start;
      const watch = new MutationObserver(() => {
        const error = root.getAttribute('data-live-error');
        if (error) { watch.disconnect(); clearTimeout(timer); reject(new Error(error)); }
        if (shown() === before) return;
        watch.disconnect();
        clearTimeout(timer);
        resolve(performance.now() - start);
      });
      const timer = setTimeout(() => { watch.disconnect(); reject(new Error('no update in 5 s')); }, 5000);
      watch.observe(root, {childList: true, subtree: true, characterData: true, attributes: true});
      start = performance.now();
      plus().click();
    });
    times.push(took);
  }
  return {times, last: shown()};
}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--renderers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    unlimited = {"NOWAKI_LIVE_RATE": "100000", "NOWAKI_LIVE_BURST": "100000"}
    with run_front(FIXTURE_APP, renderers=args.renderers, env=unlimited) as front:
        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            page = browser.new_page()
            page.goto(front.url + "/")
            expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
            page.evaluate(MEASURE, args.warmup)
            result = page.evaluate(MEASURE, args.clicks)
            browser.close()
        finally:
            playwright.stop()

    times = sorted(result["times"])
    expected = f"live: {args.warmup + args.clicks}"
    if result["last"] != expected:
        print(f"counter shows {result['last']!r}, expected {expected!r}", file=sys.stderr)
        return 1
    p90 = statistics.quantiles(times, n=10)[-1]
    print(
        f"click -> DOM over {len(times)} clicks ({args.renderers} renderers, after "
        f"{args.warmup} warm-up): median {statistics.median(times):.2f} ms, "
        f"p90 {p90:.2f} ms, min {times[0]:.2f} ms, max {times[-1]:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
