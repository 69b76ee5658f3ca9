"""The one home of the harness code the suites (and the bench) share.

- ``paths``: the checkout, the fixture apps, Chromium.
- ``processes``: start real nowaki processes, wait for their ready line, stop them by PID.
- ``proc``: what /proc says about a process (RSS, CPU seconds, state, children).
- ``rawws``: raw RFC 6455 clients on sockets (the bench's lean one, the tests' strict one).

Imports go one way: ``bench`` imports from here, nothing here imports ``bench``.
The test suite must run on its own (``make test`` never touches the bench),
while the bench always runs from the same checkout (``python -m bench.run`` at
the root), so ``tests.support`` is there for it.

The names most tests want are re-exported here.
"""

from tests.support.paths import CHROMIUM, CHROMIUM_ARGS, DEMO_APP, FIXTURE_APP, ROOT
from tests.support.processes import Front, run_front

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DEMO_APP", "FIXTURE_APP", "ROOT", "Front", "run_front"]
