"""Front settings: one table of options, each both a ``NOWAKI_*`` variable and a flag.

``OPTIONS`` drives the CLI (flags and ``--help``), the environment reader and
the README's configuration table, so the three cannot drift apart. A flag
beats its variable; an unusable value raises ConfigError naming the setting.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("nowaki.front")

MIB = 1024 * 1024


class ConfigError(ValueError):
    """A setting has an unusable value; the message names it."""


def _number(minimum: float, integer: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value: float = int(raw) if integer else float(raw)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise ValueError(f"must be {kind}, not {raw!r}") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum:g}, not {raw!r}")
        return value

    return parse


def _port(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError(f"must be a port number in 0..65535 (0: any free port), not {raw!r}")
    return int(raw)


def _host(raw: str) -> str:
    if not raw or any(c.isspace() for c in raw):
        raise ValueError(f"must be a host name or address, not {raw!r}")
    return raw


def _switch(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"must be on or off (1 or 0), not {raw!r}")


def _origins(raw: str) -> frozenset[str]:
    origins = frozenset(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())
    for origin in origins:
        if "://" not in origin:
            raise ValueError(f"must list origins like https://example.com, not {origin!r}")
    return origins


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its Settings field, variable, flag, parser and help."""

    name: str
    env: str
    flag: str
    parse: Callable[[str], Any]
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("host", "NOWAKI_HOST", "--host", _host, "address to bind (default 127.0.0.1)"),
    Option("port", "NOWAKI_PORT", "--port", _port, "port to bind (default 8000; 0: any free port)"),
    Option("renderers", "NOWAKI_RENDERERS", "--renderers", _number(1, True),
           "renderer processes in the pool (default: one per core)"),
    Option("render_timeout", "NOWAKI_RENDER_TIMEOUT", "--render-timeout", _number(0.01),
           "seconds a renderer may take per request before it is replaced (default 5)"),
    Option("renderer_memory", "NOWAKI_RENDER_MEMORY", "--render-memory", _number(64 * MIB, True),
           "a renderer's address-space limit in bytes (default 1 GiB)"),
    Option("renderer_cpu", "NOWAKI_RENDER_CPU", "--render-cpu", _number(1, True),
           "CPU seconds a renderer may use in its life before it is replaced (default 3600)"),
    Option("live_max", "NOWAKI_LIVE_MAX", "--live-max", _number(0, True),
           "most live connections; more are refused with 4429 (default: no cap)"),
    Option("heartbeat", "NOWAKI_LIVE_HEARTBEAT", "--heartbeat", _number(0.01),
           "seconds between client pings, told to clients on join (default 25)"),
    Option("idle_timeout", "NOWAKI_LIVE_TIMEOUT", "--live-timeout", _number(0.01),
           "seconds of client silence before the front closes with 4408 (default 60)"),
    Option("presence_interval", "NOWAKI_PRESENCE_INTERVAL", "--presence-interval",
           _number(0.001), "least seconds between presence broadcasts (default 0.25)"),
    Option("token_ttl", "NOWAKI_TOKEN_TTL", "--token-ttl", _number(1),
           "oldest island token accepted on join, in seconds (default 86400)"),
    Option("frame_max", "NOWAKI_LIVE_FRAME_MAX", "--live-frame-max", _number(256, True),
           "largest client frame in bytes; bigger ones close with 1009 (default 32768)"),
    Option("state_max", "NOWAKI_LIVE_STATE_MAX", "--live-state-max", _number(16, True),
           "largest island state in bytes of CBOR (default 65536)"),
    Option("islands_max", "NOWAKI_LIVE_ISLANDS", "--live-islands", _number(1, True),
           "most islands one connection may join (default 64)"),
    Option("event_rate", "NOWAKI_LIVE_RATE", "--live-rate", _number(0.1),
           "events per second one connection may send, on average (default 50)"),
    Option("event_burst", "NOWAKI_LIVE_BURST", "--live-burst", _number(1, True),
           "events one connection may send at once above the rate (default 100)"),
    Option("per_ip_max", "NOWAKI_LIVE_PER_IP", "--live-per-ip", _number(1, True),
           "most live connections from one client address (default 256)"),
    Option("resume_seconds", "NOWAKI_LIVE_RESUME", "--live-resume", _number(0),
           "seconds a dropped connection's island states wait for it to reconnect; 0: off "
           "(default 120)"),
    Option("resume_max", "NOWAKI_LIVE_RESUME_MAX", "--live-resume-max", _number(0, True),
           "dropped connections whose states are kept at once (default 10000)"),
    Option("resume_bytes", "NOWAKI_LIVE_RESUME_BYTES", "--live-resume-bytes", _number(0, True),
           "bytes of kept states at most, oldest dropped first (default 64 MiB)"),
    Option("predict", "NOWAKI_PREDICT", "--predict", _switch,
           "compute an island's next reply ahead when a renderer is idle: the last handler "
           "once more on the new state (default on; islands opt out with live[\"predict\"])"),
    Option("allowed_origins", "NOWAKI_ALLOWED_ORIGINS", "--allowed-origins", _origins,
           "extra origins allowed to open the live socket, comma-separated "
           "(the page's own host is always allowed)"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the front needs to know; see the README's configuration table."""

    app: Path
    host: str = "127.0.0.1"
    port: int = 8000
    renderers: int = field(default_factory=lambda: os.cpu_count() or 1)
    secret: bytes = b""
    render_timeout: float = 5.0
    renderer_memory: int = 1024 * MIB
    renderer_cpu: int = 3600
    live_max: int | None = None
    heartbeat: float = 25.0
    idle_timeout: float = 60.0
    presence_interval: float = 0.25
    token_ttl: float = 86_400.0
    frame_max: int = 32 * 1024
    state_max: int = 64 * 1024
    islands_max: int = 64
    event_rate: float = 50.0
    event_burst: int = 100
    per_ip_max: int = 256
    allowed_origins: frozenset[str] = frozenset()
    predict: bool = True
    resume_seconds: float = 120.0
    resume_max: int = 10_000
    resume_bytes: int = 64 * MIB
    publish_token: str | None = None
    secret_is_random: bool = False
    sandbox: bool = True
    dev: bool = False

    @classmethod
    def load(
        cls,
        app: Path,
        env: Mapping[str, str] | None = None,
        flags: Mapping[str, str | None] | None = None,
        **extra: Any,
    ) -> Settings:
        """Settings from ``env`` (default ``os.environ``), then raw ``flags`` by option name."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {"app": app, **extra}
        for option in OPTIONS:
            for source, label in (
                (env.get(option.env), option.env),
                ((flags or {}).get(option.name), option.flag),
            ):
                if source is None or source == "":
                    continue
                try:
                    values[option.name] = option.parse(source)
                except ValueError as exc:
                    raise ConfigError(f"{label} {exc}") from None
        secret = env.get("NOWAKI_SECRET", "").encode()
        return cls(
            secret=secret or secrets.token_bytes(32),
            secret_is_random=not secret,
            publish_token=env.get("NOWAKI_PUBLISH_TOKEN") or None,
            **values,
        )



def warn_if_random_secret(settings: Settings) -> None:
    """Say so once at start when tokens are signed with a per-process random secret."""
    if settings.secret_is_random:
        log.warning(
            "NOWAKI_SECRET is not set: using a random secret, so island tokens "
            "will not survive a restart or work across fronts"
        )
