"""Conformance options: which renderer command and which front the suite drives.

``--renderer-cmd`` is a command line with ``{app}`` (the fixture app's path)
and optionally ``{python}`` (this interpreter) placeholders; it is split like
a shell would (``shlex``) and run directly, so its PID is the renderer's.
``--front-url`` points at a running front serving ``tests/conformance/app``;
without it the suite starts one itself (2 renderers, NOWAKI_RENDER_TIMEOUT=2).
Against a given front, ``--front-secret`` must be its ``NOWAKI_SECRET`` for
the tests that mint tokens, and ``--render-timeout`` its NOWAKI_RENDER_TIMEOUT
(default: SPEC's 5 s).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from tests.support import FIXTURE_APP

DEFAULT_RENDERER_CMD = "{python} -m nowaki.renderer --app {app}"
OWN_FRONT_SECRET = "test-secret"  # what tests.support.run_front gives its fronts
OWN_FRONT_TIMEOUT = 2.0  # the session ``front`` fixture's NOWAKI_RENDER_TIMEOUT
SPEC_RENDER_TIMEOUT = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the options; works for ``pytest tests/conformance`` and plain ``pytest``."""
    group = parser.getgroup("nowaki-conformance", "nowaki conformance targets")
    group.addoption("--renderer-cmd", default=DEFAULT_RENDERER_CMD,
                    help="renderer command with {app} (and {python}) placeholders "
                         f"(default: {DEFAULT_RENDERER_CMD!r})")
    group.addoption("--front-url", default=None,
                    help="http://HOST:PORT of a running front serving tests/conformance/app "
                         "(default: start one)")
    group.addoption("--front-secret", default=None,
                    help=f"NOWAKI_SECRET of the --front-url front (default: {OWN_FRONT_SECRET!r})")
    group.addoption("--render-timeout", type=float, default=None,
                    help="NOWAKI_RENDER_TIMEOUT of the --front-url front in seconds (default: 5)")


def _option(config: pytest.Config, name: str) -> str | float | None:
    # getoption's default covers a run where this conftest was loaded after the command line was parsed.
    value: str | float | None = config.getoption(name, default=None)
    return value


@pytest.fixture(scope="session")
def renderer_argv(pytestconfig: pytest.Config) -> list[str]:
    """The renderer command, split into argv, for the fixture app."""
    template = str(_option(pytestconfig, "renderer_cmd") or DEFAULT_RENDERER_CMD)
    command = template.replace("{python}", shlex.quote(sys.executable))
    command = command.replace("{app}", shlex.quote(str(FIXTURE_APP)))
    return shlex.split(command)


@pytest.fixture(scope="session")
def external_front(pytestconfig: pytest.Config) -> bool:
    """True when the suite drives a front it did not start."""
    return bool(_option(pytestconfig, "front_url"))


@pytest.fixture(scope="session")
def front_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    """Base URL (``http://host:port``) of the front under test."""
    given = _option(pytestconfig, "front_url")
    if given:
        return str(given).rstrip("/")
    url: str = request.getfixturevalue("front").url
    return url


@pytest.fixture(scope="session")
def ws_url(front_url: str) -> str:
    """The live socket URL of the front under test."""
    return front_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/__nowaki/live"


@pytest.fixture(scope="session")
def front_secret(pytestconfig: pytest.Config) -> bytes:
    """The signing secret of the front under test (to mint expired or unknown-island tokens)."""
    return str(_option(pytestconfig, "front_secret") or OWN_FRONT_SECRET).encode()


@pytest.fixture(scope="session")
def render_timeout(pytestconfig: pytest.Config, external_front: bool) -> float:
    """NOWAKI_RENDER_TIMEOUT of the front under test."""
    given = _option(pytestconfig, "render_timeout")
    if given is not None:
        return float(given)
    return SPEC_RENDER_TIMEOUT if external_front else OWN_FRONT_TIMEOUT


@pytest.fixture(scope="session")
def fixture_app() -> Path:
    """The conformance fixture app folder."""
    return FIXTURE_APP
