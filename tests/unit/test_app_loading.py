"""Loading an app folder: routes from file paths, and every way a folder can be unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from nowaki.renderer.app import AppError, load, route_of

GOOD_ISLAND = 'live = {"state": lambda: {"n": 0}, "on": {"inc": lambda s: {"n": s["n"] + 1}}}\n' \
    "def render(state):\n    return f'<p>{state[\"n\"]}</p>'\n"
GOOD_PAGE = "def page(request):\n    return '<p>hi</p>'\n"


def make_app(root: Path, islands: dict[str, str], pages: dict[str, str]) -> Path:
    """Write an app folder with the given island and page sources (paths relative to their folder)."""
    for folder, files in (("islands", islands), ("pages", pages)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name, source in files.items():
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
    return root


@pytest.mark.parametrize(
    ("relative", "route"),
    [
        ("index.py", "/"),
        ("about.py", "/about"),
        ("a/index.py", "/a"),
        ("a/b.py", "/a/b"),
        ("a/b/index.py", "/a/b"),
        ("blog/post-1.py", "/blog/post-1"),
    ],
)
def test_route_of(relative: str, route: str) -> None:
    """``index`` maps to its folder; other files to their path without ``.py``."""
    pages = Path("/app/pages")
    assert route_of(pages / relative, pages) == route


def test_load_good_app(tmp_path: Path) -> None:
    """Islands by file stem, pages by route; ``_``-prefixed files and handlers are skipped."""
    source = GOOD_ISLAND.replace('"on": {', '"on": {"_secret": lambda s: s, ')
    app = load(make_app(
        tmp_path,
        {"Count.py": source, "_helper.py": "x = 1\n"},
        {"index.py": GOOD_PAGE, "about.py": GOOD_PAGE, "docs/index.py": GOOD_PAGE, "_private.py": GOOD_PAGE},
    ))
    assert set(app.islands) == {"Count"}
    assert set(app.islands["Count"].handlers) == {"inc"}
    assert set(app.pages) == {"/", "/about", "/docs"}


def test_missing_folder(tmp_path: Path) -> None:
    """A folder that does not exist is an AppError."""
    with pytest.raises(AppError):
        load(tmp_path / "nope")


def test_no_pages(tmp_path: Path) -> None:
    """An app needs at least one page (a missing pages/ counts as none)."""
    with pytest.raises(AppError, match="no pages"):
        load(make_app(tmp_path, {"Count.py": GOOD_ISLAND}, {}))
    other = tmp_path / "other"
    (other / "islands").mkdir(parents=True)
    with pytest.raises(AppError):
        load(other)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ('live = {"state": lambda: 1, "on": {}}\n', "render"),
        ('live = {"state": lambda: 1, "on": {}}\nrender = "not callable"\n', "render"),
        ("def render(state):\n    return '<p></p>'\n", "live"),
        ('live = {"on": {}}\ndef render(state):\n    return "<p></p>"\n', "state"),
        ('live = {"state": 1, "on": {}}\ndef render(state):\n    return "<p></p>"\n', "state"),
        ('live = [1]\ndef render(state):\n    return "<p></p>"\n', "live"),
        ('live = {"state": lambda: 1, "on": {"h": 5}}\ndef render(state):\n    return "<p></p>"\n', "on"),
        ('live = {"state": lambda: 1, "on": [1]}\ndef render(state):\n    return "<p></p>"\n', "on"),
        ('live = {"state": lambda: 1, "on": {}, "predict": "no"}\ndef render(state):\n    return ""\n',
         "predict"),
    ],
    ids=["no-render", "render-not-callable", "no-live", "no-state", "state-not-callable", "live-not-dict",
         "handler-not-callable", "on-not-dict", "predict-not-bool"],
)
def test_island_breaking_the_contract(tmp_path: Path, source: str, why: str) -> None:
    """An island module without a usable ``live`` or ``render`` is refused, naming the file."""
    with pytest.raises(AppError) as caught:
        load(make_app(tmp_path, {"Bad.py": source}, {"index.py": GOOD_PAGE}))
    assert "Bad.py" in str(caught.value)
    assert why in str(caught.value)


def test_page_without_page_function(tmp_path: Path) -> None:
    """A page module must define ``page(request)``."""
    with pytest.raises(AppError, match="page"):
        load(make_app(tmp_path, {}, {"index.py": "x = 1\n"}))


def test_import_errors_propagate(tmp_path: Path) -> None:
    """An island that raises on import stops the load (the renderer reports it and exits 2)."""
    with pytest.raises(ZeroDivisionError):
        load(make_app(tmp_path, {"Bad.py": "1 / 0\n"}, {"index.py": GOOD_PAGE}))


def test_predict_is_reported_in_hello(tmp_path: Path) -> None:
    """``live["predict"]`` defaults to True; an island may turn it off."""
    strict = GOOD_ISLAND.replace('"on": {', '"predict": False, "on": {')
    app = load(make_app(tmp_path, {"Count.py": GOOD_ISLAND, "Strict.py": strict}, {"index.py": GOOD_PAGE}))
    assert app.islands["Count"].describe()["predict"] is True
    assert app.islands["Strict"].describe()["predict"] is False
