"""``nowaki build APP OUT``: the SSR view as static files plus the runtime asset (run as a user would)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import FIXTURE_APP, ROOT

RENDERING_PAGES = ("index", "plain", "presence", "coexist", "hidden", "table", "slow")
"""Fixture pages that render (``broken`` raises and ``tworoots`` breaks the one-root rule, on purpose)."""


def build(app: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "NOWAKI_SECRET": "build-secret"}
    return subprocess.run([sys.executable, "-m", "nowaki.cli", "build", str(app), str(out)],
                          capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)


def page_file(out: Path, name: str) -> Path:
    return out / "index.html" if name == "index" else out / name / "index.html"


def test_build_of_an_app_whose_pages_render(tmp_path: Path) -> None:
    """Every page becomes OUT/<route>/index.html with signed live islands; the runtime is OUT/__nowaki/."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURE_APP / "islands", app / "islands", ignore=shutil.ignore_patterns("__pycache__"))
    (app / "pages").mkdir()
    for name in ("index", "plain", "presence"):
        shutil.copy(FIXTURE_APP / "pages" / f"{name}.py", app / "pages" / f"{name}.py")
    out = tmp_path / "out"
    done = build(app, out)
    assert done.returncode == 0, done.stderr
    index = page_file(out, "index").read_text()
    assert index.count("<nowaki-live ") == 5 and 'data-token="' in index
    assert "/__nowaki/runtime.js" in index
    assert "<script" not in page_file(out, "plain").read_text(), "a page without islands ships no JS"
    assert "data-nowaki-presence" in page_file(out, "presence").read_text()
    runtime = out / "__nowaki" / "runtime.js"
    assert runtime.read_bytes() == (ROOT / "front" / "static" / "runtime.js").read_bytes()


def test_build_of_the_fixture_app(tmp_path: Path) -> None:
    """The fixture app has two pages that fail on purpose: the build must still be usable and say why.

    Expected: the pages that render are written, the runtime asset too, and each failing page is
    reported as one line on stderr (like every other CLI error), not as a Python traceback.
    """
    out = tmp_path / "out"
    done = build(FIXTURE_APP, out)
    problems = []
    if not page_file(out, "index").is_file():
        problems.append("OUT/index.html was not written")
    if not (out / "__nowaki" / "runtime.js").is_file():
        problems.append("the runtime asset OUT/__nowaki/runtime.js was not written")
    missing = [name for name in RENDERING_PAGES if not page_file(out, name).is_file()]
    if missing:
        problems.append(f"pages that render were not written: {missing}")
    if "nowaki/cli.py" in done.stderr:  # the renderer's own log of the page's exception is fine
        problems.append("the build command died with a Python traceback")
    if "/broken" not in done.stderr:
        problems.append("the failing page /broken is not named on stderr")
    tail = done.stderr[-1500:]
    assert problems == [], f"{problems}\nexit status {done.returncode}; stderr ends with:\n{tail}"
