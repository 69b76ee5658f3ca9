"""``make bench``: every measurement, its floor from the same run, the ratio and the target.

    python -m bench.run            # full run, writes bench/results.json and bench/results.md
    python -m bench.run --quick    # small sizes for development, writes bench/results-quick.*
    python -m bench.run --only latency,wire

Sections run one after another, each starting and stopping its own servers
(by PID). A section that fails is reported as failing rows; the others still run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from bench import browser, crowds, latency, renderer, report, wire
from bench.config import FULL, QUICK, Sizes, override
from bench.procs import ROOT, raise_file_limit, run_floor, run_front
from bench.proto import counter_html, counter_reply, join_text, page_tokens

SECTIONS = ("latency", "renderer", "idle", "churn", "fanout")
PRESENCE_INTERVAL = 0.25  # the front's default, used by the churn bounds
IDLE_PRESENCE_INTERVAL = 5.0  # for the 5,000-connection fronts only (see section_idle)
MIN_SECTION = 20.0  # seconds of budget a section needs to be started at all


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def section_latency(sizes: Sizes, results: dict[str, Any]) -> None:
    """Round trip and throughput (echo, chain, ours interleaved), wire bytes, runtime, browser."""
    reply = counter_reply()
    html_bytes = len(counter_html(1000).encode())
    with run_floor("echo", reply, html_bytes) as echo, run_floor("chain", reply, html_bytes) as chain, \
            run_floor("hyper", reply, html_bytes) as hyper, run_front() as front, \
            run_front(env={"NOWAKI_PREDICT": "off"}) as unpredicted:
        token = page_tokens(front.url)["Counter"]
        pids = {"front": front.pid, **{f"renderer{i}": pid for i, pid in enumerate(front.renderer_pids())}}
        sides = [
            latency.floor_side("echo", echo.ws_url, {"server": echo.pid}),
            latency.floor_side("chain", chain.ws_url, {"server": chain.pid, "pipe": chain.pipe_pid or 0}),
            latency.floor_side("hyper", hyper.ws_url, {"server": hyper.pid}, throughput=False),
            latency.ours_side(front.ws_url, pids, token),
            # Diagnostics: the same counter with every prediction wrong, and with prediction off.
            latency.ours_side(front.ws_url, pids, token, "mispredicted", latency.INC_DEC, throughput=False),
            latency.ours_side(unpredicted.ws_url, {"front": unpredicted.pid, **{
                f"renderer{i}": pid for i, pid in enumerate(unpredicted.renderer_pids())}},
                page_tokens(unpredicted.url)["Counter"], "unpredicted"),
        ]
        results["latency"] = trio.run(latency.measure, sides, sizes)
        _say("latency done; wire bytes")
        results["wire"] = trio.run(wire.measure, front, sizes)
        results["runtime"] = wire.runtime(front)
        _say("browser")
        try:
            results["browser"] = browser.measure(front, echo, sizes, unpredicted)
        except Exception as exc:
            results.setdefault("errors", {})["browser"] = repr(exc)
            traceback.print_exc()


def section_renderer(sizes: Sizes, results: dict[str, Any]) -> None:
    results["renderer"] = renderer.measure(sizes)


def section_idle(sizes: Sizes, results: dict[str, Any]) -> None:
    """Idle RSS per connection (floor, then ours) and round trips with 10 vs N held."""
    with run_floor("echo", counter_reply(), 100) as echo:
        floor = trio.run(crowds.idle_floor, echo, sizes, _say)
    _say(f"idle floor: {floor['kib_per_conn']:.1f} KiB/conn over {floor['conns']} in "
         f"{floor['open_seconds']:.1f} s")
    # The ramp to thousands of joined sockets at the default 0.25 s presence interval costs the
    # front O(N) presence messages per round (quadratic over the ramp) and would not finish in the
    # time budget; the churn row measures that cost. After the ramp nothing changes, so the
    # interval does not matter to idle memory or to round trips.
    env = {"NOWAKI_PRESENCE_INTERVAL": str(IDLE_PRESENCE_INTERVAL)}
    with run_front(env) as small, run_front(env) as big:
        ours = trio.run(crowds.scaling, small, big, sizes, _say)
    ours["idle"]["presence_interval"] = IDLE_PRESENCE_INTERVAL
    results["idle"] = {"floor": floor, "ours": ours["idle"], "scaling": ours["scaling"]}


def section_churn(sizes: Sizes, results: dict[str, Any]) -> None:
    with run_front() as front:
        prepare = crowds.joiner(join_text([page_tokens(front.url)["Counter"]]))
        ours = trio.run(crowds.churn, front.ws_url, front.pid, prepare, sizes, PRESENCE_INTERVAL, True)
    with run_floor("echo", counter_reply(), 100) as echo:
        floor = trio.run(crowds.churn, echo.ws_url, echo.pid, crowds.echo_once, sizes,
                         PRESENCE_INTERVAL, False)
    results["churn"] = {"ours": ours, "floor": floor}


def section_fanout(sizes: Sizes, results: dict[str, Any]) -> None:
    with run_front() as front:
        results["fanout"] = trio.run(crowds.fanout, front, sizes)


RUNNERS: dict[str, Callable[[Sizes, dict[str, Any]], None]] = {
    "latency": section_latency,
    "renderer": section_renderer,
    "idle": section_idle,
    "churn": section_churn,
    "fanout": section_fanout,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (development), ~1 minute")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)})")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override one size (see bench/config.py), e.g. --set idle_conns=1500")
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="folder for the results files")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in RUNNERS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    sizes = QUICK if args.quick else FULL
    try:
        sizes = override(sizes, args.set)
    except ValueError as exc:
        parser.error(str(exc))
    raise_file_limit()
    began = time.perf_counter()
    load_start = os.getloadavg()[0]
    results: dict[str, Any] = {"section_seconds": {}}
    deadline = began + sizes.budget
    for name in chosen:
        remaining = deadline - time.perf_counter()
        if remaining < MIN_SECTION:
            results.setdefault("errors", {})[name] = f"skipped: {sizes.budget:.0f} s time budget spent"
            _say(f"{name} skipped: out of time")
            continue
        _say(f"{name} ({sizes.mode}; {remaining:.0f} s of budget left)")
        start = time.perf_counter()
        # Opening thousands of sockets is the open-ended part: it may use a share of what is left.
        bounded = replace(sizes, open_time_limit=min(sizes.open_time_limit, max(20.0, remaining * 0.3)))
        try:
            RUNNERS[name](bounded, results)
        except Exception as exc:
            results.setdefault("errors", {})[name] = repr(exc)[:500]
            traceback.print_exc()
        results["section_seconds"][name] = time.perf_counter() - start
        _say(f"{name} took {results['section_seconds'][name]:.1f} s")
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": report.git_commit(),
        "mode": sizes.mode + ("" if chosen == list(SECTIONS) else f" ({','.join(chosen)})")
        + "".join(f" {item}" for item in args.set),
        "wall_seconds": time.perf_counter() - began,
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }
    rows = report.build_rows(results)
    canonical = sizes.mode == "full" and not args.set and chosen == list(SECTIONS)
    stem = "results" if canonical else "results-quick"  # partial or tweaked runs never replace results.*
    rendered = report.write(args.out, stem, meta, results, rows)
    print(rendered)
    print(f"\nwall {meta['wall_seconds']:.0f} s; wrote {args.out / (stem + '.md')} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
