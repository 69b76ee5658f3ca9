"""Load an app folder: ``islands/*.py`` and ``pages/*.py``, checked once at start."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


class AppError(Exception):
    """The app folder is unusable: missing, or a module breaks the authoring contract."""


@dataclass(frozen=True, slots=True)
class Island:
    """One island module: its initial state, handlers and render function."""

    name: str
    make_state: Callable[..., Any]
    handlers: dict[str, Callable[..., Any]]
    render: Callable[[Any], Any]
    every: dict[str, float] = field(default_factory=dict)
    """Timers: handler name → seconds between server-side applications."""
    subscribe: dict[str, str] = field(default_factory=dict)
    """Topics: topic → handler applied with each published payload."""
    shared: bool = False
    """One state per island name and props, shared by every viewer."""
    predict: bool = True
    """The front may apply a handler ahead of the event (the island's handlers are pure)."""

    def describe(self) -> dict[str, Any]:
        """What ``hello`` tells the front about this island."""
        return {
            "handlers": sorted(self.handlers),
            "every": self.every,
            "subscribe": self.subscribe,
            "scope": "shared" if self.shared else "connection",
            "predict": self.predict,
        }


@dataclass(frozen=True, slots=True)
class App:
    """Everything a renderer serves."""

    root: Path
    islands: dict[str, Island]
    pages: dict[str, Callable[..., Any]]


def _import(path: Path, name: str) -> ModuleType:
    """Execute ``path`` as module ``name`` from its source, never from ``__pycache__``.

    Bytecode caches are keyed on whole-second mtimes and sizes, so two quick
    saves of the same length (``nowaki dev``) could run stale code.
    """
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    return module


def _island(path: Path) -> Island:
    module = _import(path, f"nowaki_app.islands.{path.stem}")
    live = getattr(module, "live", None)
    render = getattr(module, "render", None)
    if not isinstance(live, dict) or not callable(live.get("state")):
        raise AppError(f"{path}: needs `live = {{\"state\": callable, \"on\": {{...}}}}`")
    handlers = live.get("on", {})
    if not isinstance(handlers, dict) or not all(
        isinstance(k, str) and callable(v) for k, v in handlers.items()
    ):
        raise AppError(f"{path}: live[\"on\"] must map handler names to callables")
    if not callable(render):
        raise AppError(f"{path}: needs a `render(state)` function")
    # Names starting with "_" are never handlers: no dunder can be reached from a browser.
    public = {k: v for k, v in handlers.items() if not k.startswith("_")}
    every = live.get("every", {})
    if not isinstance(every, dict) or not all(
        k in public and isinstance(v, int | float) and v >= 0.01 for k, v in every.items()
    ):
        raise AppError(f"{path}: live[\"every\"] must map handler names to seconds (>= 0.01)")
    subscribe = live.get("subscribe", {})
    if not isinstance(subscribe, dict) or not all(
        isinstance(k, str) and v in public for k, v in subscribe.items()
    ):
        raise AppError(f"{path}: live[\"subscribe\"] must map topics to handler names")
    scope = live.get("scope", "connection")
    if scope not in ("connection", "shared"):
        raise AppError(f"{path}: live[\"scope\"] must be \"connection\" or \"shared\"")
    predict = live.get("predict", True)
    if not isinstance(predict, bool):
        raise AppError(f"{path}: live[\"predict\"] must be True or False")
    return Island(
        path.stem, live["state"], public, render,
        every={k: float(v) for k, v in every.items()}, subscribe=dict(subscribe),
        shared=scope == "shared", predict=predict,
    )


def route_of(path: Path, pages_dir: Path) -> str:
    """``pages/index.py`` → ``/``; ``pages/about.py`` → ``/about``; ``pages/a/index.py`` → ``/a``."""
    parts = list(path.relative_to(pages_dir).with_suffix("").parts)
    if parts[-1] == "index":
        parts.pop()
    return "/" + "/".join(parts)


def load(root: Path) -> App:
    """Import every island and page of the app at ``root``."""
    if not root.is_dir():
        raise AppError(f"app folder {root} does not exist")
    islands: dict[str, Island] = {}
    for path in sorted((root / "islands").glob("*.py")):
        if not path.stem.startswith("_"):
            islands[path.stem] = _island(path)
    pages: dict[str, Callable[..., Any]] = {}
    pages_dir = root / "pages"
    for path in sorted(pages_dir.rglob("*.py")):
        if path.stem.startswith("_"):
            continue
        route = route_of(path, pages_dir)
        dotted = route.strip("/").replace("/", ".") or "index"
        module = _import(path, f"nowaki_app.pages.{dotted}")
        page = getattr(module, "page", None)
        if not callable(page):
            raise AppError(f"{path}: needs a `page(request)` function")
        pages[route] = page
    if not pages:
        raise AppError(f"app folder {root} has no pages (pages/*.py)")
    return App(root, islands, pages)
