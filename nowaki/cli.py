"""The ``nowaki`` command: ``start`` (front with its renderer pool) and ``renderer``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import trio

from nowaki.front.config import ConfigError, Settings
from nowaki.front.pool import PoolStartError


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise argparse.ArgumentTypeError(f"port must be a number in 0..65535, not {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return int(text)


def _leaves(error: BaseException) -> list[BaseException]:
    """The plain exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _start(args: argparse.Namespace) -> int:
    app = Path(args.app)
    if not (app / "pages").is_dir():
        print(f"nowaki: {app} is not an app folder (it has no pages/)", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(
            app.resolve(), host=args.host, port=args.port, renderers=args.renderers
        )
    except ConfigError as exc:
        print(f"nowaki: {exc}", file=sys.stderr)
        return 2
    from nowaki.front.server import run

    failed = False
    try:
        trio.run(run, settings)
    except* PoolStartError as group:
        failed = True
        for leaf in _leaves(group):
            print(f"nowaki: {leaf}", file=sys.stderr)
    return 1 if failed else 0


def _renderer(rest: list[str]) -> int:
    from nowaki.renderer.__main__ import main as renderer_main

    return renderer_main(rest)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if argv[:1] == ["renderer"]:
        return _renderer(argv[1:])
    parser = argparse.ArgumentParser(prog="nowaki", description="server-reactive live islands")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="serve an app: the front and its renderer pool")
    start.add_argument("app", nargs="?", default=".", help="app folder (islands/, pages/)")
    start.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    start.add_argument("--port", type=_port, default=None, help="port (default 8000; 0 picks a free one)")
    start.add_argument("--renderers", type=_positive, default=None,
                       help="renderer processes (default: one per core; NOWAKI_RENDERERS)")
    commands.add_parser("renderer", help="run one renderer (see `nowaki renderer --help`)")
    args = parser.parse_args(argv)
    return _start(args)


if __name__ == "__main__":
    sys.exit(main())
