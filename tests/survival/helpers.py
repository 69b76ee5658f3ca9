"""Processes, a cuttable loopback TCP proxy and small HTTP helpers for the survival tests.

Everything here is plain blocking code (threads and sockets), so both the trio
tests and the browser tests (which run in their own thread) can use it. Fronts
are started and stopped by PID only.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import FIXTURE_APP, Front
from tests.support.processes import clean_env, launch_front
from tests.support.processes import stop as stop_process

TOKEN_ATTR = re.compile(r'<nowaki-live data-island="([^"]*)" data-token="([^"]*)">')
PUBLISH_TOKEN = "tok"
SECRET = "test-secret"
"""What ``tests.support.run_front`` gives its fronts; ``start_front`` uses it too unless told."""

# The islands of /live in page order: the ids the runtime gives them.
CLOCK, POLL, FEED, SEARCH, COUNTER = range(5)


def launch(
    port: int = 0,
    env: Mapping[str, str] | None = None,
    renderers: int = 1,
    app: Path = FIXTURE_APP,
    timeout: float = 30.0,
) -> Front:
    """``python -m nowaki.cli start APP --port PORT`` and wait for its ready line; the caller stops it."""
    args = ["start", str(app), "--host", "127.0.0.1", "--port", str(port), "--renderers", str(renderers)]
    full_env = clean_env(**{"NOWAKI_SECRET": SECRET, **(env or {})})
    return launch_front(args, full_env, "nowaki-survival-", timeout=timeout)


def stop(front: Front, timeout: float = 10.0) -> int:
    """SIGTERM this front (SIGKILL if it hangs) and return its exit status."""
    return stop_process(front.process, timeout)


@contextmanager
def running_front(
    port: int = 0, env: Mapping[str, str] | None = None, renderers: int = 1
) -> Iterator[Front]:
    """A front for the ``with`` block, stopped by PID at the end."""
    front = launch(port, env, renderers)
    try:
        yield front
    finally:
        stop(front)


def log_problems(front: Front) -> list[str]:
    """Error lines and tracebacks in a front's log."""
    return [
        line for line in front.log().splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


def page_tokens(url: str, path: str = "/live") -> list[tuple[str, str]]:
    """``(island, token)`` for every live island of a page, in page order."""
    response = httpx.get(url + path, timeout=10)
    assert response.status_code == 200, response.text
    return TOKEN_ATTR.findall(response.text)


def events_ok(url: str) -> float:
    """``nowaki_events_total{outcome="ok"}`` from the front's Prometheus metrics (0 if absent)."""
    response = httpx.get(url + "/__nowaki/metrics", timeout=10)
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "nowaki_events_total" and sample.labels.get("outcome") == "ok":
                return float(sample.value)
    return 0.0


class TcpProxy:
    """A loopback TCP forwarder that can cut every connection at once and keep listening.

    One accept thread; two pump threads per connection. ``cut`` shuts down and
    closes both sides of every proxied connection, so each peer sees the TCP
    stream end with no WebSocket closing handshake.
    """

    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, name="survival-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The proxy's HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The live socket through the proxy."""
        return f"ws://127.0.0.1:{self.port}/__nowaki/live"

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        self._drop(source, sink)

    def _drop(self, *pair: socket.socket) -> None:
        for sock in pair:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
            with self._lock:
                self._sockets.discard(sock)

    def cut(self) -> None:
        """End every proxied connection abruptly; new connections are still accepted."""
        with self._lock:
            sockets = list(self._sockets)
        self._drop(*sockets)

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._stopping.set()
        self._thread.join(timeout=2)
        with suppress(OSError):
            self._listener.close()
        self.cut()


@contextmanager
def proxy_to(target_port: int) -> Iterator[TcpProxy]:
    """A TcpProxy for the ``with`` block."""
    proxy = TcpProxy(target_port)
    try:
        yield proxy
    finally:
        proxy.close()


def port_of(url: str) -> int:
    """The port of ``http://host:port``."""
    return int(url.rsplit(":", 1)[1].split("/")[0])
