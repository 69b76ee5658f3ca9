"""Renders per second of one renderer process over pipes, beside the bare pipe floor and the app alone.

``python -m nowaki.renderer --app bench/app`` is driven directly with framed
CBOR ``event`` requests, one in flight at a time (as the front's pool does):
the counter and the 1,000-row table. The floor is ``bench.floor_pipe`` (decode,
answer a fixed HTML string); "app alone" runs the same handler and render in
this process, with no IPC and no protocol.
"""

from __future__ import annotations

import os
import select
import sys
import time
from typing import Any

from bench.config import Sizes
from bench.procs import BENCH_APP, cpu_seconds, spawn_pipe
from bench.proto import counter_html, island_module
from nowaki.protocol.framing import FrameBuffer, encode_frame


class _Pipe:
    """Sync request/reply over a child's stdin/stdout; every read bounded by ``select``."""

    def __init__(self, stdin: Any, stdout: Any) -> None:
        self._in = stdin
        self._out = stdout.fileno()
        self._frames = FrameBuffer()
        self._inbox: list[dict[str, Any]] = []
        self._ids = 0

    def call(self, fields: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        self._ids += 1
        self._in.write(encode_frame({"id": self._ids, **fields}))
        self._in.flush()
        deadline = time.monotonic() + timeout
        while not self._inbox:
            ready, _, _ = select.select([self._out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"no reply to {fields.get('op')}")
            data = os.read(self._out, 1 << 20)
            if not data:
                raise RuntimeError("the renderer exited")
            self._inbox.extend(self._frames.feed(data))
        reply = self._inbox.pop(0)
        if "ok" not in reply:
            raise RuntimeError(f"renderer error: {reply}")
        body: dict[str, Any] = reply["ok"]
        return body


def _drive(pipe: _Pipe, pid: int, island: str, handler: str, state: Any, seconds: float) -> dict[str, Any]:
    """Events in a row for ``seconds`` (after a short warm-up): renders/s and renderer CPU per render."""
    for _ in range(20):
        state = pipe.call({"op": "event", "island": island, "handler": handler, "state": state,
                           "payload": {}})["state"]
    count, cpu0, began = 0, cpu_seconds(pid), time.perf_counter()
    end = began + seconds
    while time.perf_counter() < end and count < 10_000_000:
        state = pipe.call({"op": "event", "island": island, "handler": handler, "state": state,
                           "payload": {}})["state"]
        count += 1
    took = time.perf_counter() - began
    return {"renders": count, "seconds": took, "per_second": count / took,
            "cpu_us_per_render": (cpu_seconds(pid) - cpu0) / count * 1e6}


def _app_alone(island: str, handler: str, state: Any, seconds: float) -> float:
    """Handler + render in this process, no IPC, no protocol: the app's own CPU µs per render."""
    module = island_module(island)
    apply, render = module["live"]["on"][handler], module["render"]
    count, began = 0, time.process_time()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and count < 10_000_000:
        state = apply(state)
        render(state)
        count += 1
    return (time.process_time() - began) / max(1, count) * 1e6


def measure(sizes: Sizes) -> dict[str, Any]:
    seconds = sizes.renderer_seconds
    cases = {
        "counter": ("Counter", "inc", {"count": 0}),
        "table": ("Table", "bump", {"rows": 1000, "hot": 0, "value": 0}),
    }
    result: dict[str, Any] = {}
    argv = [sys.executable, "-m", "nowaki.renderer", "--app", str(BENCH_APP)]
    with spawn_pipe(argv) as process:
        pipe = _Pipe(process.stdin, process.stdout)
        pipe.call({"op": "hello", "version": 1}, timeout=30)
        for name, (island, handler, state) in cases.items():
            result[name] = _drive(pipe, process.pid, island, handler, state, seconds)
    html_bytes = len(counter_html(1000).encode())
    with spawn_pipe([sys.executable, "-m", "bench.floor_pipe", str(html_bytes)]) as process:
        pipe = _Pipe(process.stdin, process.stdout)
        result["floor_pipe"] = _drive(pipe, process.pid, "Counter", "inc", {"count": 0}, seconds)
    for name, (island, handler, state) in cases.items():
        result[name]["app_alone_cpu_us"] = _app_alone(island, handler, state, min(seconds, 1.0))
    return result
