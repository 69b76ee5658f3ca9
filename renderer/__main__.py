"""``python -m nowaki.renderer --app APP [--listen unix:PATH|tcp:HOST:PORT]``."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import traceback
from pathlib import Path

from nowaki.renderer.app import App, AppError, load
from nowaki.renderer.sandbox import DEFAULT_MEMORY, apply
from nowaki.renderer.serve import serve_listener, serve_pipes
from nowaki.renderer.worker import Worker


def _bind(address: str) -> socket.socket:
    """Bind before the sandbox takes the network away (a TCP port must exist first)."""
    kind, _, where = address.partition(":")
    if kind == "unix":
        with_path = Path(where)
        with_path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(where)
    elif kind == "tcp":
        host, _, port = where.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), int(port)))
    else:
        raise SystemExit(f"nowaki renderer: --listen must be unix:PATH or tcp:HOST:PORT, not {address!r}")
    sock.listen(16)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nowaki renderer", description=__doc__)
    parser.add_argument("--app", required=True, help="app folder with islands/ and pages/")
    parser.add_argument("--listen", help="serve on unix:PATH or tcp:HOST:PORT instead of pipes")
    parser.add_argument("--key", default=os.environ.get("NOWAKI_RENDERER_KEY"),
                        help="shared key a front must present (NOWAKI_RENDERER_KEY)")
    parser.add_argument("--deadline", type=float,
                        default=float(os.environ.get("NOWAKI_RENDER_TIMEOUT") or 5),
                        help="seconds per request before it is cut off (NOWAKI_RENDER_TIMEOUT)")
    parser.add_argument("--no-sandbox", action="store_true", help="skip network isolation")
    args = parser.parse_args(argv)
    if args.listen and args.listen.startswith("tcp:") and not args.key:
        parser.error("a TCP renderer runs app code on request: give it --key or NOWAKI_RENDERER_KEY")

    # Keep the protocol on private descriptors; app print()s go to stderr.
    listener = _bind(args.listen) if args.listen else None
    fd_in, fd_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)

    memory = int(os.environ.get("NOWAKI_RENDER_MEMORY", DEFAULT_MEMORY))
    readable = [Path(args.app).resolve(), Path(sys.prefix), Path(sys.base_prefix),
                Path(__file__).resolve().parent.parent]
    active = apply(memory, network=not args.no_sandbox, readable=readable)
    sys.path.insert(0, str(Path(args.app).resolve()))
    app: App | None = None
    failure: str | None = None
    try:
        app = load(Path(args.app))
    except AppError as exc:
        failure = str(exc)
    except Exception:
        # Keep serving, so the front can show why (dev mode shows it in the browser).
        failure = "the app failed to import:\n" + traceback.format_exc(limit=-8)
    if failure is not None:
        print(f"nowaki renderer {os.getpid()}: {failure}", file=sys.stderr)
    else:
        assert app is not None
        print(
            f"nowaki renderer {os.getpid()}: {len(app.islands)} islands, {len(app.pages)} pages; "
            f"sandbox: {', '.join(active) or 'none'}",
            file=sys.stderr,
        )

    def make_worker() -> Worker:
        return Worker(app, shared_key=args.key, timeout=args.deadline, failure=failure)

    if listener is not None:
        print(f"nowaki renderer: listening on {args.listen}", file=sys.stderr)
        return serve_listener(make_worker, listener)
    return serve_pipes(make_worker(), fd_in, fd_out)


if __name__ == "__main__":
    sys.exit(main())
