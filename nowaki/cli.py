"""The ``nowaki`` command: start, front, renderer, build, new.

Every front setting is both a flag and a ``NOWAKI_*`` variable (see
``nowaki.front.config.OPTIONS``); a bad value exits 2 with one line saying
what is wrong.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from nowaki.front.config import OPTIONS, ConfigError, Settings

log = logging.getLogger("nowaki")


class UsageError(Exception):
    """A command line that cannot run; printed as one line, exit status 2."""


def _leaves(error: BaseException) -> list[BaseException]:
    """The plain exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _app_folder(raw: str) -> Path:
    app = Path(raw)
    if not app.is_dir():
        raise UsageError(f"app folder {raw!r} does not exist")
    if not any((app / "pages").glob("**/*.py")):
        raise UsageError(f"app folder {raw!r} has no pages (pages/*.py)")
    return app.resolve()


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    flags = {option.name: getattr(args, option.name, None) for option in OPTIONS}
    try:
        return Settings.load(_app_folder(args.app), flags=flags, **extra)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _serve(settings: Settings, addresses: Sequence[str] = (), key: str | None = None) -> int:
    from nowaki.front.pool import PoolStartError, RendererPool
    from nowaki.front.server import run
    from nowaki.front.sources import SocketSource

    if addresses:
        try:
            pool = RendererPool([SocketSource(a, key) for a in addresses], settings.render_timeout)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        pool = RendererPool.of_processes(settings)
    pool.keep_trying = settings.dev
    failed = False
    try:
        trio.run(run, settings, pool)
    except* PoolStartError as group:
        failed = True
        for leaf in _leaves(group):
            print(f"nowaki: {leaf}", file=sys.stderr)
    return 1 if failed else 0


def _start(args: argparse.Namespace) -> int:
    return _serve(_settings(args))


def _dev(args: argparse.Namespace) -> int:
    return _serve(_settings(args, dev=True))


def _front(args: argparse.Namespace) -> int:
    if not args.renderer:
        raise UsageError("nowaki front needs at least one --renderer unix:PATH or tcp:HOST:PORT")
    settings = _settings(args)
    return _serve(settings, args.renderer, args.renderer_key or os.environ.get("NOWAKI_RENDERER_KEY"))


def _build(args: argparse.Namespace) -> int:
    from nowaki.front.static_build import BuildError, build

    settings = _settings(args)
    try:
        written = trio.run(build, settings, Path(args.out))
    except BuildError as exc:
        for line in exc.failures:
            print(f"nowaki build: {line}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def _new(args: argparse.Namespace) -> int:
    from nowaki.scaffold import scaffold

    try:
        created = scaffold(Path(args.name))
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    print(f"created {created}: run `nowaki start {args.name}`")
    return 0


def _publish(args: argparse.Namespace) -> int:
    import json
    import urllib.error
    import urllib.request

    token = os.environ.get("NOWAKI_PUBLISH_TOKEN")
    if not token:
        raise UsageError("set NOWAKI_PUBLISH_TOKEN to the front's publish token")
    try:
        body = json.loads(args.json)
    except ValueError as exc:
        raise UsageError(f"JSON is not valid: {exc}") from None
    if not isinstance(body, dict):
        raise UsageError("JSON must be an object")
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/__nowaki/publish/{args.topic}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode().strip())
    except urllib.error.HTTPError as exc:
        print(f"nowaki publish: {exc.code} {exc.read().decode().strip()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"nowaki publish: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", default=".", help="app folder with islands/ and pages/")
    for option in OPTIONS:
        parser.add_argument(option.flag, dest=option.name, metavar=option.name.upper(),
                            help=f"{option.help} [{option.env}]")


def parser() -> argparse.ArgumentParser:
    """The whole command line, for ``--help`` and for tests."""
    top = argparse.ArgumentParser(
        prog="nowaki",
        description="Server-reactive live islands. NOWAKI_SECRET (env only) signs island tokens.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = commands.add_parser("start", help="serve an app: the front and its renderer pool")
    _add_options(start)
    start.set_defaults(run=_start)

    dev = commands.add_parser("dev", help="like start, but restart renderers and reload browsers "
                              "when app code changes")
    _add_options(dev)
    dev.set_defaults(run=_dev)

    front = commands.add_parser("front", help="serve an app with renderer services (no pool)")
    _add_options(front)
    front.add_argument("--renderer", action="append", metavar="ADDRESS",
                       help="renderer service at unix:PATH or tcp:HOST:PORT (repeatable)")
    front.add_argument("--renderer-key", help="shared key for renderer services [NOWAKI_RENDERER_KEY]")
    front.set_defaults(run=_front)

    commands.add_parser("renderer", help="run one renderer (see `nowaki renderer --help`)",
                        add_help=False)

    build = commands.add_parser("build", help="write every page as static HTML plus the runtime")
    build.add_argument("app", help="app folder")
    build.add_argument("out", help="output folder")
    build.set_defaults(run=_build)

    publish = commands.add_parser(
        "publish", help="apply subscribed handlers to a JSON payload (NOWAKI_PUBLISH_TOKEN)"
    )
    publish.add_argument("topic", help="topic name")
    publish.add_argument("json", help="payload: a JSON object")
    publish.add_argument("--url", default=os.environ.get("NOWAKI_URL", "http://127.0.0.1:8000"),
                         help="the front's base URL [NOWAKI_URL] (default http://127.0.0.1:8000)")
    publish.set_defaults(run=_publish)

    new = commands.add_parser("new", help="scaffold an app: a counter island and an index page")
    new.add_argument("name", help="folder to create")
    new.set_defaults(run=_new)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if argv[:1] == ["renderer"]:
        from nowaki.renderer.__main__ import main as renderer_main

        return renderer_main(argv[1:])
    args = parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except UsageError as exc:
        print(f"nowaki {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
