"""Start real nowaki processes for tests and stop exactly those, by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_APP = ROOT / "tests" / "conformance" / "app"
DEMO_APP = ROOT / "examples" / "demo"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_READY = re.compile(r"nowaki front on (http://\S+)")


@dataclass
class Front:
    """A running ``nowaki start`` process."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/__nowaki/live"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def renderer_pids(self) -> list[int]:
        """PIDs of this front's renderer children, from the log's start lines."""
        pids = [int(p) for p in re.findall(r"renderer \d+/pid (\d+) up", self.log())]
        return [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def run_front(
    app: Path = FIXTURE_APP,
    env: Mapping[str, str] | None = None,
    renderers: int = 1,
    timeout: float = 20.0,
) -> Iterator[Front]:
    """Start a front on a free loopback port; yield it; SIGTERM it (SIGKILL if stuck)."""
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - outlives this block, closed below
        prefix="nowaki-front-", suffix=".log", delete=False
    )
    full_env = {**os.environ, "NOWAKI_SECRET": "test-secret", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "nowaki.cli", "start", str(app), "--port", "0",
         "--renderers", str(renderers)],
        stdout=log_file, stderr=subprocess.STDOUT, env=full_env,
    )
    log_path = Path(log_file.name)
    try:
        deadline = time.monotonic() + timeout
        while True:
            match = _READY.search(log_path.read_text(errors="replace"))
            if match:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"front did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield Front(process, match.group(1), log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_file.close()
