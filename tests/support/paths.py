"""Where things are: the checkout, the fixture apps, and the Chromium every browser test drives."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_APP = ROOT / "tests" / "conformance" / "app"
DEMO_APP = ROOT / "examples" / "demo"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
