"""Shared helpers for the hostile suite: async front start, RSS, raw WebSocket client."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
import trio

from tests.support import ROOT, Front

READY = re.compile(r"nowaki front on (http://\S+)")


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def base_env(**extra: str) -> dict[str, str]:
    """This environment without NOWAKI_* variables, plus a secret and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOWAKI_")}
    env["PYTHONPATH"] = str(ROOT)
    env["NOWAKI_SECRET"] = "hostile-secret"
    return {**env, **extra}


@asynccontextmanager
async def front_process(
    args: Sequence[str], env: dict[str, str], timeout: float = 30.0
) -> AsyncIterator[Front]:
    """``nowaki ARGS --port 0`` started without blocking the trio loop; SIGTERM/SIGKILL by PID after."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        prefix="nowaki-hostile-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "nowaki.cli", *args, "--port", "0"],
        stdout=handle, stderr=subprocess.STDOUT, env=env,
    )
    log_path = Path(handle.name)
    try:
        with trio.fail_after(timeout):
            while True:
                match = READY.search(log_path.read_text(errors="replace"))
                if match:
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"front did not start:\n{log_path.read_text()}")
                await trio.sleep(0.05)
        yield Front(process, match.group(1), log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with trio.move_on_after(10):
                while process.poll() is None:
                    await trio.sleep(0.05)
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        handle.close()


async def health(front: Front) -> tuple[int, dict[str, object]]:
    """Status code and JSON body of ``/__nowaki/health``."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(front.url + "/__nowaki/health")
    return response.status_code, response.json()


class RawWebSocket:
    """A minimal blocking WebSocket client that writes frames and only reads when asked."""

    def __init__(self, ws_url: str, rcvbuf: int = 4096) -> None:
        host_port = ws_url.split("//", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /__nowaki/live HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "handshake cut"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        """Send one masked text frame (blocks while the server does not read)."""
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        """Abort the socket."""
        with suppress(OSError):
            self.sock.close()
