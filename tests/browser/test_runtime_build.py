"""The served runtime: under its size budget and built from its committed source."""

from __future__ import annotations

import gzip
import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.browser

RUNTIME = ROOT / "front" / "static" / "runtime.js"
CLIENT = ROOT / "client-runtime"
ESBUILD = CLIENT / "node_modules" / ".bin" / "esbuild"
BUDGET = 2_048  # bytes under gzip -9


def test_runtime_is_within_its_gzip_budget() -> None:
    body = RUNTIME.read_bytes()
    # `gzip -9c runtime.js` also stores the file name (and a NUL) in its header;
    # count it, as client-runtime/size.mjs does, so this never reads lower.
    size = len(gzip.compress(body, compresslevel=9)) + len(RUNTIME.name) + 1
    assert size <= BUDGET, f"front/static/runtime.js is {size} B under gzip -9 (budget {BUDGET} B)"


def _esbuild_args() -> list[str]:
    """The esbuild arguments of package.json's build script, minus --outfile."""
    script = json.loads((CLIENT / "package.json").read_text())["scripts"]["build"]
    words = shlex.split(script.split("&&")[0])
    assert words[0] == "esbuild", script
    args = [w for w in words[1:] if not w.startswith("--outfile")]
    assert "--outfile=../front/static/runtime.js" in words, (
        f"the build script no longer writes front/static/runtime.js: {script}"
    )
    return args


def test_runtime_matches_its_source(tmp_path: Path) -> None:
    assert ESBUILD.exists(), (
        f"{ESBUILD.relative_to(ROOT)} is missing: run `cd client-runtime && npm ci` "
        "(make test does) so the built runtime can be checked against its source"
    )
    out = tmp_path / "runtime.js"
    result = subprocess.run(
        [str(ESBUILD), *_esbuild_args(), f"--outfile={out}", "--log-level=warning"],
        cwd=CLIENT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    built, served = out.read_bytes(), RUNTIME.read_bytes()
    assert built == served, (
        "front/static/runtime.js differs from a fresh build of client-runtime/src/runtime.js "
        f"({len(served)} B served, {len(built)} B built): run `make runtime`"
    )
