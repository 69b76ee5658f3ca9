"""Front settings, read from ``NOWAKI_*`` environment variables and CLI flags."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("nowaki.front")


class ConfigError(ValueError):
    """A setting has an unusable value; the message names it."""


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the front needs to know; see the README's configuration table."""

    app: Path
    host: str = "127.0.0.1"
    port: int = 8000
    renderers: int = field(default_factory=lambda: os.cpu_count() or 1)
    secret: bytes = b""
    render_timeout: float = 5.0
    live_max: int | None = None
    heartbeat: float = 25.0
    idle_timeout: float = 60.0
    token_ttl: float = 86_400.0
    frame_max: int = 32 * 1024
    state_max: int = 64 * 1024
    islands_max: int = 64
    renderer_memory: int = 1024 * 1024 * 1024
    sandbox: bool = True

    @classmethod
    def from_env(cls, app: Path, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default ``os.environ``), then explicit overrides."""
        env = os.environ if env is None else env
        secret = env.get("NOWAKI_SECRET", "").encode()
        if not secret:
            secret = secrets.token_bytes(32)
            log.warning(
                "NOWAKI_SECRET is not set: using a random secret, so island tokens "
                "will not survive a restart or work across fronts"
            )
        values: dict[str, object] = {
            "app": app,
            "secret": secret,
            "render_timeout": _number(env, "NOWAKI_RENDER_TIMEOUT", 5.0, minimum=0.01),
            "live_max": _optional_int(env, "NOWAKI_LIVE_MAX"),
            "heartbeat": _number(env, "NOWAKI_LIVE_HEARTBEAT", 25.0, minimum=0.01),
            "idle_timeout": _number(env, "NOWAKI_LIVE_TIMEOUT", 60.0, minimum=0.01),
            "token_ttl": _number(env, "NOWAKI_TOKEN_TTL", 86_400.0, minimum=1),
            "frame_max": int(_number(env, "NOWAKI_LIVE_FRAME_MAX", 32 * 1024, minimum=256)),
            "state_max": int(_number(env, "NOWAKI_LIVE_STATE_MAX", 64 * 1024, minimum=16)),
            "islands_max": int(_number(env, "NOWAKI_LIVE_ISLANDS", 64, minimum=1)),
            "renderer_memory": int(
                _number(env, "NOWAKI_RENDER_MEMORY", 1024 * 1024 * 1024, minimum=64 * 1024 * 1024)
            ),
        }
        renderers = _optional_int(env, "NOWAKI_RENDERERS")
        if renderers is not None:
            values["renderers"] = renderers
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.renderers < 1:
            raise ConfigError("the renderer pool needs at least 1 renderer")
        if not 0 <= settings.port < 65536:
            raise ConfigError(f"port must be in 0..65535, not {settings.port}")
        return settings
