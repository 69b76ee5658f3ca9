"""The command line: bad flags and values, ``--help``, the README's table, ``nowaki new``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nowaki.front.config import OPTIONS
from tests.services.procs import run_cli
from tests.support import FIXTURE_APP, ROOT
from tests.support.processes import clean_env

APP = str(FIXTURE_APP)
MISSING = "/nonexistent/nowaki-app"

# name: (argv after `nowaki`, extra env, what the one line must name)
BAD: dict[str, tuple[list[str], dict[str, str], str]] = {
    "port-abc": (["start", APP, "--port", "abc"], {}, "--port"),
    "port-70000": (["start", APP, "--port", "70000"], {}, "--port"),
    "env-live-max": (["start", APP], {"NOWAKI_LIVE_MAX": "-1"}, "NOWAKI_LIVE_MAX"),
    "live-max": (["start", APP, "--live-max", "-3"], {}, "--live-max"),
    "render-timeout": (["start", APP, "--render-timeout", "0"], {}, "--render-timeout"),
    "missing-app": (["start", MISSING, "--port", "0"], {}, MISSING),
    "no-pages": (["start", "{empty}", "--port", "0"], {}, "no pages"),
    "front-no-renderer": (["front", APP, "--port", "0"], {}, "--renderer"),
    "front-bogus-renderer": (["front", APP, "--port", "0", "--renderer", "bogus:addr"], {}, "bogus:addr"),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str, str]]]:
    """Every ``BAD`` command run at once (bounded): name -> (status, stdout, stderr).

    The environment has no NOWAKI_* variable at all, as on a first try.
    """
    empty = tmp_path_factory.mktemp("no-pages")
    (empty / "islands").mkdir()
    (empty / "pages").mkdir()
    (empty / "pages" / "README.txt").write_text("not a page\n")
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, (argv, env, _) in BAD.items():
            argv = [arg.replace("{empty}", str(empty)) for arg in argv]
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "nowaki.cli", *argv], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=clean_env(**env),
            )
        results = {}
        for name, process in processes.items():
            out, err = process.communicate(timeout=60)
            results[name] = (process.returncode, out, err)
        yield results
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", list(BAD))
def test_bad_flag_or_value_exits_2_with_one_line(
    bad_runs: dict[str, tuple[int, str, str]], name: str
) -> None:
    """Exit status 2, exactly one line on stderr naming the problem, no traceback, nothing served."""
    status, out, err = bad_runs[name]
    names = BAD[name][2]
    assert status == 2, (status, err)
    assert "Traceback" not in err, err
    assert "nowaki front on" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert names in lines[0], lines[0]


@pytest.mark.parametrize("command", ["start", "front"])
def test_help_lists_every_option(command: str) -> None:
    """``nowaki start --help`` (and front's) shows each option's flag and environment variable."""
    result = run_cli([command, "--help"], env=clean_env(COLUMNS="200"))
    assert result.returncode == 0, result.stderr
    missing = [
        f"{option.flag} / {option.env}" for option in OPTIONS
        if not re.search(rf"(^|\s){re.escape(option.flag)}\b", result.stdout)
        or option.env not in result.stdout
    ]
    assert not missing, f"not in `nowaki {command} --help`: {missing}\n{result.stdout}"


def test_readme_configuration_table_has_every_option() -> None:
    """Every option's env var and flag appear together in one row of README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    missing = [
        option.env for option in OPTIONS
        if not any(f"`{option.env}`" in env and f"`{option.flag}`" in flag for env, flag, *_ in cells)
    ]
    assert rows and not missing, f"options missing from README's configuration table: {missing}"


def test_new_scaffolds_an_app(tmp_path: Path) -> None:
    """``nowaki new NAME`` creates the island, the page and a README."""
    result = run_cli(["new", "shop"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    app = tmp_path / "shop"
    for part in ("islands/Counter.py", "pages/index.py", "README.md"):
        assert (app / part).is_file(), part
    assert "nowaki start shop" in result.stdout


def test_new_refuses_an_existing_folder(tmp_path: Path) -> None:
    """``nowaki new`` on an existing folder exits 2 with one line and touches nothing."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep me\n")
    result = run_cli(["new", "taken"], cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "taken" in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["mine.txt"]
    assert (taken / "mine.txt").read_text() == "keep me\n"
