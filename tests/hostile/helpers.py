"""Shared helpers for the hostile suite: a secret-bearing clean environment, an async front, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx

from tests.support import Front
from tests.support.processes import FRONT_READY, await_ready, clean_env, nowaki_argv, spawn_logged, stop_async


def base_env(**extra: str) -> dict[str, str]:
    """This environment without NOWAKI_* variables, plus a secret and ``extra``."""
    return clean_env(**{"NOWAKI_SECRET": "hostile-secret", **extra})


@asynccontextmanager
async def front_process(
    args: Sequence[str], env: dict[str, str], timeout: float = 30.0
) -> AsyncIterator[Front]:
    """``nowaki ARGS --port 0`` started without blocking the trio loop; SIGTERM/SIGKILL by PID after."""
    process, log_path = spawn_logged(nowaki_argv(*args, "--port", "0"), env, "nowaki-hostile-")
    try:
        match = await await_ready(FRONT_READY, process, log_path, "front", timeout)
        yield Front(process, match.group(1), log_path)
    finally:
        await stop_async(process)


async def health(front: Front) -> tuple[int, dict[str, object]]:
    """Status code and JSON body of ``/__nowaki/health``."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(front.url + "/__nowaki/health")
    return response.status_code, response.json()
