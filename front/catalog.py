"""What the renderers serve, as their ``hello`` describes it: islands and page routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class IslandInfo:
    """One island's contract: handlers, timers, topics, scope and whether replies may be predicted."""

    handlers: frozenset[str]
    every: dict[str, float] = field(default_factory=dict)
    subscribe: dict[str, str] = field(default_factory=dict)
    shared: bool = False
    predict: bool = True

    @classmethod
    def from_hello(cls, info: dict[str, Any]) -> IslandInfo:
        return cls(
            handlers=frozenset(info.get("handlers") or ()),
            every={str(k): float(v) for k, v in (info.get("every") or {}).items()},
            subscribe={str(k): str(v) for k, v in (info.get("subscribe") or {}).items()},
            shared=info.get("scope") == "shared",
            predict=info.get("predict", True) is not False,
        )


class Catalog:
    """Islands by name and the set of page routes."""

    def __init__(self, hello: dict[str, Any] | None = None) -> None:
        hello = hello or {}
        self.islands: dict[str, IslandInfo] = {
            name: IslandInfo.from_hello(info) for name, info in (hello.get("islands") or {}).items()
        }
        self.pages: frozenset[str] = frozenset(hello.get("pages") or ())
